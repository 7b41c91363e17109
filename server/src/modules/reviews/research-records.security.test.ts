// L3 for research records: what a participant answered, their attention-check results and the
// randomizations a study was assigned by are written once; nothing of a study is ever deleted;
// a published questionnaire version never changes. The database refuses it (0007_reviews), so
// not even a bug or a hand-written statement in the application can rewrite the evidence.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';
import {
  addParticipant,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  type StudyWorld,
} from '../../../test/review-actors.js';

describeEachEngine('research records are kept', (engine) => {
  let harness: TestApp;
  let world: StudyWorld;
  let answerId: string;
  let versionId: string;

  const db = () => harness.database.db;

  /** Runs a statement and returns the database's refusal message ('' when it went through). */
  async function refusal(statement: ReturnType<typeof sql>): Promise<string> {
    try {
      await statement.execute(db());
      return '';
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  beforeAll(async () => {
    harness = await createTestApp(engine);
    world = await createStudyWorld(harness.app);
    const participant = await addParticipant(harness.app, world.studyId);
    const caseId = await insertCase(db(), world.studyId, 'case-kept');
    versionId = await insertPublishedQuestionnaire(db(), world.studyId);
    const assignmentId = await insertAssignment(db(), world.studyId, participant.userId, caseId);
    const answer = await db()
      .insertInto('review_answers')
      .values({
        assignment_id: assignmentId,
        study_id: world.studyId,
        participant_id: participant.userId,
        questionnaire_version_id: versionId,
        answers: JSON.stringify({ diagnosis: 'pneumonia' }),
        display_snapshot: JSON.stringify({ showAiScore: false, features: [] }),
        ai_score_shown: false,
        submission_key: 'a'.repeat(64),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    answerId = answer.id;
    await db()
      .insertInto('attention_results')
      .values({
        study_id: world.studyId,
        participant_id: participant.userId,
        assignment_id: assignmentId,
        questionnaire_version_id: versionId,
        expected: JSON.stringify('blue'),
        given: JSON.stringify('red'),
        passed: false,
      })
      .execute();
  });
  afterAll(async () => {
    await harness.close();
  });

  it('L3/research records: an answer carries its assignment’s case and arm as the database copied them, whatever the insert says', async () => {
    // The answers export reads case and arm from the answer (0010_answer_facts); the copy is
    // the database's, so a statement naming another case or arm cannot make them disagree.
    const participant = await addParticipant(harness.app, world.studyId);
    const caseId = await insertCase(db(), world.studyId, 'case-facts');
    const otherCaseId = await insertCase(db(), world.studyId, 'case-facts-other');
    const arm = await sql<{ id: string }>`
      WITH e AS (INSERT INTO experiments (study_id, name) VALUES (${world.studyId}, 'Facts') RETURNING id)
      INSERT INTO experiment_arms (experiment_id, study_id, name, display)
      SELECT id, ${world.studyId}, 'Arm A', '{"showAiScore":false,"features":[]}' FROM e
      RETURNING id`.execute(db());
    const armId = arm.rows[0]!.id;
    const assignmentId = await insertAssignment(db(), world.studyId, participant.userId, caseId, {
      armId,
    });
    const written = await sql<{ case_id: string; arm_id: string | null }>`
      INSERT INTO review_answers (assignment_id, study_id, participant_id, questionnaire_version_id,
        answers, display_snapshot, ai_score_shown, submission_key, case_id, arm_id)
      VALUES (${assignmentId}, ${world.studyId}, ${participant.userId}, ${versionId},
        '{}', '{"showAiScore":false,"features":[]}', false, ${'b'.repeat(64)}, ${otherCaseId}, NULL)
      RETURNING case_id, arm_id`.execute(db());
    expect(written.rows[0]).toEqual({ case_id: caseId, arm_id: armId });
    const first = await db()
      .selectFrom('review_answers as r')
      .innerJoin('review_assignments as a', 'a.id', 'r.assignment_id')
      .select(['r.case_id', 'a.case_id as assignment_case_id', 'r.arm_id'])
      .where('r.id', '=', answerId)
      .executeTakeFirstOrThrow();
    expect(first.case_id).toBe(first.assignment_case_id);
    expect(first.arm_id).toBeNull();
  });

  it('L3/research records: a submitted answer can be neither rewritten nor deleted', async () => {
    expect(
      await refusal(
        sql`UPDATE review_answers SET answers = '{"diagnosis":"bronchitis"}' WHERE id = ${answerId}`,
      ),
    ).toMatch(/research records are never destroyed or rewritten/);
    expect(await refusal(sql`DELETE FROM review_answers WHERE id = ${answerId}`)).toMatch(
      /research records are never destroyed or rewritten/,
    );
    const kept = await db()
      .selectFrom('review_answers')
      .select('answers')
      .where('id', '=', answerId)
      .executeTakeFirstOrThrow();
    expect(kept.answers).toEqual({ diagnosis: 'pneumonia' });
  });

  it('L3/research records: attention results and randomizations are write-once', async () => {
    expect(await refusal(sql`UPDATE attention_results SET passed = true`)).toMatch(
      /never destroyed or rewritten/,
    );
    expect(await refusal(sql`UPDATE randomizations SET seed = 'rewritten'`)).toMatch(
      /never destroyed or rewritten/,
    );
  });

  it('L3/research records: nothing of a study is deleted, not even the whole study', async () => {
    for (const table of [
      'studies',
      'study_members',
      'review_cases',
      'questionnaire_versions',
      'review_assignments',
      'attention_results',
    ]) {
      expect(await refusal(sql`DELETE FROM ${sql.table(table)}`), table).toMatch(
        /never destroyed or rewritten/,
      );
    }
    const study = await db()
      .selectFrom('studies')
      .select('id')
      .where('id', '=', world.studyId)
      .executeTakeFirst();
    expect(study?.id).toBe(world.studyId);
  });

  it('L3/research records: a published questionnaire version is immutable; a draft is not', async () => {
    expect(
      await refusal(
        sql`UPDATE questionnaire_versions SET title = 'Rewritten' WHERE id = ${versionId}`,
      ),
    ).toMatch(/published questionnaire version is immutable/);
    const draft = await db()
      .insertInto('questionnaire_versions')
      .values({
        study_id: world.studyId,
        version: 99,
        title: 'Draft',
        questions: JSON.stringify([]),
        attention_check: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(
      await refusal(sql`UPDATE questionnaire_versions SET title = 'Edited' WHERE id = ${draft.id}`),
    ).toBe('');
  });
});
