// The reviews module's rows of the authorization matrix (Z1–Z5), spread into MATRIX by
// authorization-matrix.table.ts. Research routes are held by two roles only: the `researcher`
// actor (a researcher member of organization A who owns study S) and the `participant` actor
// (a participant of S with assignments). Everyone else lacks the scope (403), no credentials is
// 401 and the scopeless machine token 403. Isolation between studies (another researcher's
// study, another participant's assignment: 404) is proven in the rooms' own Z4 tests, which
// field several researchers and participants; one researcher cannot show it here.
//
// Routes that change state run on throwaway targets made by `prepare`, so no cell depends on
// the order of the others.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../src/platform/db/schema.js';
import {
  SAMPLE_TREE,
  addStudyMember,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  insertQuestionnaireVersion,
  insertStudy,
} from '../review-actors.js';
import { createUser } from '../actors.js';

type Db = Kysely<DatabaseSchema>;

/** The study world of the matrix: built once per engine by buildReviewsWorld. */
export interface ReviewsWorld {
  readonly studyId: string;
  readonly caseId: string;
  readonly caseExternalId: string;
  readonly questionnaireId: string;
  readonly experimentId: string;
  readonly armId: string;
  /** The participant's first assignment in the study (left unanswered). */
  readonly assignmentId: string;
}

interface People {
  readonly researcher: { readonly userId: string };
  readonly participant: { readonly userId: string };
}

async function insertExperiment(db: Db, studyId: string): Promise<{ id: string; armId: string }> {
  const experiment = await db
    .insertInto('experiments')
    .values({ study_id: studyId, name: 'AI score shown or not' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const arm = await db
    .insertInto('experiment_arms')
    .values({
      experiment_id: experiment.id,
      study_id: studyId,
      name: 'With AI score',
      display: JSON.stringify({ showAiScore: true, features: [] }),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('experiment_arms')
    .values({
      experiment_id: experiment.id,
      study_id: studyId,
      name: 'Without AI score',
      display: JSON.stringify({ showAiScore: false, features: [] }),
    })
    .execute();
  return { id: experiment.id, armId: arm.id };
}

/**
 * A full, active study of the researcher in organization A (case, published questionnaire,
 * experiment with two arms), the participant on its team with one assignment.
 */
export async function newActiveStudy(
  db: Db,
  organizationId: string,
  people: People,
): Promise<ReviewsWorld> {
  const studyId = await insertStudy(db, organizationId, people.researcher.userId);
  await addStudyMember(db, studyId, people.participant.userId, 'participant');
  const caseExternalId = 'case-001';
  const caseId = await insertCase(db, studyId, caseExternalId, { aiScore: 0.82 });
  const questionnaireId = await insertPublishedQuestionnaire(db, studyId);
  const experiment = await insertExperiment(db, studyId);
  const assignmentId = await insertAssignment(db, studyId, people.participant.userId, caseId);
  return {
    studyId,
    caseId,
    caseExternalId,
    questionnaireId,
    experimentId: experiment.id,
    armId: experiment.armId,
    assignmentId,
  };
}

/** Makes the researcher a researcher member of organization A and builds its study. */
export async function buildReviewsWorld(
  db: Db,
  organizationId: string,
  people: People,
): Promise<ReviewsWorld> {
  await db
    .insertInto('organization_members')
    .values({
      organization_id: organizationId,
      user_id: people.researcher.userId,
      role: 'researcher',
    })
    .execute();
  return newActiveStudy(db, organizationId, people);
}

/** A draft questionnaire version (the newest) in a study. */
export const insertDraftQuestionnaire = (db: Db, studyId: string): Promise<string> =>
  insertQuestionnaireVersion(db, studyId, {
    title: 'Draft questionnaire',
    questions: [{ id: 'diagnosis', type: 'text', prompt: 'Diagnosis?', required: true }],
  });

/** A participant-role account that is on no study yet. */
export const newParticipantAccount = async (db: Db): Promise<string> =>
  (await createUser(db, { roles: ['participant'] })).userId;

/** A tiny valid case body for the import routes. */
export const CASE_BODY = (externalId: string) => ({
  cases: [{ externalId, tree: SAMPLE_TREE, aiScore: 0.4, aiExplanation: 'Fever and low SpO2.' }],
});

export const CASE_CSV = (externalId: string) =>
  'case_id,path,label,value,unit\r\n' +
  `${externalId},vitals/heart_rate,Heart rate,98,bpm\r\n` +
  `${externalId},history/smoker,Smoker,false,\r\n`;

export const ANSWER_BODY = (questionnaireVersionId: string) => ({
  questionnaireVersionId,
  answers: { diagnosis: 'pneumonia', confidence: 4, comment: 'Matrix answer.' },
});
