// What the buckets room reads and writes (F1). Credentials are stored sealed only; deletion is a
// mark (0009_buckets refuses DELETE).
import { sql, type Kysely, type Selectable } from 'kysely';
import type { BucketsTable, DatabaseSchema } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;
export type BucketRow = Selectable<BucketsTable>;
type NewBucket = Omit<
  BucketRow,
  'created_at' | 'updated_at' | 'deleted_at' | 'deleted_by' | 'size_limit_bytes'
> & {
  size_limit_bytes: number | null;
};

export const LIST_LIMIT = 200;

/**
 * Active buckets the caller owns, or, for a staff account (`staff`), of organizations where they
 * administer or may upload.
 */
export async function selectVisibleBuckets(
  db: Db,
  userId: string,
  access: { staff: boolean; mayUpload: boolean },
) {
  return db
    .selectFrom('buckets')
    .leftJoin('organization_members as m', (join) =>
      join
        .onRef('m.organization_id', '=', 'buckets.owner_organization_id')
        .on('m.user_id', '=', userId),
    )
    .selectAll('buckets')
    .select('m.role')
    .where('buckets.deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('buckets.owner_user_id', '=', userId),
        ...(access.staff ? [eb('m.role', '=', 'org_admin')] : []),
        ...(access.staff && access.mayUpload ? [eb('m.user_id', '=', userId)] : []),
      ]),
    )
    .orderBy('buckets.created_at')
    .limit(LIST_LIMIT)
    .execute();
}

/** One bucket by id, marked or not (callers have passed requireAccess, or are jobs). */
export async function selectBucket(db: Db, bucketId: string): Promise<BucketRow | undefined> {
  return db.selectFrom('buckets').selectAll().where('id', '=', bucketId).executeTakeFirst();
}

/** Locks an active bucket against a concurrent deletion (FOR SHARE) or for one (FOR UPDATE). */
export async function lockActiveBucket(
  db: Db,
  bucketId: string,
  mode: 'share' | 'update',
): Promise<BucketRow | undefined> {
  const query = db
    .selectFrom('buckets')
    .selectAll()
    .where('id', '=', bucketId)
    .where('deleted_at', 'is', null);
  return (mode === 'share' ? query.forShare() : query.forUpdate()).executeTakeFirst();
}

export async function insertBucket(db: Db, row: NewBucket): Promise<BucketRow> {
  return db.insertInto('buckets').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateBucket(
  db: Db,
  bucketId: string,
  changes: Partial<Omit<NewBucket, 'id' | 'created_by'>>,
): Promise<BucketRow | undefined> {
  return db
    .updateTable('buckets')
    .set({ ...changes, updated_at: sql<Date>`now()` })
    .where('id', '=', bucketId)
    .where('deleted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function markDeleted(db: Db, bucketId: string, userId: string): Promise<void> {
  await db
    .updateTable('buckets')
    .set({ deleted_at: sql<Date>`now()`, deleted_by: userId, updated_at: sql<Date>`now()` })
    .where('id', '=', bucketId)
    .where('deleted_at', 'is', null)
    .execute();
}

/** Whether anything still refers to the bucket: a file not deleted, or an open upload. */
export async function bucketInUse(db: Db, bucketId: string): Promise<boolean> {
  const file = await db
    .selectFrom('files')
    .select('id')
    .where('bucket_id', '=', bucketId)
    .where('status', '<>', 'deleted')
    .limit(1)
    .executeTakeFirst();
  if (file) return true;
  const session = await db
    .selectFrom('upload_sessions')
    .select('id')
    .where('bucket_id', '=', bucketId)
    .where('status', '=', 'open')
    .limit(1)
    .executeTakeFirst();
  return session !== undefined;
}
