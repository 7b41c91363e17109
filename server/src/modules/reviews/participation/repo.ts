// Queries of the participant's flow. Every one is keyed by the participant and the study that
// requireAccess returned, so nothing of another person or study is ever loaded.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type {
  AttentionCheckView,
  CaseNode,
  DisplayConfigView,
  QuestionView,
} from '../shared/schemas.js';

type Db = Kysely<DatabaseSchema>;

export interface AssignmentRow {
  id: string;
  study_id: string;
  case_id: string;
  position: number;
  display: DisplayConfigView;
  answered: boolean;
}

export interface QuestionnaireRow {
  id: string;
  version: number;
  title: string;
  questions: QuestionView[];
  attention_check: AttentionCheckView | null;
}

export interface CaseRow {
  tree: CaseNode[];
  ai_score: number | null;
  ai_explanation: string | null;
}

/** The caller's participant memberships in studies that are running or finished. */
export async function listParticipantStudies(db: Db, userId: string) {
  return db
    .selectFrom('study_members as m')
    .innerJoin('studies as s', 's.id', 'm.study_id')
    .select((eb) => [
      's.id',
      's.title',
      's.description',
      's.status',
      eb
        .selectFrom('review_assignments as a')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('a.study_id', '=', 's.id')
        .where('a.participant_id', '=', userId)
        .as('total'),
      eb
        .selectFrom('review_answers as r')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('r.study_id', '=', 's.id')
        .where('r.participant_id', '=', userId)
        .as('answered'),
    ])
    .where('m.user_id', '=', userId)
    .where('m.role', '=', 'participant')
    .where('m.removed_at', 'is', null)
    .where('s.status', 'in', ['active', 'closed'])
    .orderBy('s.created_at', 'desc')
    .orderBy('s.id')
    .execute();
}

export const answeredFlag = sql<boolean>`exists (select 1 from review_answers r where r.assignment_id = a.id)`;

const QUESTIONNAIRE_COLUMNS = ['id', 'version', 'title', 'questions', 'attention_check'] as const;
/** The same columns for raw statements (constant names, nothing from a caller). */
const QUESTIONNAIRE_SELECT = sql.raw(QUESTIONNAIRE_COLUMNS.join(', '));

/**
 * The version participants answer: the study's newest published one. One statement for both
 * newestPublishedVersion and the next-case query, so the rule is written once.
 */
export function newestPublishedSql(studyId: string) {
  return sql<QuestionnaireRow>`
    select ${QUESTIONNAIRE_SELECT} from questionnaire_versions
    where study_id = ${studyId} and status = 'published'
    order by version desc limit 1`;
}

export async function findAssignment(
  db: Db,
  assignmentId: string,
  studyId: string,
): Promise<AssignmentRow | undefined> {
  return db
    .selectFrom('review_assignments as a')
    .select(['a.id', 'a.study_id', 'a.case_id', 'a.position', 'a.display'])
    .select(answeredFlag.as('answered'))
    .where('a.id', '=', assignmentId)
    .where('a.study_id', '=', studyId)
    .executeTakeFirst() as Promise<AssignmentRow | undefined>;
}

/** The version participants answer: the study's newest published one. */
export async function newestPublishedVersion(
  db: Db,
  studyId: string,
): Promise<QuestionnaireRow | undefined> {
  const { rows } = await newestPublishedSql(studyId).execute(db);
  return rows[0];
}

export async function versionById(
  db: Db,
  studyId: string,
  versionId: string,
): Promise<QuestionnaireRow | undefined> {
  return db
    .selectFrom('questionnaire_versions')
    .select(QUESTIONNAIRE_COLUMNS)
    .where('study_id', '=', studyId)
    .where('id', '=', versionId)
    .executeTakeFirst() as Promise<QuestionnaireRow | undefined>;
}

export async function findCase(
  db: Db,
  studyId: string,
  caseId: string,
): Promise<CaseRow | undefined> {
  return db
    .selectFrom('review_cases')
    .select(['tree', 'ai_score', 'ai_explanation'])
    .where('study_id', '=', studyId)
    .where('id', '=', caseId)
    .executeTakeFirst() as Promise<CaseRow | undefined>;
}

export interface StoredAnswer {
  id: string;
  submission_key: string;
  questionnaire_version_id: string;
  submitted_at: Date;
}

export async function findAnswer(db: Db, assignmentId: string): Promise<StoredAnswer | undefined> {
  return db
    .selectFrom('review_answers')
    .select(['id', 'submission_key', 'questionnaire_version_id', 'submitted_at'])
    .where('assignment_id', '=', assignmentId)
    .executeTakeFirst();
}

export type TimingRow = {
  case_opened_at: Date | null;
  form_opened_at: Date | null;
  client_case_opened_at: Date | null;
  client_form_opened_at: Date | null;
  submitted_at: Date | null;
  flags: string[];
};

export async function findTiming(db: Db, assignmentId: string): Promise<TimingRow | undefined> {
  return db
    .selectFrom('review_timings')
    .select([
      'case_opened_at',
      'form_opened_at',
      'client_case_opened_at',
      'client_form_opened_at',
      'submitted_at',
      'flags',
    ])
    .where('assignment_id', '=', assignmentId)
    .executeTakeFirst();
}

/**
 * Stamps one opening of an unanswered assignment: the first server stamp and the first client
 * stamp of each kind win (a reload does not restart the clock). After the answer, nothing moves.
 * Returns whether a stamp was set.
 */
export async function stampOpening(
  db: Db,
  input: {
    assignmentId: string;
    studyId: string;
    kind: 'case_opened' | 'form_opened';
    at: Date;
    clientAt: Date | null;
  },
): Promise<boolean> {
  const caseKind = input.kind === 'case_opened';
  const server = caseKind ? 'case_opened_at' : 'form_opened_at';
  const client = caseKind ? 'client_case_opened_at' : 'client_form_opened_at';
  const firstOf = (column: typeof server | typeof client) =>
    sql<Date>`coalesce(${sql.ref(`review_timings.${column}`)}, ${sql.ref(`excluded.${column}`)})`;
  const stamps = caseKind
    ? { case_opened_at: input.at, client_case_opened_at: input.clientAt }
    : { form_opened_at: input.at, client_form_opened_at: input.clientAt };
  const result = await db
    .insertInto('review_timings')
    .values({
      assignment_id: input.assignmentId,
      study_id: input.studyId,
      ...stamps,
      updated_at: input.at,
    })
    .onConflict((oc) =>
      oc
        .column('assignment_id')
        .doUpdateSet(
          caseKind
            ? {
                case_opened_at: firstOf('case_opened_at'),
                client_case_opened_at: firstOf('client_case_opened_at'),
                updated_at: input.at,
              }
            : {
                form_opened_at: firstOf('form_opened_at'),
                client_form_opened_at: firstOf('client_form_opened_at'),
                updated_at: input.at,
              },
        )
        .where((eb) =>
          eb.or([
            eb(`review_timings.${server}`, 'is', null),
            ...(input.clientAt === null ? [] : [eb(`review_timings.${client}`, 'is', null)]),
          ]),
        )
        .where('review_timings.submitted_at', 'is', null),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function insertAnswer(
  db: Db,
  values: {
    assignmentId: string;
    studyId: string;
    participantId: string;
    questionnaireVersionId: string;
    answers: object;
    display: DisplayConfigView;
    aiScoreShown: boolean;
    submissionKey: string;
    submittedAt: Date;
  },
): Promise<{ id: string; submitted_at: Date } | undefined> {
  // ON CONFLICT DO NOTHING: of two concurrent submissions one inserts; the other waits for it to
  // commit, inserts nothing and then reads the winner's row (answers 200 or 409 from its key).
  return db
    .insertInto('review_answers')
    .values({
      assignment_id: values.assignmentId,
      study_id: values.studyId,
      participant_id: values.participantId,
      questionnaire_version_id: values.questionnaireVersionId,
      answers: JSON.stringify(values.answers),
      display_snapshot: JSON.stringify(values.display),
      ai_score_shown: values.aiScoreShown,
      submission_key: values.submissionKey,
      submitted_at: values.submittedAt,
    })
    .onConflict((oc) => oc.column('assignment_id').doNothing())
    .returning(['id', 'submitted_at'])
    .executeTakeFirst();
}

export async function saveSubmittedTiming(
  db: Db,
  values: {
    assignmentId: string;
    studyId: string;
    submittedAt: Date;
    clientCaseOpenedAt: Date | null;
    clientFormOpenedAt: Date | null;
    clientSubmittedAt: Date | null;
    readingMs: number | null;
    answeringMs: number | null;
    totalMs: number | null;
    flags: string[];
  },
): Promise<void> {
  const row = {
    submitted_at: values.submittedAt,
    client_case_opened_at: values.clientCaseOpenedAt,
    client_form_opened_at: values.clientFormOpenedAt,
    client_submitted_at: values.clientSubmittedAt,
    reading_ms: values.readingMs,
    answering_ms: values.answeringMs,
    total_ms: values.totalMs,
    flags: values.flags,
    updated_at: values.submittedAt,
  };
  await db
    .insertInto('review_timings')
    .values({ assignment_id: values.assignmentId, study_id: values.studyId, ...row })
    .onConflict((oc) => oc.column('assignment_id').doUpdateSet(row))
    .execute();
}

export async function insertAttentionResult(
  db: Db,
  values: {
    studyId: string;
    participantId: string;
    assignmentId: string;
    questionnaireVersionId: string;
    expected: string;
    given: string;
    passed: boolean;
  },
): Promise<void> {
  await db
    .insertInto('attention_results')
    .values({
      study_id: values.studyId,
      participant_id: values.participantId,
      assignment_id: values.assignmentId,
      questionnaire_version_id: values.questionnaireVersionId,
      expected: JSON.stringify(values.expected),
      given: JSON.stringify(values.given),
      passed: values.passed,
    })
    .execute();
}
