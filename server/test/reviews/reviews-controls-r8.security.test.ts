// Reviews threats found by mutation round 8 (Z4): a participant reaching another participant's
// assignment because they hold one of their own; taking someone off one study's team reaching
// every study they are on; and an account that both runs studies and takes part in one seeing
// the study it takes part in among those it runs.
import { expect, it } from 'vitest';
import { createActor } from '../actors.js';
import { describeClinic } from '../clinical-actors.js';
import {
  addParticipant,
  addStudyMember,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  insertStudy,
} from '../review-actors.js';

describeClinic('reviews controls (round 8)', (clinic) => {
  it("Z4/IDOR: a participant with assignments of their own gets 404 for another participant's, and answers nothing there", async () => {
    const world = await createStudyWorld(clinic.app);
    const versionId = await insertPublishedQuestionnaire(clinic.db, world.studyId);
    const caseA = await insertCase(clinic.db, world.studyId, 'case-r8-a');
    const caseB = await insertCase(clinic.db, world.studyId, 'case-r8-b');
    const alice = await addParticipant(clinic.app, world.studyId, 'Alice Participant');
    const bob = await addParticipant(clinic.app, world.studyId, 'Bob Participant');
    const own = await insertAssignment(clinic.db, world.studyId, alice.userId, caseA);
    const bobs = await insertAssignment(clinic.db, world.studyId, bob.userId, caseB);

    // Her own assignment opens: the check is not simply closed.
    const mine = await clinic.call(alice, 'GET', `/api/reviews/assignments/${own}`);
    expect(mine.statusCode, mine.body).toBe(200);

    const read = await clinic.call(alice, 'GET', `/api/reviews/assignments/${bobs}`);
    expect(read.statusCode, read.body).toBe(404);
    const event = await clinic.call(alice, 'POST', `/api/reviews/assignments/${bobs}/events`, {
      type: 'case_opened',
      clientAt: new Date().toISOString(),
    });
    expect(event.statusCode, event.body).toBe(404);
    const answer = await clinic.call(alice, 'POST', `/api/reviews/assignments/${bobs}/answer`, {
      questionnaireVersionId: versionId,
      answers: { diagnosis: 'pneumonia', confidence: 4 },
    });
    expect(answer.statusCode, answer.body).toBe(404);
    expect(await clinic.rows('review_answers', { assignment_id: bobs })).toEqual([]);
  });

  it("Z4/integrity: taking someone off one study's team leaves them on every other study", async () => {
    const first = await createStudyWorld(clinic.app, { title: 'First study R8' });
    const second = await createStudyWorld(clinic.app, { title: 'Second study R8' });
    const participant = await addParticipant(clinic.app, first.studyId);
    await addStudyMember(clinic.db, second.studyId, participant.userId, 'participant');

    const removed = await clinic.call(
      first.owner,
      'DELETE',
      `/api/studies/${first.studyId}/members/${participant.userId}`,
    );
    expect(removed.statusCode, removed.body).toBe(204);

    const [gone] = await clinic.rows('study_members', {
      study_id: first.studyId,
      user_id: participant.userId,
    });
    expect(gone?.removed_at).not.toBeNull();
    const [kept] = await clinic.rows('study_members', {
      study_id: second.studyId,
      user_id: participant.userId,
    });
    expect(kept?.removed_at).toBeNull();
    // And so the other owner's study still opens for them.
    const listed = await clinic.call(participant, 'GET', '/api/reviews/studies');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.body).toContain(second.studyId);
    expect(listed.body).not.toContain(first.studyId);
  });

  it('Z4/exposure: a researcher who only takes part in a colleague’s study does not see it among the studies they run', async () => {
    const world = await createStudyWorld(clinic.app, { title: 'Colleague study R8' });
    const both = await createActor(clinic.app, ['researcher', 'participant']);
    await clinic.addMember(world.organizationId, both, 'researcher');
    await addStudyMember(clinic.db, world.studyId, both.userId, 'participant');
    const ownStudy = await insertStudy(clinic.db, world.organizationId, both.userId, {
      title: 'Own study R8',
    });

    const runs = await clinic.call(both, 'GET', '/api/studies');
    expect(runs.statusCode, runs.body).toBe(200);
    expect(runs.body).toContain(ownStudy);
    expect(runs.body).not.toContain(world.studyId);
    expect(runs.body).not.toContain('Colleague study R8');
    // Taking part still works where it should.
    const takes = await clinic.call(both, 'GET', '/api/reviews/studies');
    expect(takes.body).toContain(world.studyId);
  });
});
