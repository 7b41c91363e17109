// Z4 for a study's dashboard and exports: every figure and every row is the study's own. Two
// studies of two organizations collect answers side by side (one participant rates in both, with
// an arm in one only); the dashboard and the four exports of study A must then show A's
// participants, arms, attention results, durations, agreement and rows, and nothing of B's. Each
// query keys its rows by the study the access check returned: dropping that condition from any
// one of them puts B's data (names, answers, timings) in front of A's team.
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import {
  addParticipant,
  addStudyMember,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  type StudyWorld,
  ATTENTION_BLUE,
} from '../review-actors.js';

interface Durations {
  count: number;
  medianMs: number | null;
  q1Ms: number | null;
  q3Ms: number | null;
}

/** The parts of the dashboard's answer (docs/api/reviews.md) this file reads. */
interface DashboardView {
  participants: Array<{
    participantId: string;
    assigned: number;
    answered: number;
    attentionPassed: number;
    attentionFailed: number;
  }>;
  arms: Array<{ armId: string | null; assigned: number; answered: number; durations: Durations }>;
  attention: { passed: number; failed: number; passRate: number | null };
  durations: Record<'total' | 'reading' | 'answering', Durations>;
  agreement: Array<{
    questionId: string;
    armId: string | null;
    casesRatedBySeveral: number;
    cases: number;
    ratersPerCase: number | null;
  }>;
}

interface Side {
  world: StudyWorld;
  versionId: string;
  raters: Actor[];
  caseIds: string[];
  armId: string | null;
  answerIds: string[];
  assignmentIds: string[];
}

describeClinic('Z4 reviews: dashboard and exports of one study', (clinic) => {
  const call = clinic.call;
  let a: Side;
  let b: Side;

  async function arm(studyId: string): Promise<string> {
    const experiment = await clinic.db
      .insertInto('experiments')
      .values({ study_id: studyId, name: 'AI display' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const row = await clinic.db
      .insertInto('experiment_arms')
      .values({
        experiment_id: experiment.id,
        study_id: studyId,
        name: 'Score shown (B)',
        display: JSON.stringify({ showAiScore: true, features: [] }),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** A study with `cases` cases, each rated by every rater, answers submitted over HTTP. */
  async function side(
    label: string,
    cases: number,
    raters: Actor[],
    options: { withArm: boolean; diagnosis: string; attention: string },
  ): Promise<Side> {
    const world = await createStudyWorld(clinic.app, { title: `Study ${label}` });
    const versionId = await insertPublishedQuestionnaire(clinic.db, world.studyId, {
      attentionCheck: ATTENTION_BLUE,
    });
    const armId = options.withArm ? await arm(world.studyId) : null;
    const caseIds: string[] = [];
    for (let i = 0; i < cases; i++) {
      caseIds.push(await insertCase(clinic.db, world.studyId, `${label}-${i}`));
    }
    const assignmentIds: string[] = [];
    const answerIds: string[] = [];
    for (const rater of raters) {
      await addStudyMember(clinic.db, world.studyId, rater.userId, 'participant');
      for (const caseId of caseIds) {
        assignmentIds.push(
          await insertAssignment(
            clinic.db,
            world.studyId,
            rater.userId,
            caseId,
            armId ? { armId } : {},
          ),
        );
      }
      const mine = await clinic.db
        .selectFrom('review_assignments')
        .select(['id', 'position'])
        .where('participant_id', '=', rater.userId)
        .where('study_id', '=', world.studyId)
        .orderBy('position')
        .execute();
      for (const assignment of mine) {
        const res = await call(rater, 'POST', `/api/reviews/assignments/${assignment.id}/answer`, {
          questionnaireVersionId: versionId,
          answers: { diagnosis: options.diagnosis, confidence: 3 },
          ...(assignment.position % 2 === 0 ? { attention: { answer: options.attention } } : {}),
        });
        expect(res.statusCode, res.body).toBe(201);
        answerIds.push(res.json<{ answer: { id: string } }>().answer.id);
      }
    }
    return { world, versionId, raters, caseIds, armId, answerIds, assignmentIds };
  }

  const sorted = (values: Iterable<string>) => [...values].sort();

  beforeAll(async () => {
    // One reviewer rates in both studies; the others in one each.
    const shared = await clinic.actor(['participant'], { displayName: 'Dr Both Studies' });
    const onlyA = await clinic.actor(['participant'], { displayName: 'Dr Only A' });
    const onlyB = await clinic.actor(['participant'], { displayName: 'Dr Only B' });
    const extraB = await clinic.actor(['participant'], { displayName: 'Dr Also Only B' });
    // A: 2 cases × 2 raters, no arm, every attention check passed, all "pneumonia".
    a = await side('A', 2, [shared, onlyA], {
      withArm: false,
      diagnosis: 'pneumonia',
      attention: 'blue',
    });
    // B: 3 cases × 3 raters, one arm, every attention check failed, all "bronchitis".
    b = await side('B', 3, [shared, onlyB, extraB], {
      withArm: true,
      diagnosis: 'bronchitis',
      attention: 'red',
    });
    // A participant of B alone, never answering: a name A's team must not see.
    await addParticipant(clinic.app, b.world.studyId, 'Dr Idle In B');
    // Distinct durations per study: A's reviews took 1 s, B's 60 s.
    for (const [s, ms] of [
      [a, 1000],
      [b, 60_000],
    ] as const) {
      await clinic.db
        .updateTable('review_timings')
        .set({ total_ms: ms, reading_ms: ms, answering_ms: ms })
        .where('study_id', '=', s.world.studyId)
        .execute();
    }
  });

  it("Z4/dashboard: a study's dashboard counts its own participants, arms, attention checks, durations and ratings only", async () => {
    const res = await call(a.world.owner, 'GET', `/api/studies/${a.world.studyId}/dashboard`);
    expect(res.statusCode, res.body).toBe(200);
    const view = res.json<DashboardView>();
    // Participants: A's two raters, each with A's two assignments and answers.
    expect(sorted(view.participants.map((p) => p.participantId))).toEqual(
      sorted(a.raters.map((r) => r.userId)),
    );
    expect(JSON.stringify(view)).not.toContain('Only B');
    expect(JSON.stringify(view)).not.toContain('Idle In B');
    for (const participant of view.participants) {
      expect(participant).toMatchObject({
        assigned: 2,
        answered: 2,
        attentionPassed: 1,
        attentionFailed: 0,
      });
    }
    // Arms: A has none, so one row without an arm; B's arm is not A's.
    expect(view.arms).toEqual([expect.objectContaining({ armId: null, assigned: 4, answered: 4 })]);
    expect(view.arms[0]!.durations).toMatchObject({ count: 4, medianMs: 1000 });
    // Attention checks: A's two, both passed (B's five all failed).
    expect(view.attention).toEqual({ passed: 2, failed: 0, passRate: 1 });
    // Durations: A's four reviews of 1 s (B's nine took 60 s).
    for (const durations of Object.values(view.durations)) {
      expect(durations).toMatchObject({ count: 4, medianMs: 1000, q1Ms: 1000, q3Ms: 1000 });
    }
    // Agreement: A's two cases, each rated "pneumonia" by both of A's raters; B's ratings of
    // "bronchitis" would add three more cases (and disagreement) to A's figures.
    const overall = view.agreement.filter((x) => x.questionId === 'diagnosis' && x.armId === null);
    expect(overall).toHaveLength(1);
    expect(overall[0]).toMatchObject({ casesRatedBySeveral: 2, cases: 2, ratersPerCase: 2 });
    expect(view.agreement.every((x) => x.armId === null)).toBe(true);
  });

  it("Z4/exports: each of a study's four exports holds its own rows only", async () => {
    const rows = async (kind: string): Promise<Array<Record<string, unknown>>> => {
      const res = await call(
        a.world.owner,
        'GET',
        `/api/studies/${a.world.studyId}/exports/${kind}?format=ndjson`,
      );
      expect(res.statusCode, `${kind}: ${res.body}`).toBe(200);
      const text = res.body.trim();
      return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line));
    };
    const answers = await rows('answers');
    expect(sorted(answers.map((r) => String(r.answer_id)))).toEqual(sorted(a.answerIds));

    const analytics = await rows('analytics');
    expect(sorted(analytics.map((r) => String(r.assignment_id)))).toEqual(sorted(a.assignmentIds));

    const assignments = await rows('assignments');
    expect(sorted(assignments.map((r) => String(r.assignment_id)))).toEqual(
      sorted(a.assignmentIds),
    );

    const participants = await rows('participants');
    expect(sorted(participants.map((r) => String(r.user_id)))).toEqual(
      sorted(a.raters.map((r) => r.userId)),
    );
    for (const participant of participants) {
      expect(participant).toMatchObject({ assigned: 2, answered: 2 });
    }
    // And the same from B's side: its own rows, none of A's.
    const ofB = await call(
      b.world.owner,
      'GET',
      `/api/studies/${b.world.studyId}/exports/answers?format=ndjson`,
    );
    const bIds = ofB.body
      .trim()
      .split('\n')
      .map((line) => String(JSON.parse(line).answer_id));
    expect(sorted(bIds)).toEqual(sorted(b.answerIds));
  });
});
