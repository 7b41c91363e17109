// Questionnaire versions in the database, always keyed by the study the caller was allowed into.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { QuestionnaireInput } from './schemas.js';

export type Db = Kysely<DatabaseSchema>;

const VERSION_COLUMNS = [
  'id',
  'version',
  'title',
  'status',
  'questions',
  'attention_check',
  'created_at',
  'published_at',
] as const;

export function listVersions(db: Db, studyId: string) {
  return db
    .selectFrom('questionnaire_versions')
    .select(VERSION_COLUMNS)
    .where('study_id', '=', studyId)
    .orderBy('version', 'desc')
    .execute();
}
export type VersionRow = Awaited<ReturnType<typeof listVersions>>[number];

/** One version of the study's questionnaire; `lock` holds it until commit (edit, publish). */
export function findVersion(
  db: Db,
  studyId: string,
  versionId: string,
  options: { lock?: boolean } = {},
): Promise<VersionRow | undefined> {
  const query = db
    .selectFrom('questionnaire_versions')
    .select(VERSION_COLUMNS)
    .where('study_id', '=', studyId)
    .where('id', '=', versionId);
  return (options.lock ? query.forUpdate() : query).executeTakeFirst();
}

/** The newest version number and whether a draft exists, to number a new draft. */
export async function versionState(
  db: Db,
  studyId: string,
): Promise<{ newest: number; draftVersion: number | undefined }> {
  const rows = await db
    .selectFrom('questionnaire_versions')
    .select(['version', 'status'])
    .where('study_id', '=', studyId)
    .orderBy('version', 'desc')
    .execute();
  return {
    newest: rows[0]?.version ?? 0,
    draftVersion: rows.find((row) => row.status === 'draft')?.version,
  };
}

export async function insertDraft(
  db: Db,
  draft: { studyId: string; version: number; createdBy: string; body: QuestionnaireInput },
): Promise<VersionRow> {
  return db
    .insertInto('questionnaire_versions')
    .values({
      study_id: draft.studyId,
      version: draft.version,
      title: draft.body.title,
      questions: JSON.stringify(draft.body.questions),
      attention_check: draft.body.attentionCheck ? JSON.stringify(draft.body.attentionCheck) : null,
      status: 'draft',
      created_by: draft.createdBy,
    })
    .returning(VERSION_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** Replaces a draft's content; the status condition and the table's trigger keep published ones. */
export function updateDraft(
  db: Db,
  studyId: string,
  versionId: string,
  body: QuestionnaireInput,
): Promise<VersionRow | undefined> {
  return db
    .updateTable('questionnaire_versions')
    .set({
      title: body.title,
      questions: JSON.stringify(body.questions),
      attention_check: body.attentionCheck ? JSON.stringify(body.attentionCheck) : null,
    })
    .where('study_id', '=', studyId)
    .where('id', '=', versionId)
    .where('status', '=', 'draft')
    .returning(VERSION_COLUMNS)
    .executeTakeFirst();
}

export function markPublished(
  db: Db,
  studyId: string,
  versionId: string,
  now: Date,
): Promise<VersionRow | undefined> {
  return db
    .updateTable('questionnaire_versions')
    .set({ status: 'published', published_at: now })
    .where('study_id', '=', studyId)
    .where('id', '=', versionId)
    .where('status', '=', 'draft')
    .returning(VERSION_COLUMNS)
    .executeTakeFirst();
}
