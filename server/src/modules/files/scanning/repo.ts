// What the scan job reads and writes.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

export interface ScanTarget {
  id: string;
  owner_id: string;
  owner_email: string;
  object_key: string;
  bucket_id: string | null;
  name: string;
  file_type: string;
  size: string | number;
}

export async function selectScanTarget(db: Db, fileId: string): Promise<ScanTarget | undefined> {
  return db
    .selectFrom('files')
    .innerJoin('users', 'users.id', 'files.owner_id')
    .select([
      'files.id',
      'files.owner_id',
      'users.email as owner_email',
      'files.object_key',
      'files.bucket_id',
      'files.name',
      'files.file_type',
      'files.size',
    ])
    .where('files.id', '=', fileId)
    .where('files.status', '=', 'scanning')
    .executeTakeFirst();
}

export async function countAttempt(db: Db, fileId: string): Promise<void> {
  await db
    .updateTable('files')
    .set({ scan_attempts: sql<number>`scan_attempts + 1` })
    .where('id', '=', fileId)
    .execute();
}

/** Moves a `scanning` file to its verdict; false when it was no longer scanning. */
export async function settle(
  db: Db,
  fileId: string,
  status: 'clean' | 'quarantined',
  reason: string | null,
): Promise<boolean> {
  const result = await db
    .updateTable('files')
    .set({ status, status_reason: reason, scanned_at: sql<Date>`now()` })
    .where('id', '=', fileId)
    .where('status', '=', 'scanning')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** `scanning` files without a pending or running scan job, oldest first. */
export async function selectUnqueuedScans(db: Db, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('files')
    .select('id')
    .where('status', '=', 'scanning')
    .where(
      sql<boolean>`NOT EXISTS (
        SELECT 1 FROM jobs
        WHERE jobs.queue = 'files.scan'
          AND jobs.singleton_key = files.id::text
          AND jobs.status IN ('pending', 'running'))`,
    )
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map((row) => row.id);
}
