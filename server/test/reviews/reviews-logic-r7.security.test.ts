// Business-logic round 7 (reviews): "closed studies take no writes in any room" held for cases,
// questionnaires, experiments and assignments, but a closed study's title and description could
// still be edited and its team still grew (a participant added, with an invitation mailed to a
// new address; a researcher added). Both now answer 409 until the owner reopens the study; taking
// someone off the team of a closed study still works, since it only removes access.
import { expect, it } from 'vitest';
import { describeClinic } from '../clinical-actors.js';
import { addParticipant, createStudyWorld } from '../review-actors.js';
import { createActor } from '../actors.js';

describeClinic('reviews logic r7: a closed study takes no writes', (clinic) => {
  it('state machine: a closed study refuses edits to its title and description (409), and takes them again once reopened', async () => {
    const world = await createStudyWorld(clinic.app, { status: 'closed', title: 'Original' });
    const url = `/api/studies/${world.studyId}`;
    const edit = await clinic.call(world.owner, 'PATCH', url, { title: 'Changed after closing' });
    expect(edit.statusCode, edit.body).toBe(409);
    const [row] = await clinic.rows('studies', { id: world.studyId });
    expect(row?.title).toBe('Original');
    expect(
      await clinic.rows('audit_events', { action: 'study.updated', target_id: world.studyId }),
    ).toEqual([]);
  });

  it('state machine: a closed study takes no new participant (no account, no invitation) and no new researcher (409)', async () => {
    const world = await createStudyWorld(clinic.app, { status: 'closed' });
    const email = `closed-${world.studyId.slice(0, 8)}@example.org`;
    const invited = await clinic.call(
      world.owner,
      'POST',
      `/api/studies/${world.studyId}/participants`,
      { email },
    );
    expect(invited.statusCode, invited.body).toBe(409);
    expect(await clinic.rows('users', { email_normalized: email })).toEqual([]);

    const existing = await createActor(clinic.app, ['participant']);
    const joined = await clinic.call(
      world.owner,
      'POST',
      `/api/studies/${world.studyId}/participants`,
      { email: existing.email },
    );
    expect(joined.statusCode, joined.body).toBe(409);

    const researcher = await createActor(clinic.app, ['researcher']);
    await clinic.addMember(world.organizationId, researcher, 'researcher');
    const added = await clinic.call(
      world.owner,
      'POST',
      `/api/studies/${world.studyId}/researchers`,
      { email: researcher.email },
    );
    expect(added.statusCode, added.body).toBe(409);
    const team = await clinic.rows('study_members', { study_id: world.studyId });
    expect(team.map((m) => m.role)).toEqual(['owner']);
  });

  it('state machine: a member can still be taken off a closed study’s team, and a reopened study takes new members', async () => {
    const world = await createStudyWorld(clinic.app, { status: 'active' });
    const participant = await addParticipant(clinic.app, world.studyId);
    await clinic.db
      .updateTable('studies')
      .set({ status: 'closed' })
      .where('id', '=', world.studyId)
      .execute();
    const removed = await clinic.call(
      world.owner,
      'DELETE',
      `/api/studies/${world.studyId}/members/${participant.userId}`,
    );
    expect(removed.statusCode, removed.body).toBe(204);

    await clinic.db
      .updateTable('studies')
      .set({ status: 'active' })
      .where('id', '=', world.studyId)
      .execute();
    const edit = await clinic.call(world.owner, 'PATCH', `/api/studies/${world.studyId}`, {
      title: 'Reopened',
    });
    expect(edit.statusCode, edit.body).toBe(200);
  });
});
