// What the upload cleanup reads and writes (F7).
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

/** Open sessions past their expiry (database clock), oldest first. */
export async function selectExpiredSessions(db: Db, limit: number) {
  return db
    .selectFrom('upload_sessions')
    .select(['id', 'owner_id', 'object_key', 'storage_upload_id', 'bucket_id'])
    .where('status', '=', 'open')
    .where('expires_at', '<', sql<Date>`now()`)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

export async function recordCleanupFailure(db: Db, sessionId: string, reason: string) {
  await db
    .updateTable('upload_sessions')
    .set({ cleanup_attempts: sql<number>`cleanup_attempts + 1`, cleanup_error: reason })
    .where('id', '=', sessionId)
    .execute();
}
