// Storage buckets (F1, Z5, Z6, V5): the system default (from configuration, read-only through the
// API) and buckets owned by a person or an organization. A bucket is added only when its name
// and region are valid, its endpoint passes the outbound guard (allowlisted host, no internal
// address after our own DNS resolution) and HeadBucket answers with the given credentials; the
// credentials are then sealed with the key ring and never leave the server again. Adding or
// changing a bucket needs a fresh MFA check (route-level step-up) and is audited.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import {
  ORGANIZATION_STAFF_SCOPE,
  requireAccess,
  requireUser,
} from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { OutboundRequestError } from '../../../platform/http-client.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { StorageError } from '../../../platform/storage/index.js';
import type { BucketCredentials, BucketLocation } from '../../../platform/storage/configured.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { bytesInUse } from '../shared/repo.js';
import { OWNED_BUCKET_PART_BYTES, directPartBytes } from '../uploads/multipart.js';
import { DEFAULT_BUCKET, type FilesSettings } from '../shared/settings.js';
import * as repo from './repo.js';
import { refuseFields, validateBucket } from './validation.js';
import type { BucketRow } from './repo.js';
import {
  DEFAULT_BUCKET_ID,
  type BucketView,
  type CreateBucketInput,
  type UpdateBucketInput,
} from './schemas.js';

type FilesContext = ModuleContext<FilesSettings>;

const UPLOAD_SCOPE = 'files:write';

const OUTBOUND_REASONS: Partial<Record<OutboundRequestError['code'], string>> = {
  // Read by the person filling in the form: what is wrong and who can change it, in words.
  OUTBOUND_HOST_NOT_ALLOWED:
    'Haven may not connect to this storage address. Ask an administrator to allow its host.',
  OUTBOUND_PROTOCOL_FORBIDDEN: 'The storage address must start with https://.',
  OUTBOUND_ADDRESS_FORBIDDEN:
    'This storage address leads to an internal network address, which Haven never connects to.',
  OUTBOUND_DNS_FAILED: 'No server answers to this storage address. Check it for typing mistakes.',
};

/** V5, then HeadBucket with the credentials: refuses with the reason, names no secret. */
async function reachBucket(
  ctx: FilesContext,
  location: BucketLocation,
  credentials: Parameters<FilesSettings['buckets']['connect']>[1],
): Promise<void> {
  const { buckets } = ctx.settings;
  try {
    await buckets.checkEndpoint(location.endpoint);
  } catch (error) {
    if (!(error instanceof OutboundRequestError)) throw error;
    const message = OUTBOUND_REASONS[error.code] ?? 'The endpoint is not allowed.';
    throw new HavenError('BUCKET_ENDPOINT_FORBIDDEN', `endpoint: ${message}`, {
      errors: [{ field: 'endpoint', message }],
    });
  }
  try {
    await buckets.connect(location, credentials).headBucket();
  } catch (error) {
    if (!(error instanceof StorageError)) throw error;
    const detail =
      error.code === 'STORAGE_BUCKET_NOT_FOUND'
        ? `Not found: the endpoint has no bucket named "${location.bucketName}".`
        : error.code === 'STORAGE_ACCESS_DENIED'
          ? 'Access denied: the endpoint refused these credentials for this bucket.'
          : error.code === 'STORAGE_UNAVAILABLE'
            ? 'Unreachable: the endpoint did not answer.'
            : 'The endpoint answered HeadBucket with an error.';
    throw new HavenError('BUCKET_UNREACHABLE', detail);
  }
}

// ── Views ──────────────────────────────────────────────────────────────────────────────────────

function rowView(row: BucketRow, used: number, canManage: boolean): BucketView {
  return {
    id: row.id,
    isDefault: false,
    readOnly: false,
    owner: row.owner_user_id
      ? { type: 'user', id: row.owner_user_id }
      : { type: 'organization', id: row.owner_organization_id },
    storage: 's3',
    name: row.bucket_name,
    endpoint: row.endpoint,
    region: row.region,
    pathStyle: row.path_style,
    sseMode: row.sse_mode,
    kmsKeyId: row.kms_key_id,
    accessKeyHint: row.access_key_hint,
    sizeLimitBytes: row.size_limit_bytes === null ? null : Number(row.size_limit_bytes),
    usedBytes: used,
    // Every owned bucket is S3 and takes parts straight from browsers (through its relay).
    multipartPartBytes: OWNED_BUCKET_PART_BYTES,
    notes: row.notes,
    canUse: true,
    canManage,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

async function defaultView(ctx: FilesContext, userId: string): Promise<BucketView> {
  const { storage, userQuotaBytes } = ctx.settings;
  return {
    id: DEFAULT_BUCKET_ID,
    isDefault: true,
    readOnly: true,
    owner: { type: 'system', id: null },
    storage: storage.presigner ? 's3' : 'filesystem',
    name: null,
    endpoint: null,
    region: null,
    pathStyle: false,
    sseMode: null,
    kmsKeyId: null,
    accessKeyHint: null,
    sizeLimitBytes: userQuotaBytes,
    usedBytes: await bytesInUse(ctx.db, { bucket: DEFAULT_BUCKET, ownerId: userId }),
    multipartPartBytes: directPartBytes(storage),
    notes: 'The system default storage, set in the server configuration.',
    canUse: true,
    canManage: false,
    createdAt: null,
    updatedAt: null,
  };
}

/** Z6: the system default bucket is configuration, never changed or removed through the API. */
function assertNotDefault(bucketId: string): void {
  if (bucketId === DEFAULT_BUCKET_ID) {
    throw new HavenError(
      'BUCKET_READ_ONLY',
      'The system default bucket is set in the server configuration and cannot be changed here.',
    );
  }
}

// ── Routes' work ───────────────────────────────────────────────────────────────────────────────

export async function listBuckets(ctx: FilesContext, request: FastifyRequest) {
  const { userId } = requireUser(request);
  const scopes = request.principal?.scopes;
  // The organizations' buckets as bucket-access.ts allows them: to staff accounts only.
  const rows = await repo.selectVisibleBuckets(ctx.db, userId, {
    staff: scopes?.has(ORGANIZATION_STAFF_SCOPE) === true,
    mayUpload: scopes?.has(UPLOAD_SCOPE) === true,
  });
  const owned = await Promise.all(
    rows.map(async (row) =>
      rowView(
        row,
        await bytesInUse(ctx.db, { bucket: row.id }),
        row.owner_user_id === userId || row.role === 'org_admin',
      ),
    ),
  );
  return [await defaultView(ctx, userId), ...owned];
}

export async function getBucket(
  ctx: FilesContext,
  request: FastifyRequest,
  bucketId: string,
): Promise<BucketView> {
  if (bucketId === DEFAULT_BUCKET_ID) {
    return defaultView(ctx, requireUser(request).userId);
  }
  const access = await requireAccess(ctx.db, request, 'bucket:read', { bucketId });
  const row = await repo.selectBucket(ctx.db, bucketId);
  if (!row) throw new HavenError('NOT_FOUND', 'The bucket was not found.');
  return rowView(
    row,
    await bytesInUse(ctx.db, { bucket: row.id }),
    access.basis !== 'organization_member',
  );
}

export async function createBucket(
  ctx: FilesContext,
  request: FastifyRequest,
  input: CreateBucketInput,
): Promise<BucketView> {
  const { userId } = requireUser(request);
  if (input.organizationId !== undefined) {
    // Organization buckets are added by its administrators (403 for other members, 404 outside).
    await requireAccess(ctx.db, request, 'organization:administer', {
      organizationId: input.organizationId,
    });
  }
  const { location, errors } = validateBucket({
    name: input.name,
    endpoint: input.endpoint,
    region: input.region,
    pathStyle: input.pathStyle ?? false,
    sseMode: input.sseMode,
    kmsKeyId: input.kmsKeyId ?? null,
  });
  if (errors.length > 0) refuseFields(errors);
  const credentials: BucketCredentials = {
    accessKeyId: input.accessKeyId,
    secretAccessKey: input.secretAccessKey,
  };
  await reachBucket(ctx, location, credentials);
  const id = randomUUID();
  const sealed = ctx.settings.buckets.sealCredentials(id, credentials);
  const row = await ctx.db.transaction().execute(async (trx) => {
    const inserted = await repo.insertBucket(trx, {
      id,
      owner_user_id: input.organizationId === undefined ? userId : null,
      owner_organization_id: input.organizationId ?? null,
      endpoint: location.endpoint,
      region: location.region,
      bucket_name: location.bucketName,
      path_style: location.pathStyle,
      access_key_hint: input.accessKeyId.slice(-4),
      credentials_sealed: sealed.sealed,
      credentials_key_id: sealed.keyId,
      sse_mode: input.sseMode,
      kms_key_id: input.sseMode === 'aws:kms' ? (input.kmsKeyId ?? '').trim() : null,
      size_limit_bytes: input.sizeLimitBytes ?? null,
      notes: input.notes ?? '',
      created_by: userId,
      updated_by: userId,
    });
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'bucket.create',
      target: { type: 'bucket', id },
      details: {
        organizationId: input.organizationId ?? null,
        endpointHost: new URL(location.endpoint).host,
        sseMode: input.sseMode,
        sealedWith: sealed.keyId,
      },
    });
    return inserted;
  });
  return rowView(row, 0, true);
}

export async function updateBucket(
  ctx: FilesContext,
  request: FastifyRequest,
  bucketId: string,
  input: UpdateBucketInput,
): Promise<BucketView> {
  assertNotDefault(bucketId);
  const { userId } = await requireAccess(ctx.db, request, 'bucket:manage', { bucketId });
  const row = await repo.selectBucket(ctx.db, bucketId);
  if (!row) throw new HavenError('NOT_FOUND', 'The bucket was not found.');
  if ((input.accessKeyId === undefined) !== (input.secretAccessKey === undefined)) {
    const field = input.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey';
    refuseFields([
      { field, message: 'New credentials need both the access key id and the secret.' },
    ]);
  }
  const sseMode = input.sseMode ?? row.sse_mode;
  const { location, errors } = validateBucket({
    name: input.name ?? row.bucket_name,
    endpoint: input.endpoint ?? row.endpoint,
    region: input.region ?? row.region,
    pathStyle: input.pathStyle ?? row.path_style,
    sseMode,
    kmsKeyId:
      input.kmsKeyId !== undefined
        ? input.kmsKeyId
        : input.sseMode !== undefined && input.sseMode !== 'aws:kms'
          ? null
          : row.kms_key_id,
  });
  if (errors.length > 0) refuseFields(errors);
  const newCredentials =
    input.accessKeyId !== undefined && input.secretAccessKey !== undefined
      ? { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey }
      : undefined;
  const reconnect =
    newCredentials !== undefined ||
    location.endpoint !== row.endpoint ||
    location.region !== row.region ||
    location.bucketName !== row.bucket_name ||
    location.pathStyle !== row.path_style;
  if (reconnect) {
    await reachBucket(
      ctx,
      location,
      newCredentials ?? { id: row.id, credentialsSealed: row.credentials_sealed },
    );
  }
  const sealed = newCredentials && ctx.settings.buckets.sealCredentials(row.id, newCredentials);
  const kmsKeyId =
    location.serverSideEncryption.mode === 'aws:kms'
      ? location.serverSideEncryption.kmsKeyId
      : null;
  const changed = Object.keys(input).filter((key) => key !== 'secretAccessKey');
  const updated = await ctx.db.transaction().execute(async (trx) => {
    const next = await repo.updateBucket(trx, row.id, {
      endpoint: location.endpoint,
      region: location.region,
      bucket_name: location.bucketName,
      path_style: location.pathStyle,
      sse_mode: sseMode,
      kms_key_id: kmsKeyId,
      ...(input.sizeLimitBytes !== undefined && { size_limit_bytes: input.sizeLimitBytes }),
      ...(input.notes !== undefined && { notes: input.notes }),
      ...(newCredentials &&
        sealed && {
          access_key_hint: newCredentials.accessKeyId.slice(-4),
          credentials_sealed: sealed.sealed,
          credentials_key_id: sealed.keyId,
        }),
      updated_by: userId,
    });
    if (!next) throw new HavenError('NOT_FOUND', 'The bucket was not found.');
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'bucket.update',
      target: { type: 'bucket', id: row.id },
      details: {
        fields: changed.join(',').slice(0, 200),
        keysChanged: newCredentials !== undefined,
        endpointHost: new URL(location.endpoint).host,
      },
    });
    return next;
  });
  return rowView(updated, await bytesInUse(ctx.db, { bucket: row.id }), true);
}

export async function deleteBucket(
  ctx: FilesContext,
  request: FastifyRequest,
  bucketId: string,
): Promise<void> {
  assertNotDefault(bucketId);
  const { userId } = await requireAccess(ctx.db, request, 'bucket:manage', { bucketId });
  await ctx.db.transaction().execute(async (trx) => {
    // FOR UPDATE: an upload starting into the bucket (FOR SHARE) waits, or is seen here.
    const row = await repo.lockActiveBucket(trx, bucketId, 'update');
    if (!row) throw new HavenError('NOT_FOUND', 'The bucket was not found.');
    if (await repo.bucketInUse(trx, bucketId)) {
      throw new HavenError(
        'BUCKET_NOT_EMPTY',
        'The bucket still holds files or unfinished uploads; delete or finish them first.',
      );
    }
    await repo.markDeleted(trx, bucketId, userId);
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'bucket.delete',
      target: { type: 'bucket', id: bucketId },
    });
  });
}
