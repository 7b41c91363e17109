// Reviews controls a seventh mutation hunt found no test for: a participant removed from a study
// loses their assignments themselves, not only the study list and the next case (Z4: the
// assignment's own access check reads the membership); a closed study's experiments no longer
// change (Z4); assignment uploads (up to 1,000 rows or
// an AugMed sheet) count in the strict upload rate class (R1).
import { beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import {
  addParticipant,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  insertStudy,
  type StudyWorld,
} from '../../../test/review-actors.js';

describeClinic('reviews controls (round 7)', (clinic) => {
  it('Z4 — a participant removed from a study can no longer open or act on their assignments in it (404)', async () => {
    const study = await createStudyWorld(clinic.app);
    await insertPublishedQuestionnaire(clinic.db, study.studyId);
    const participant = await addParticipant(clinic.app, study.studyId);
    const caseId = await insertCase(clinic.db, study.studyId, 'case-r7-removed');
    const assignmentId = await insertAssignment(
      clinic.db,
      study.studyId,
      participant.userId,
      caseId,
    );
    const url = `/api/reviews/assignments/${assignmentId}`;
    const event = { type: 'case_opened', clientAt: '2026-01-01T00:00:00Z' };
    // While on the team the participant opens the assignment and records an event.
    const open = await clinic.call(participant, 'GET', url);
    expect(open.statusCode, open.body).toBe(200);
    const before = await clinic.call(participant, 'POST', `${url}/events`, event);
    expect(before.statusCode, before.body).toBe(204);
    const timingsBefore = await clinic.rows('review_timings', { assignment_id: assignmentId });

    const removed = await clinic.call(
      study.owner,
      'DELETE',
      `/api/studies/${study.studyId}/members/${participant.userId}`,
    );
    expect(removed.statusCode, removed.body).toBe(204);

    const read = await clinic.call(participant, 'GET', url);
    expect(read.statusCode, read.body).toBe(404);
    const after = await clinic.call(participant, 'POST', `${url}/events`, event);
    expect(after.statusCode, after.body).toBe(404);
    expect(await clinic.rows('review_timings', { assignment_id: assignmentId })).toHaveLength(
      timingsBefore.length,
    );
  });

  it('Z4 — a closed study’s experiments no longer change: no new experiment, no new arm (409)', async () => {
    const world = await createStudyWorld(clinic.app);
    const studyId = await insertStudy(clinic.db, world.organizationId, world.owner.userId, {
      status: 'draft',
    });
    const display = { showAiScore: false, features: [{ path: 'vitals/spo2', hidden: true }] };
    const body = {
      name: 'AI score shown or not',
      arms: [
        { name: 'Shown', display: { ...display, showAiScore: true } },
        { name: 'Hidden', display },
      ],
    };
    const base = `/api/studies/${studyId}/experiments`;
    const created = await clinic.call(world.owner, 'POST', base, body);
    expect(created.statusCode, created.body).toBe(201);
    const experimentId = created.json<{ experiment: { id: string } }>().experiment.id;
    await clinic.db
      .updateTable('studies')
      .set({ status: 'closed' })
      .where('id', '=', studyId)
      .execute();

    const arm = await clinic.call(world.owner, 'POST', `${base}/${experimentId}/arms`, {
      name: 'Late arm',
      display,
    });
    expect(arm.statusCode, arm.body).toBe(409);
    const another = await clinic.call(world.owner, 'POST', base, { ...body, name: 'Second look' });
    expect(another.statusCode, another.body).toBe(409);
    expect(await clinic.rows('experiment_arms', { experiment_id: experimentId })).toHaveLength(2);
    expect(await clinic.rows('experiments', { study_id: studyId })).toHaveLength(1);
    // Reading them stays open.
    const listed = await clinic.call(world.owner, 'GET', base);
    expect(listed.statusCode, listed.body).toBe(200);
  });
});

describeClinic(
  'reviews upload rate class (round 7)',
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_UPLOAD: '2/60' } },
  (clinic) => {
    let world: StudyWorld;
    let participant: Actor;

    beforeAll(async () => {
      world = await createStudyWorld(clinic.app);
      await insertPublishedQuestionnaire(clinic.db, world.studyId);
      participant = await addParticipant(clinic.app, world.studyId);
    });

    it('R1 — creating assignments counts in the strict upload class: the third upload in the window is 429', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const caseId = await insertCase(clinic.db, world.studyId, `case-r7-rate-${i}`);
        const res = await clinic.app.inject({
          method: 'POST',
          url: `/api/studies/${world.studyId}/assignments`,
          remoteAddress: '203.0.113.71',
          headers: { authorization: world.owner.authorization },
          payload: { assignments: [{ participantId: participant.userId, caseId }] },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([201, 201, 429]);
    });
  },
);
