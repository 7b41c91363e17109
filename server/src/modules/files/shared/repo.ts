// Queries shared by the files module's rooms: storage usage (F8) and the file rows themselves.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema, FileStatus } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

/**
 * Serializes quota decisions: two uploads started at once by one person (or by everyone against
 * the storage quota) must not both fit in room only one of them has. Held to the end of the
 * caller's transaction; decisions are short (a few rows read, one written).
 */
export async function lockQuotas(db: Db): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('haven.files.quota'))`.execute(db);
}

/** Bytes held by stored files (not deleted) plus bytes reserved by open upload sessions. */
export async function bytesInUse(
  db: Db,
  filter: { readonly ownerId?: string; readonly bucket?: string; readonly exceptSession?: string },
): Promise<number> {
  let files = db
    .selectFrom('files')
    .select(sql<string>`coalesce(sum(size), 0)::text`.as('bytes'))
    .where('status', '<>', 'deleted');
  let sessions = db
    .selectFrom('upload_sessions')
    .select(sql<string>`coalesce(sum(declared_size), 0)::text`.as('bytes'))
    .where('status', '=', 'open');
  if (filter.ownerId !== undefined) {
    files = files.where('owner_id', '=', filter.ownerId);
    sessions = sessions.where('owner_id', '=', filter.ownerId);
  }
  if (filter.bucket !== undefined) {
    files = files.where('bucket', '=', filter.bucket);
    sessions = sessions.where('bucket', '=', filter.bucket);
  }
  if (filter.exceptSession !== undefined) {
    sessions = sessions.where('id', '<>', filter.exceptSession);
  }
  const [stored, reserved] = await Promise.all([
    files.executeTakeFirstOrThrow(),
    sessions.executeTakeFirstOrThrow(),
  ]);
  return Number(stored.bytes) + Number(reserved.bytes);
}

export const FILE_COLUMNS = [
  'files.id',
  'files.owner_id',
  'files.patient_id',
  'files.organization_id',
  'files.bucket',
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

export interface FileRow {
  id: string;
  owner_id: string;
  patient_id: string | null;
  organization_id: string | null;
  bucket: string;
  object_key: string;
  name: string;
  file_type: string;
  content_type: string;
  size: string | number;
  sha256: string | null;
  status: FileStatus;
  status_reason: string | null;
  scanned_at: Date | null;
  created_at: Date;
}

export async function selectFile(db: Db, fileId: string): Promise<FileRow | undefined> {
  return db.selectFrom('files').select(FILE_COLUMNS).where('id', '=', fileId).executeTakeFirst();
}
