// Which storage a request works on (F1, F2): the system default, or an owned bucket's S3 driver.
// A session's later calls and a file's downloads, scans and cleanup always use the bucket the
// session was started in (its row), never one a request names. The context returned carries that
// bucket's storage and size limit, so every function below it (completion, quotas) uses them.
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { requireAccess } from '../../../platform/access/index.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { BucketStorages } from '../../../platform/storage/configured.js';
import type { ObjectStorage } from '../../../platform/storage/index.js';
import { selectBucket, type BucketRow } from '../buckets/repo.js';
import type { FilesSettings } from './settings.js';

type FilesContext = ModuleContext<FilesSettings>;
type Db = Kysely<DatabaseSchema>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function inactiveBucket(): HavenError {
  return new HavenError(
    'BUCKET_INACTIVE',
    'The bucket this upload goes to was removed; start the upload again elsewhere.',
  );
}

function driverOf(buckets: BucketStorages, row: BucketRow): ObjectStorage {
  return buckets.open({
    id: row.id,
    updatedAt: row.updated_at,
    endpoint: row.endpoint,
    region: row.region,
    bucketName: row.bucket_name,
    pathStyle: row.path_style,
    serverSideEncryption:
      row.sse_mode === 'aws:kms'
        ? { mode: 'aws:kms', kmsKeyId: row.kms_key_id ?? '' }
        : { mode: row.sse_mode },
    credentialsSealed: row.credentials_sealed,
  });
}

/** The storage of a stored bucket id (null: the default), for jobs that hold no context. */
export async function storageOfBucket(
  db: Db,
  defaults: { readonly storage: ObjectStorage; readonly buckets?: BucketStorages | undefined },
  bucketId: string | null,
): Promise<ObjectStorage> {
  if (bucketId === null) return defaults.storage;
  const row = await selectBucket(db, bucketId);
  if (!row || !defaults.buckets) throw new Error(`bucket ${bucketId} cannot be opened`);
  return driverOf(defaults.buckets, row);
}

/**
 * The context of a stored bucket (null: the default, unchanged). `active`: a bucket marked
 * deleted answers 409 BUCKET_INACTIVE (new bytes never go to a removed bucket).
 */
export async function withBucket(
  ctx: FilesContext,
  bucketId: string | null,
  options: { active: boolean },
): Promise<FilesContext> {
  if (bucketId === null) return ctx;
  const row = await selectBucket(ctx.db, bucketId);
  if (!row) throw new Error(`bucket ${bucketId} is missing`);
  if (options.active && row.deleted_at !== null) throw inactiveBucket();
  return {
    ...ctx,
    settings: {
      ...ctx.settings,
      storage: driverOf(ctx.settings.buckets, row),
      bucket: {
        id: row.id,
        sizeLimitBytes: row.size_limit_bytes === null ? null : Number(row.size_limit_bytes),
      },
    },
  };
}

/** The context of a session's own bucket (never one a request names); it must be active. */
export async function sessionContext(
  ctx: FilesContext,
  session: { readonly bucket_id: string | null },
): Promise<FilesContext> {
  return withBucket(ctx, session.bucket_id, { active: true });
}

/**
 * The bucket a new upload asks for: absent or `default` is the system default; an owned bucket
 * needs `bucket:use` (someone else's is the same 404 as a missing one, Z4).
 */
export async function uploadBucketContext(
  ctx: FilesContext,
  request: FastifyRequest,
  bucketId: string | undefined,
): Promise<FilesContext> {
  if (bucketId === undefined || bucketId === 'default') return ctx;
  if (!UUID.test(bucketId)) {
    throw new HavenError('VALIDATION_FAILED', 'bucketId: must be a bucket id or "default".', {
      errors: [{ field: 'bucketId', message: 'must be a bucket id or "default"' }],
    });
  }
  await requireAccess(ctx.db, request, 'bucket:use', { bucketId });
  return withBucket(ctx, bucketId, { active: true });
}
