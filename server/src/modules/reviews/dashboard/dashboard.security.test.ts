// The study dashboard over HTTP (docs/api/reviews.md "Dashboard and exports"): progress per
// participant and arm, attention pass rate, median and IQR of durations, inter-rater agreement
// (Cohen for two raters, Fleiss for more, per arm); and who may see it (Z4, Z2).
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import {
  addParticipant,
  addStudyMember,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  type StudyWorld,
  ATTENTION_BLUE,
} from '../../../../test/review-actors.js';
import type { AgreementView, DashboardView } from './schemas.js';

describeClinic('reviews: dashboard', (clinic) => {
  const call = clinic.call;
  let world: StudyWorld;
  let versionId: string;
  let armId: string;
  const raters: Actor[] = [];
  const caseIds: string[] = [];
  /** Diagnoses per rater, case by case (rater 3 joins later, making it a Fleiss study). */
  const DIAGNOSES = [
    ['pneumonia', 'pneumonia', 'bronchitis', 'other'],
    ['pneumonia', 'bronchitis', 'bronchitis', 'other'],
    ['pneumonia', 'bronchitis', 'other', 'other'],
  ];

  async function rate(rater: Actor, diagnoses: string[]): Promise<void> {
    const assignments = await clinic.db
      .selectFrom('review_assignments')
      .select(['id', 'case_id', 'position'])
      .where('participant_id', '=', rater.userId)
      .orderBy('position')
      .execute();
    for (const assignment of assignments) {
      const index = caseIds.indexOf(assignment.case_id);
      const res = await call(rater, 'POST', `/api/reviews/assignments/${assignment.id}/answer`, {
        questionnaireVersionId: versionId,
        answers: { diagnosis: diagnoses[index], confidence: 3 },
        ...(assignment.position % 2 === 0
          ? { attention: { answer: index === 1 ? 'red' : 'blue' } }
          : {}),
      });
      expect(res.statusCode).toBe(201);
    }
  }
  const dashboard = async (actor: Actor = world.owner) => {
    const res = await call(actor, 'GET', `/api/studies/${world.studyId}/dashboard`);
    expect(res.statusCode).toBe(200);
    return res.json<DashboardView>();
  };
  const overall = (view: DashboardView, questionId: string): AgreementView =>
    view.agreement.find((a) => a.questionId === questionId && a.armId === null)!;

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app);
    versionId = await insertPublishedQuestionnaire(clinic.db, world.studyId, {
      attentionCheck: ATTENTION_BLUE,
    });
    const experiment = await clinic.db
      .insertInto('experiments')
      .values({ study_id: world.studyId, name: 'AI display' })
      .returning('id')
      .executeTakeFirstOrThrow();
    armId = (
      await clinic.db
        .insertInto('experiment_arms')
        .values({
          experiment_id: experiment.id,
          study_id: world.studyId,
          name: 'Score shown',
          display: JSON.stringify({ showAiScore: true, features: [] }),
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    for (let i = 0; i < 4; i++) caseIds.push(await insertCase(clinic.db, world.studyId, `d-${i}`));
    for (const [index] of DIAGNOSES.entries()) {
      const rater = await addParticipant(clinic.app, world.studyId, `Rater ${index + 1}`);
      raters.push(rater);
      for (const caseId of caseIds) {
        await insertAssignment(clinic.db, world.studyId, rater.userId, caseId, { armId });
      }
    }
  });

  it('reports nothing to agree on before any answer, with a reason', async () => {
    const view = await dashboard();
    expect(view.participants).toHaveLength(3);
    expect(view.participants[0]).toMatchObject({ assigned: 4, answered: 0 });
    expect(view.attention).toEqual({ passed: 0, failed: 0, passRate: null });
    expect(view.durations.total).toEqual({
      count: 0,
      medianMs: null,
      q1Ms: null,
      q3Ms: null,
      iqrMs: null,
    });
    expect(overall(view, 'diagnosis')).toMatchObject({
      method: null,
      kappa: null,
      cases: 0,
      reason: expect.stringMatching(/two or more participants/),
    });
    // Agreement is computed for single-choice questions only.
    expect(view.agreement.some((a) => a.questionId === 'confidence')).toBe(false);
  });

  it("uses Cohen's kappa for cases rated by exactly two participants, overall and per arm", async () => {
    await rate(raters[0]!, DIAGNOSES[0]!);
    await rate(raters[1]!, DIAGNOSES[1]!);
    const view = await dashboard();
    // Po = 3/4; margins (2,1,1) and (1,2,1) of 4: Pe = 5/16; kappa = (12/16 − 5/16)/(11/16) = 7/11.
    for (const result of view.agreement.filter((a) => a.questionId === 'diagnosis')) {
      expect(result).toMatchObject({ method: 'cohen', cases: 4, ratersPerCase: 2, reason: null });
      expect(result.kappa).toBeCloseTo(7 / 11, 10);
    }
    expect(view.agreement.map((a) => a.armId)).toEqual([null, armId]);

    expect(view.arms).toEqual([
      expect.objectContaining({ armId, armName: 'Score shown', assigned: 12, answered: 8 }),
    ]);
    // Attention positions 2 and 4 of each rater: case 2 answered "red" (failed), case 4 passed.
    expect(view.attention).toEqual({ passed: 2, failed: 2, passRate: 0.5 });
    const first = view.participants.find((p) => p.participantId === raters[0]!.userId)!;
    expect(first).toMatchObject({ answered: 4, attentionPassed: 1, attentionFailed: 1 });
  });

  it("uses Fleiss' kappa when every case has three raters", async () => {
    await rate(raters[2]!, DIAGNOSES[2]!);
    const result = overall(await dashboard(), 'diagnosis');
    expect(result).toMatchObject({ method: 'fleiss', cases: 4, ratersPerCase: 3, reason: null });
    // Per case (pneumonia, bronchitis, other): (3,0,0), (1,2,0), (0,2,1), (0,0,3).
    // P̄ = (1 + 1/3 + 1/3 + 1)/4 = 2/3; p = (4, 4, 4)/12: P̄e = 1/3; kappa = (2/3 − 1/3)/(2/3) = 0.5.
    expect(result.kappa).toBeCloseTo(0.5, 10);
    expect(result.alpha).not.toBeNull();
  });

  it('reports median and IQR of the review durations', async () => {
    const timings = await clinic.db
      .selectFrom('review_timings')
      .select('assignment_id')
      .where('study_id', '=', world.studyId)
      .orderBy('assignment_id')
      .execute();
    expect(timings).toHaveLength(12);
    // Durations 1 s … 12 s: median 6.5 s, quartiles 3.75 s and 9.25 s (linear interpolation).
    for (const [index, timing] of timings.entries()) {
      await clinic.db
        .updateTable('review_timings')
        .set({ total_ms: (index + 1) * 1000 })
        .where('assignment_id', '=', timing.assignment_id)
        .execute();
    }
    const view = await dashboard();
    expect(view.durations.total).toEqual({
      count: 12,
      medianMs: 6500,
      q1Ms: 3750,
      q3Ms: 9250,
      iqrMs: 5500,
    });
    expect(view.arms[0]!.durations.medianMs).toBe(6500);
  });

  it('Z4: a researcher of another study gets the 404 of a missing study; Z2: a participant 403', async () => {
    const other = await createStudyWorld(clinic.app);
    const res = await call(other.owner, 'GET', `/api/studies/${world.studyId}/dashboard`);
    expect(res.statusCode).toBe(404);
    const missing = await call(
      other.owner,
      'GET',
      '/api/studies/00000000-0000-4000-8000-000000000000/dashboard',
    );
    expect(missing.statusCode).toBe(404);
    expect(res.json().detail).toBe(missing.json().detail);
    // A participant account holds no studies:read, even when listed as a researcher.
    await addStudyMember(clinic.db, other.studyId, raters[0]!.userId, 'researcher');
    expect(
      (await call(raters[0]!, 'GET', `/api/studies/${other.studyId}/dashboard`)).statusCode,
    ).toBe(403);
  });
});
