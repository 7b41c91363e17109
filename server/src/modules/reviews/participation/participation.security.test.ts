// The participant's flow over HTTP against the real app (docs/api/reviews.md "Participation"):
// next case → events → answer, in a stable order, until done; the case pruned and styled by its
// display configuration; the AI score only when configured; attention checks; and the threats —
// someone else's assignment or study (Z4), a retried or changed answer (idempotency, 409), two
// submissions at once, answers to questions that are not in the version (V1), a client clock
// going backwards (kept and flagged), and answer text in the audit log (L3).
import { beforeAll, describe, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import {
  SAMPLE_QUESTIONS,
  addParticipant,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  insertQuestionnaireVersion,
  type StudyWorld,
} from '../../../../test/review-actors.js';
import type { StyledNode } from '../shared/display.js';
import type { DisplayConfigView } from '../shared/schemas.js';

interface Problem {
  code: string;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}
interface ReviewView {
  id: string;
  position: number;
  answered: boolean;
  case: { tree: StyledNode[]; aiScore?: { score: number; explanation: string | null } };
  questionnaire: { versionId: string; version: number; title: string; questions: unknown[] };
  attentionCheck: { question: { id: string } } | null;
}
interface Next {
  done: boolean;
  progress: { position: number; answered: number; total: number };
  assignment?: ReviewView;
}
interface Submitted {
  answer: { id: string; submittedAt: string; flags: string[] };
}

const GOOD = { diagnosis: 'pneumonia', confidence: 4, comment: 'PRIVATE-ANSWER-TEXT crackles' };

const ATTENTION = {
  every: 2,
  question: {
    id: 'attention',
    type: 'single' as const,
    prompt: 'To show you are reading, choose "Blue".',
    required: true,
    options: [
      { value: 'red', label: 'Red' },
      { value: 'blue', label: 'Blue' },
    ],
  },
  expected: 'blue',
};

describeClinic('reviews: participation', (clinic) => {
  const call = clinic.call;
  let world: StudyWorld;
  let versionId: string;

  const next = (actor: Actor, studyId = world.studyId) =>
    call(actor, 'GET', `/api/reviews/studies/${studyId}/next`);
  const event = (actor: Actor, assignmentId: string, type: string, clientAt: string) =>
    call(actor, 'POST', `/api/reviews/assignments/${assignmentId}/events`, { type, clientAt });
  const answer = (actor: Actor, assignmentId: string, body: Record<string, unknown>) =>
    call(actor, 'POST', `/api/reviews/assignments/${assignmentId}/answer`, {
      questionnaireVersionId: versionId,
      ...body,
    });

  /** A participant with one assignment per display (a fresh case each). */
  async function participantWith(
    displays: DisplayConfigView[],
    caseOptions: { aiScore?: number; aiExplanation?: string } = {},
  ): Promise<{ participant: Actor; assignmentIds: string[]; caseIds: string[] }> {
    const participant = await addParticipant(clinic.app, world.studyId);
    const assignmentIds: string[] = [];
    const caseIds: string[] = [];
    for (const display of displays) {
      const caseId = await insertCase(
        clinic.db,
        world.studyId,
        `case-${Math.random().toString(36).slice(2)}`,
        caseOptions,
      );
      caseIds.push(caseId);
      assignmentIds.push(
        await insertAssignment(clinic.db, world.studyId, participant.userId, caseId, { display }),
      );
    }
    return { participant, assignmentIds, caseIds };
  }
  const plain: DisplayConfigView = { showAiScore: false, features: [] };

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app);
    versionId = await insertPublishedQuestionnaire(clinic.db, world.studyId);
  });

  it('next stamps the case as opened on its first delivery; later deliveries keep that stamp', async () => {
    const { participant, assignmentIds } = await participantWith([plain]);
    const openedAt = async () =>
      (
        await clinic.db
          .selectFrom('review_timings')
          .select('case_opened_at')
          .where('assignment_id', '=', assignmentIds[0]!)
          .executeTakeFirst()
      )?.case_opened_at;
    expect(await openedAt()).toBeUndefined();
    expect((await next(participant)).statusCode).toBe(200);
    const first = await openedAt();
    expect(first).toBeInstanceOf(Date);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await next(participant)).statusCode).toBe(200);
    expect(await openedAt()).toEqual(first);
  });

  it('walks one participant through every case in position order until done', async () => {
    const { participant, assignmentIds } = await participantWith([plain, plain, plain]);
    const listed = await call(participant, 'GET', '/api/reviews/studies');
    expect(listed.statusCode).toBe(200);
    expect(listed.json().studies).toEqual([
      expect.objectContaining({ id: world.studyId, status: 'active', total: 3, answered: 0 }),
    ]);

    for (const [index, assignmentId] of assignmentIds.entries()) {
      // The same case again until it is answered: a reload does not skip anything.
      const first = (await next(participant)).json<Next>();
      const again = (await next(participant)).json<Next>();
      expect(first.done).toBe(false);
      expect(first.assignment!.id).toBe(assignmentId);
      expect(again.assignment!.id).toBe(assignmentId);
      expect(first.progress).toEqual({ position: index + 1, answered: index, total: 3 });
      expect(first.assignment!.questionnaire.versionId).toBe(versionId);
      expect(first.assignment!.questionnaire.questions).toHaveLength(SAMPLE_QUESTIONS.length);

      const now = new Date().toISOString();
      expect((await event(participant, assignmentId, 'case_opened', now)).statusCode).toBe(204);
      expect((await event(participant, assignmentId, 'form_opened', now)).statusCode).toBe(204);
      const res = await answer(participant, assignmentId, { answers: GOOD });
      expect(res.statusCode).toBe(201);
    }
    const done = await next(participant);
    expect(done.json()).toEqual({ done: true, progress: { position: 3, answered: 3, total: 3 } });

    const timings = await clinic.db
      .selectFrom('review_timings')
      .selectAll()
      .where('assignment_id', 'in', assignmentIds)
      .execute();
    expect(timings).toHaveLength(3);
    for (const timing of timings) {
      expect(timing.case_opened_at).not.toBeNull();
      expect(timing.form_opened_at).not.toBeNull();
      expect(timing.submitted_at).not.toBeNull();
      expect(Number(timing.total_ms)).toBeGreaterThanOrEqual(0);
      // Answered at test speed: kept, and flagged as implausibly fast when under 2 seconds.
      expect(timing.flags.includes('too_fast')).toBe(Number(timing.total_ms) < 2_000);
      expect(timing.flags).not.toContain('missing_case_opened');
    }
    const listedAfter = (await call(participant, 'GET', '/api/reviews/studies')).json();
    expect(listedAfter.studies[0]).toMatchObject({ total: 3, answered: 3 });

    // An answered assignment can still be read, marked as answered.
    const read = await call(participant, 'GET', `/api/reviews/assignments/${assignmentIds[0]}`);
    expect(read.statusCode).toBe(200);
    expect(read.json().assignment).toMatchObject({ id: assignmentIds[0], answered: true });
  });

  it('prunes hidden features and styles, pins and orders the rest by the display configuration', async () => {
    const display: DisplayConfigView = {
      showAiScore: false,
      features: [
        { path: 'vitals/spo2', hidden: true },
        { path: 'vitals/temperature', top: 1 },
        { path: 'vitals/heart_rate', highlighted: true, top: 2 },
        { path: 'history', collapsed: true },
      ],
    };
    const { participant } = await participantWith([display]);
    const view = (await next(participant)).json<Next>().assignment!;
    const [vitals, history] = view.case.tree;
    expect(vitals!.children!.map((node) => node.key)).toEqual(['temperature', 'heart_rate']);
    expect(vitals!.children![0]).toMatchObject({ pinned: 1, highlighted: false, collapsed: false });
    expect(vitals!.children![1]).toMatchObject({ pinned: 2, highlighted: true, value: 112 });
    expect(history).toMatchObject({ key: 'history', collapsed: true, pinned: null });
    expect(history!.children!.map((node) => node.key)).toEqual(['smoker', 'complaint']);
    expect(JSON.stringify(view)).not.toContain('spo2');
    // The participant never sees the case's external id.
    expect(JSON.stringify(view)).not.toContain('case-');
  });

  it('shows the AI score only when the display configuration says so, and records it', async () => {
    const shown = await participantWith([{ showAiScore: true, features: [] }], {
      aiScore: 0.82,
      aiExplanation: 'High risk',
    });
    const hidden = await participantWith([plain], { aiScore: 0.82, aiExplanation: 'High risk' });
    const noScore = await participantWith([{ showAiScore: true, features: [] }]);

    const shownView = (await next(shown.participant)).json<Next>().assignment!;
    expect(shownView.case.aiScore).toEqual({ score: 0.82, explanation: 'High risk' });
    expect((await next(hidden.participant)).json<Next>().assignment!.case).not.toHaveProperty(
      'aiScore',
    );
    expect((await next(noScore.participant)).json<Next>().assignment!.case).not.toHaveProperty(
      'aiScore',
    );

    for (const { participant, assignmentIds } of [shown, hidden, noScore]) {
      expect((await answer(participant, assignmentIds[0]!, { answers: GOOD })).statusCode).toBe(
        201,
      );
    }
    const rows = await clinic.db
      .selectFrom('review_answers')
      .select(['assignment_id', 'ai_score_shown', 'display_snapshot'])
      .where('assignment_id', 'in', [
        shown.assignmentIds[0]!,
        hidden.assignmentIds[0]!,
        noScore.assignmentIds[0]!,
      ])
      .execute();
    const shownOf = new Map(rows.map((row) => [row.assignment_id, row.ai_score_shown]));
    expect(shownOf.get(shown.assignmentIds[0]!)).toBe(true);
    expect(shownOf.get(hidden.assignmentIds[0]!)).toBe(false);
    expect(shownOf.get(noScore.assignmentIds[0]!)).toBe(false);
    expect(
      rows.find((row) => row.assignment_id === shown.assignmentIds[0])!.display_snapshot,
    ).toEqual({ showAiScore: true, features: [] });
  });

  describe('with an attention check every 2nd case', () => {
    let attentionWorld: StudyWorld;
    let attentionVersion: string;
    beforeAll(async () => {
      attentionWorld = await createStudyWorld(clinic.app);
      attentionVersion = await insertPublishedQuestionnaire(clinic.db, attentionWorld.studyId, {
        attentionCheck: ATTENTION,
      });
    });

    it('asks it at positions 2 and 4, requires its answer, and records a failure', async () => {
      const participant = await addParticipant(clinic.app, attentionWorld.studyId);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const caseId = await insertCase(clinic.db, attentionWorld.studyId, `att-${i}`);
        ids.push(
          await insertAssignment(clinic.db, attentionWorld.studyId, participant.userId, caseId),
        );
      }
      const body = { questionnaireVersionId: attentionVersion, answers: GOOD };
      const url = (id: string) => `/api/reviews/assignments/${id}/answer`;
      const view = async () =>
        (await next(participant, attentionWorld.studyId)).json<Next>().assignment!;

      expect((await view()).attentionCheck).toBeNull();
      const stray = await call(participant, 'POST', url(ids[0]!), {
        ...body,
        attention: { answer: 'blue' },
      });
      expect(stray.statusCode).toBe(400);
      expect(stray.json<Problem>().errors).toEqual([
        expect.objectContaining({ field: 'attention' }),
      ]);
      expect((await call(participant, 'POST', url(ids[0]!), body)).statusCode).toBe(201);

      expect((await view()).attentionCheck).toEqual({
        question: expect.objectContaining({ id: 'attention' }),
      });
      const missing = await call(participant, 'POST', url(ids[1]!), body);
      expect(missing.statusCode).toBe(400);
      expect(missing.json<Problem>().errors).toEqual([
        expect.objectContaining({ field: 'attention.answer' }),
      ]);
      const failed = await call(participant, 'POST', url(ids[1]!), {
        ...body,
        attention: { answer: 'red' },
      });
      expect(failed.statusCode).toBe(201);

      expect((await view()).attentionCheck).toBeNull();
      expect((await call(participant, 'POST', url(ids[2]!), body)).statusCode).toBe(201);
      expect((await view()).attentionCheck).not.toBeNull();
      const passed = await call(participant, 'POST', url(ids[3]!), {
        ...body,
        attention: { answer: 'blue' },
      });
      expect(passed.statusCode).toBe(201);

      const results = await clinic.db
        .selectFrom('attention_results')
        .select(['assignment_id', 'passed', 'given', 'expected'])
        .where('participant_id', '=', participant.userId)
        .orderBy('recorded_at')
        .execute();
      expect(results).toEqual([
        { assignment_id: ids[1], passed: false, given: 'red', expected: 'blue' },
        { assignment_id: ids[3], passed: true, given: 'blue', expected: 'blue' },
      ]);
    });
  });

  it('idempotency: the same answer again is 200 with the stored answer; a different one is 409', async () => {
    const { participant, assignmentIds } = await participantWith([plain]);
    const id = assignmentIds[0]!;
    const first = await answer(participant, id, { answers: GOOD });
    expect(first.statusCode).toBe(201);
    // The same decision with keys in another order and another client clock: the same submission.
    const retry = await answer(participant, id, {
      answers: { comment: GOOD.comment, confidence: 4, diagnosis: 'pneumonia' },
      timing: { submittedAt: new Date().toISOString() },
    });
    expect(retry.statusCode).toBe(200);
    expect(retry.json<Submitted>().answer.id).toBe(first.json<Submitted>().answer.id);
    expect(retry.json<Submitted>().answer.submittedAt).toBe(
      first.json<Submitted>().answer.submittedAt,
    );

    const changed = await answer(participant, id, { answers: { ...GOOD, diagnosis: 'other' } });
    expect(changed.statusCode).toBe(409);
    expect(changed.json<Problem>().code).toBe('CONFLICT');
    const stored = await clinic.db
      .selectFrom('review_answers')
      .select('answers')
      .where('assignment_id', '=', id)
      .execute();
    expect(stored).toEqual([{ answers: GOOD }]);
  });

  it('two submissions at once write one answer: identical → 201 and 200, different → 201 and 409', async () => {
    const { participant, assignmentIds } = await participantWith([plain, plain]);
    const [sameA, sameB] = await Promise.all([
      answer(participant, assignmentIds[0]!, { answers: GOOD }),
      answer(participant, assignmentIds[0]!, { answers: GOOD }),
    ]);
    expect([sameA.statusCode, sameB.statusCode].sort()).toEqual([200, 201]);
    expect(sameA.json<Submitted>().answer.id).toBe(sameB.json<Submitted>().answer.id);

    const [diffA, diffB] = await Promise.all([
      answer(participant, assignmentIds[1]!, { answers: GOOD }),
      answer(participant, assignmentIds[1]!, { answers: { ...GOOD, diagnosis: 'bronchitis' } }),
    ]);
    expect([diffA.statusCode, diffB.statusCode].sort()).toEqual([201, 409]);
    const count = await clinic.db
      .selectFrom('review_answers')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('assignment_id', 'in', assignmentIds)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(2);
  });

  it('V1: refuses answers to a question not in the version, wrong options, off-scale values and missing required ones', async () => {
    const { participant, assignmentIds } = await participantWith([plain]);
    const id = assignmentIds[0]!;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...GOOD, smuggled: 'x' }, 'answers.smuggled'],
      [{ ...GOOD, diagnosis: 'flu' }, 'answers.diagnosis'],
      [{ ...GOOD, diagnosis: ['pneumonia'] }, 'answers.diagnosis'],
      [{ ...GOOD, confidence: 6 }, 'answers.confidence'],
      [{ ...GOOD, confidence: 2.5 }, 'answers.confidence'],
      [{ ...GOOD, comment: 'x'.repeat(10_001) }, 'answers.comment'],
      [{ confidence: 3 }, 'answers.diagnosis'],
    ];
    for (const [answers, field] of cases) {
      const res = await answer(participant, id, { answers });
      expect(res.statusCode, field).toBe(400);
      // The schema bounds lengths and shapes (`body.answers.…`); the version check the rest.
      const fields = (res.json<Problem>().errors ?? []).map((e) => e.field.replace(/^body\./, ''));
      expect(new Set(fields), field).toEqual(new Set([field]));
    }
    const notAnObject = await answer(participant, id, { answers: ['pneumonia'] });
    expect(notAnObject.statusCode).toBe(400);
    const yearZero = await answer(participant, id, {
      answers: GOOD,
      timing: { submittedAt: '0000-01-01T00:00:00Z' },
    });
    expect(yearZero.statusCode).toBe(400);
    const badClock = await event(participant, id, 'case_opened', '0000-01-01T00:00:00Z');
    expect(badClock.statusCode).toBe(400);
    const none = await clinic.db
      .selectFrom('review_answers')
      .select('id')
      .where('assignment_id', '=', id)
      .execute();
    expect(none).toEqual([]);
  });

  it('refuses an answer to a version that is no longer the newest published one (409)', async () => {
    const otherWorld = await createStudyWorld(clinic.app);
    const oldVersion = await insertPublishedQuestionnaire(clinic.db, otherWorld.studyId);
    const participant = await addParticipant(clinic.app, otherWorld.studyId);
    const caseId = await insertCase(clinic.db, otherWorld.studyId, 'versioned');
    const id = await insertAssignment(clinic.db, otherWorld.studyId, participant.userId, caseId);
    await insertPublishedQuestionnaire(clinic.db, otherWorld.studyId);
    const res = await call(participant, 'POST', `/api/reviews/assignments/${id}/answer`, {
      questionnaireVersionId: oldVersion,
      answers: GOOD,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json<Problem>().detail).toMatch(/questionnaire changed/);
  });

  it('keeps a timing that goes backwards or is skewed, and flags it', async () => {
    const { participant, assignmentIds } = await participantWith([plain]);
    const id = assignmentIds[0]!;
    await next(participant);
    const now = Date.now();
    await event(participant, id, 'case_opened', new Date(now).toISOString());
    await event(participant, id, 'form_opened', new Date(now - 60_000).toISOString());
    const res = await answer(participant, id, {
      answers: GOOD,
      timing: { submittedAt: new Date(now + 20 * 60_000).toISOString() },
    });
    expect(res.statusCode).toBe(201);
    const flags = res.json<Submitted>().answer.flags;
    expect(flags).toEqual(expect.arrayContaining(['client_clock_backwards', 'client_skew']));
    const timing = await clinic.db
      .selectFrom('review_timings')
      .selectAll()
      .where('assignment_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(timing.client_form_opened_at!.getTime()).toBe(now - 60_000);
    expect(timing.client_submitted_at!.getTime()).toBe(now + 20 * 60_000);
    expect(timing.flags).toEqual(flags);
  });

  it('flags missing stamps and keeps the answer', async () => {
    const { participant, assignmentIds } = await participantWith([plain]);
    // Answered without ever fetching the case or opening the form.
    const res = await answer(participant, assignmentIds[0]!, { answers: GOOD });
    expect(res.statusCode).toBe(201);
    expect(res.json<Submitted>().answer.flags).toEqual([
      'missing_case_opened',
      'missing_form_opened',
    ]);
  });

  it('Z4: someone else’s assignment is the 404 of a missing one, for reading, events and answers', async () => {
    const owner = await participantWith([plain]);
    const intruder = await addParticipant(clinic.app, world.studyId);
    const id = owner.assignmentIds[0]!;
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const target of [id, missing]) {
      const read = await call(intruder, 'GET', `/api/reviews/assignments/${target}`);
      expect(read.statusCode).toBe(404);
      const stamp = await event(intruder, target, 'case_opened', new Date().toISOString());
      expect(stamp.statusCode).toBe(404);
      const submit = await answer(intruder, target, { answers: GOOD });
      expect(submit.statusCode).toBe(404);
      expect(submit.json<Problem>().detail).toBe(read.json<Problem>().detail);
    }
    // The researcher who owns the study is not its participant either.
    expect((await answer(world.owner, id, { answers: GOOD })).statusCode).toBe(403);
    const rows = await clinic.db
      .selectFrom('review_answers')
      .select('id')
      .where('assignment_id', '=', id)
      .execute();
    expect(rows).toEqual([]);
  });

  it("next shows the study's newest published version, not a newer draft nor another study's; with none published it is 409 and the case stays unopened", async () => {
    const study = await createStudyWorld(clinic.app);
    const participant = await addParticipant(clinic.app, study.studyId);
    const caseId = await insertCase(clinic.db, study.studyId, 'case-versions');
    const assignmentId = await insertAssignment(
      clinic.db,
      study.studyId,
      participant.userId,
      caseId,
    );
    await insertQuestionnaireVersion(clinic.db, study.studyId, { title: 'Draft one' });
    const unpublished = await next(participant, study.studyId);
    expect(unpublished.statusCode).toBe(409);
    expect(unpublished.json<Problem>().detail).toBe(
      'This study has no published questionnaire yet; the research team has to publish one first.',
    );
    const stamps = await clinic.db
      .selectFrom('review_timings')
      .select('assignment_id')
      .where('assignment_id', '=', assignmentId)
      .execute();
    expect(stamps).toEqual([]);

    await insertPublishedQuestionnaire(clinic.db, study.studyId, { title: 'Second' });
    const third = await insertPublishedQuestionnaire(clinic.db, study.studyId, { title: 'Third' });
    await insertQuestionnaireVersion(clinic.db, study.studyId, { title: 'Draft four' });
    // Another study's versions run higher; only this study's count.
    const other = await createStudyWorld(clinic.app);
    for (let n = 0; n < 5; n += 1) {
      await insertPublishedQuestionnaire(clinic.db, other.studyId, { title: 'Other study' });
    }
    const shown = (await next(participant, study.studyId)).json<Next>();
    expect(shown.assignment!.id).toBe(assignmentId);
    expect(shown.assignment!.questionnaire).toMatchObject({
      versionId: third,
      version: 3,
      title: 'Third',
    });
  });

  it('Z4: a participant of another study gets 404 for its next case; an inactive study is 409', async () => {
    const other = await createStudyWorld(clinic.app);
    await insertPublishedQuestionnaire(clinic.db, other.studyId);
    const { participant } = await participantWith([plain]);
    expect((await next(participant, other.studyId)).statusCode).toBe(404);
    expect((await call(participant, 'GET', '/api/reviews/studies')).json().studies).toEqual([
      expect.objectContaining({ id: world.studyId }),
    ]);

    const closed = await createStudyWorld(clinic.app, { status: 'closed' });
    const closedParticipant = await addParticipant(clinic.app, closed.studyId);
    const res = await next(closedParticipant, closed.studyId);
    expect(res.statusCode).toBe(409);
    expect(res.json<Problem>().detail).toBe('This study is not open for reviews.');
  });

  it('Z4: a closed study takes no answers and no timing events from its own participants (409, nothing stored)', async () => {
    const closed = await createStudyWorld(clinic.app, { status: 'closed' });
    const closedVersion = await insertPublishedQuestionnaire(clinic.db, closed.studyId);
    const participant = await addParticipant(clinic.app, closed.studyId);
    const caseId = await insertCase(clinic.db, closed.studyId, 'case-closed-study');
    const assignmentId = await insertAssignment(
      clinic.db,
      closed.studyId,
      participant.userId,
      caseId,
    );
    const stamp = await event(participant, assignmentId, 'case_opened', new Date().toISOString());
    expect(stamp.statusCode).toBe(409);
    expect(stamp.json<Problem>().detail).toBe('This study is not open for reviews.');
    const submit = await call(
      participant,
      'POST',
      `/api/reviews/assignments/${assignmentId}/answer`,
      {
        questionnaireVersionId: closedVersion,
        answers: GOOD,
      },
    );
    expect(submit.statusCode).toBe(409);
    expect(submit.json<Problem>().detail).toBe('This study is not open for reviews.');
    const answers = await clinic.db
      .selectFrom('review_answers')
      .select('id')
      .where('assignment_id', '=', assignmentId)
      .execute();
    expect(answers).toEqual([]);
    const timings = await clinic.db
      .selectFrom('review_timings')
      .select('assignment_id')
      .where('assignment_id', '=', assignmentId)
      .execute();
    expect(timings).toEqual([]);
  });

  it('Z4: a participant removed from a study no longer sees it in their studies, nor its next case', async () => {
    const study = await createStudyWorld(clinic.app);
    await insertPublishedQuestionnaire(clinic.db, study.studyId);
    const participant = await addParticipant(clinic.app, study.studyId);
    const caseId = await insertCase(clinic.db, study.studyId, 'case-removed-member');
    await insertAssignment(clinic.db, study.studyId, participant.userId, caseId);
    const mine = async () =>
      (await call(participant, 'GET', '/api/reviews/studies')).json<{
        studies: Array<{ id: string }>;
      }>().studies;
    expect(await mine()).toEqual([expect.objectContaining({ id: study.studyId })]);
    const removed = await call(
      study.owner,
      'DELETE',
      `/api/studies/${study.studyId}/members/${participant.userId}`,
    );
    expect(removed.statusCode, removed.body).toBe(204);
    expect(await mine()).toEqual([]);
    expect((await next(participant, study.studyId)).statusCode).toBe(404);
  });

  it('Z4: a draft study is not among its participants’ studies until it opens', async () => {
    const draft = await createStudyWorld(clinic.app, { status: 'draft', title: 'Not yet open' });
    const participant = await addParticipant(clinic.app, draft.studyId);
    const caseId = await insertCase(clinic.db, draft.studyId, 'case-draft-study');
    await insertAssignment(clinic.db, draft.studyId, participant.userId, caseId);
    const listed = await call(participant, 'GET', '/api/reviews/studies');
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ studies: unknown[] }>().studies).toEqual([]);
  });

  it('L3: the answer is audited by ids only, never its text', async () => {
    const { participant, assignmentIds } = await participantWith([plain]);
    const res = await answer(participant, assignmentIds[0]!, { answers: GOOD });
    expect(res.statusCode).toBe(201);
    const events = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'target_id', 'details'])
      .where('actor_id', '=', participant.userId)
      .execute();
    const submitted = events.find((e) => e.action === 'review.answer_submitted');
    expect(submitted).toMatchObject({
      target_id: assignmentIds[0],
      details: {
        assignmentId: assignmentIds[0],
        studyId: world.studyId,
        answerId: res.json<Submitted>().answer.id,
        questionnaireVersionId: versionId,
      },
    });
    const everything = await clinic.db.selectFrom('audit_events').select('details').execute();
    expect(JSON.stringify(everything)).not.toContain('PRIVATE-ANSWER-TEXT');
    expect(JSON.stringify(everything)).not.toContain('pneumonia');
  });
});
