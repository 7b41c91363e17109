// Queries shared by the files module's rooms: storage usage (F8) and the file rows themselves.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';

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
