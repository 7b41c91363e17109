// Files as people see them: with the uploader's and the patient's names, never bare ids.
import { sql, type Kysely } from 'kysely';
import { ownerStillRelated } from '../../../platform/access/index.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

export const FILE_COLUMNS = [
  'files.id',
  'files.owner_id',
  'files.patient_id',
  'files.organization_id',
  'files.bucket',
  'files.bucket_id',
  'files.object_key',
  'files.name',
  'files.file_type',
  'files.content_type',
  'files.size',
  'files.sha256',
  'files.status',
  'files.status_reason',
  'files.scanned_at',
  'files.created_at',
] as const;

function withNames(db: Db) {
  return db
    .selectFrom('files')
    .innerJoin('users as owner', 'owner.id', 'files.owner_id')
    .leftJoin('patients', 'patients.id', 'files.patient_id')
    .select(FILE_COLUMNS)
    .select([
      'owner.display_name as owner_name',
      sql<string | null>`CASE WHEN patients.id IS NULL THEN NULL
        ELSE patients.given_name || ' ' || patients.family_name END`.as('patient_name'),
    ]);
}

export type NamedFileRow = Awaited<ReturnType<typeof selectNamedFile>> & object;

export async function selectNamedFile(db: Db, fileId: string) {
  return withNames(db)
    .where('files.id', '=', fileId)
    .where('files.status', '<>', 'deleted')
    .executeTakeFirst();
}

/** The caller's own uploads (personal and those they attached to records), newest first. */
export async function selectOwnFiles(db: Db, ownerId: string, limit: number) {
  return (
    withNames(db)
      .where('files.owner_id', '=', ownerId)
      .where('files.status', '<>', 'deleted')
      // A record's file leaves the list of an uploader who left its organization (Z4).
      .where(ownerStillRelated(ownerId))
      .orderBy('files.created_at', 'desc')
      .orderBy('files.id')
      .limit(limit)
      .execute()
  );
}

/** Files attached to one patient's record (access to the record already checked). */
export async function selectPatientFiles(db: Db, patientId: string, limit: number) {
  return withNames(db)
    .where('files.patient_id', '=', patientId)
    .where('files.status', '<>', 'deleted')
    .orderBy('files.created_at', 'desc')
    .orderBy('files.id')
    .limit(limit)
    .execute();
}

export async function markDeleted(db: Db, fileId: string): Promise<boolean> {
  const result = await db
    .updateTable('files')
    .set({ status: 'deleted', deleted_at: sql<Date>`now()` })
    .where('id', '=', fileId)
    .where('status', '<>', 'deleted')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
