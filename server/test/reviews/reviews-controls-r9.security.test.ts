// Reviews threats found by mutation round 9 (V1): answers the questionnaire version does not
// allow — a short-text answer past its limit, a choice that was never offered or one chosen
// twice, an attention-check answer that is none of its options — reaching the stored answers
// and, through them, the study's analysis and exports; and (Z3) a researcher who only takes part
// in a colleague's study reading its team views or exporting everyone's answers.
import { expect, it } from 'vitest';
import type { QuestionView } from '../../src/modules/reviews/schemas.js';
import { createActor } from '../actors.js';
import { describeClinic } from '../clinical-actors.js';
import {
  addParticipant,
  addStudyMember,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  ATTENTION_BLUE,
} from '../review-actors.js';

/** A version with a short-text question and a multiple-choice one, beside a required single. */
const QUESTIONS: QuestionView[] = [
  {
    id: 'diagnosis',
    type: 'single',
    prompt: 'Most likely diagnosis?',
    required: true,
    options: [
      { value: 'pneumonia', label: 'Pneumonia' },
      { value: 'other', label: 'Other' },
    ],
  },
  { id: 'summary', type: 'text', prompt: 'One line summary', required: false },
  {
    id: 'findings',
    type: 'multiple',
    prompt: 'Which findings?',
    required: false,
    options: [
      { value: 'fever', label: 'Fever' },
      { value: 'cough', label: 'Cough' },
    ],
  },
];

interface Problem {
  errors?: Array<{ field: string }>;
}

describeClinic('reviews controls (round 9)', (clinic) => {
  async function oneAssignment() {
    const world = await createStudyWorld(clinic.app);
    const versionId = await insertPublishedQuestionnaire(clinic.db, world.studyId, {
      questions: QUESTIONS,
    });
    const caseId = await insertCase(clinic.db, world.studyId, 'case-r9');
    const participant = await addParticipant(clinic.app, world.studyId);
    const assignmentId = await insertAssignment(
      clinic.db,
      world.studyId,
      participant.userId,
      caseId,
    );
    const answer = (answers: Record<string, unknown>) =>
      clinic.call(participant, 'POST', `/api/reviews/assignments/${assignmentId}/answer`, {
        questionnaireVersionId: versionId,
        answers,
      });
    return { assignmentId, answer };
  }

  it('V1/unbounded answer: a short-text answer past its 1,000 characters is refused (the body schema allows 10,000 for paragraphs), and nothing is stored', async () => {
    const { assignmentId, answer } = await oneAssignment();
    const res = await answer({ diagnosis: 'pneumonia', summary: 'x'.repeat(1_001) });
    expect(res.statusCode, res.body).toBe(400);
    const fields = (res.json<Problem>().errors ?? []).map((e) => e.field.replace(/^body\./, ''));
    expect(fields).toEqual(['answers.summary']);
    expect(await clinic.rows('review_answers', { assignment_id: assignmentId })).toEqual([]);
  });

  it('V1/forged choice: a multiple-choice answer holding an option that was never offered, or one option twice, is refused, and nothing is stored', async () => {
    const { assignmentId, answer } = await oneAssignment();
    for (const findings of [
      ['fever', 'not-offered'],
      ['cough', 'cough'],
    ]) {
      const res = await answer({ diagnosis: 'pneumonia', findings });
      expect(res.statusCode, JSON.stringify(findings)).toBe(400);
      const fields = (res.json<Problem>().errors ?? []).map((e) => e.field.replace(/^body\./, ''));
      expect(fields, JSON.stringify(findings)).toEqual(['answers.findings']);
    }
    expect(await clinic.rows('review_answers', { assignment_id: assignmentId })).toEqual([]);
    // Offered options, each once, are an answer: the check is not simply closed.
    const ok = await answer({
      diagnosis: 'pneumonia',
      summary: 'ok',
      findings: ['fever', 'cough'],
    });
    expect([200, 201], ok.body).toContain(ok.statusCode);
  });
  it('V1/forged attention answer: an attention-check answer that is none of its options is refused, not stored as a failed check', async () => {
    const world = await createStudyWorld(clinic.app);
    const versionId = await insertPublishedQuestionnaire(clinic.db, world.studyId, {
      attentionCheck: ATTENTION_BLUE,
    });
    const participant = await addParticipant(clinic.app, world.studyId);
    const ids: string[] = [];
    for (const externalId of ['case-r9-first', 'case-r9-second']) {
      const caseId = await insertCase(clinic.db, world.studyId, externalId);
      ids.push(await insertAssignment(clinic.db, world.studyId, participant.userId, caseId));
    }
    const second = ids[1]!; // position 2: the check is asked with every second case
    const answer = (attention: { answer: string }) =>
      clinic.call(participant, 'POST', `/api/reviews/assignments/${second}/answer`, {
        questionnaireVersionId: versionId,
        answers: { diagnosis: 'pneumonia', confidence: 4 },
        attention,
      });
    const forged = await answer({ answer: 'green' });
    expect(forged.statusCode, forged.body).toBe(400);
    const fields = (forged.json<Problem>().errors ?? []).map((e) => e.field.replace(/^body\./, ''));
    expect(fields).toEqual(['attention.answer']);
    expect(await clinic.rows('review_answers', { assignment_id: second })).toEqual([]);
    // One of its options is an answer (here a wrong one, recorded as a failed check).
    const offered = await answer({ answer: 'red' });
    expect([200, 201], offered.body).toContain(offered.statusCode);
  });
  it("Z3/role confusion: a researcher who only takes part in a colleague's study gets 404 for its details, cases, team, dashboard and exports", async () => {
    const world = await createStudyWorld(clinic.app, { title: 'Colleague study R9' });
    await insertPublishedQuestionnaire(clinic.db, world.studyId);
    // Holds studies:read and exports:read through the researcher role, but on this study's team
    // is a participant only.
    const both = await createActor(clinic.app, ['researcher', 'participant']);
    await clinic.addMember(world.organizationId, both, 'researcher');
    await addStudyMember(clinic.db, world.studyId, both.userId, 'participant');
    const base = `/api/studies/${world.studyId}`;
    for (const path of [
      base,
      `${base}/cases`,
      `${base}/members`,
      `${base}/dashboard`,
      `${base}/exports/answers`,
      `${base}/exports/participants`,
    ]) {
      const res = await clinic.call(both, 'GET', path);
      expect(res.statusCode, `${path}: ${res.body}`).toBe(404);
    }
    // The owner reads them: the paths are right.
    for (const path of [`${base}/members`, `${base}/dashboard`, `${base}/exports/answers`]) {
      const res = await clinic.call(world.owner, 'GET', path);
      expect(res.statusCode, `${path}: ${res.body}`).toBe(200);
    }
  });
});
