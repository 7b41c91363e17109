// S3 multipart straight to storage (F2), on the same sessions as tus: the browser sends each part
// to storage with a presigned URL the server signs for that session and part only (five minutes
// at most), then tells the server the part's ETag and size, which the server records. Resume reads
// the server's record, reconciled with ListParts where storage offers it; completion uses only the
// server's record. Storage verifies every ETag at completion, and the stored size (and declared
// SHA-256) are checked again there: a part that lied about its size cannot make a file.
import type { FastifyRequest } from 'fastify';
import { requireUser } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import {
  MAX_PART_NUMBER,
  MAX_PRESIGN_SECONDS,
  S3_PART_LIMITS,
  type ObjectStorage,
  type PartLimits,
} from '../../../platform/storage/index.js';
import type { FilesSettings } from '../shared/settings.js';
import { completeSession } from './complete.js';
import * as repo from './repo.js';
import { sessionContext, uploadBucketContext } from '../shared/bucket-storage.js';
import {
  assertAcceptingBytes,
  ownSession,
  startUpload,
  type StartUploadInput,
  type UploadProgress,
} from './service.js';

type FilesContext = ModuleContext<FilesSettings>;

/** Presigned part URLs live this long (F6's five-minute ceiling applies to uploads too). */
export const PART_URL_SECONDS = MAX_PRESIGN_SECONDS;
const ETAG = /^"?[A-Za-z0-9+/=_-]{1,128}"?$/;

function presignerOf(ctx: FilesContext) {
  const { presigner } = ctx.settings.storage;
  if (!presigner) {
    throw new HavenError(
      'CONFLICT',
      'This storage takes uploads through the server: use the tus endpoint /api/files/uploads.',
    );
  }
  return presigner;
}

function partSizeOf(limits: PartLimits, size: number): number {
  const floor = Math.max(limits.minPartSize, 8 * 1024 * 1024);
  return Math.max(floor, Math.ceil(size / MAX_PART_NUMBER / (1024 * 1024)) * 1024 * 1024);
}

/** The part size a client should use: the storage's minimum, raised so 10,000 parts suffice. */
export function partSizeFor(ctx: FilesContext, size: number): number {
  return partSizeOf(ctx.settings.storage.partLimits, size);
}

/** The smallest part browsers send straight to this storage, or null: it takes tus only. */
export function directPartBytes(storage: Pick<ObjectStorage, 'presigner' | 'partLimits'>) {
  return storage.presigner ? partSizeOf(storage.partLimits, 0) : null;
}

/** The same for an owned bucket, always S3 (told without opening its driver). */
export const OWNED_BUCKET_PART_BYTES = partSizeOf(S3_PART_LIMITS, 0);

function partCount(ctx: FilesContext, size: number): number {
  return Math.ceil(size / partSizeFor(ctx, size));
}

export async function startMultipart(
  ctx: FilesContext,
  request: FastifyRequest,
  input: StartUploadInput,
): Promise<UploadProgress & { partSize: number }> {
  // The bucket asked for decides whether parts can go straight to storage.
  const bucketCtx = await uploadBucketContext(ctx, request, input.bucketId);
  presignerOf(bucketCtx);
  const progress = await startUpload(ctx, request, input, 's3');
  return { ...progress, partSize: partSizeFor(bucketCtx, input.size) };
}

function assertPartNumber(ctx: FilesContext, session: repo.SessionRow, partNumber: number) {
  const count = partCount(ctx, Number(session.declared_size));
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > count) {
    throw new HavenError('VALIDATION_FAILED', `partNumber: this upload has parts 1 to ${count}.`, {
      errors: [{ field: 'partNumber', message: `must be 1 to ${count}` }],
    });
  }
}

export async function presignPart(
  defaultCtx: FilesContext,
  request: FastifyRequest,
  sessionId: string,
  partNumber: number,
): Promise<{ url: string; expiresAt: string }> {
  const { userId } = requireUser(request);
  // Ownership first: someone else's session is 404 whatever the storage can do.
  const session = await ownSession(defaultCtx, userId, sessionId, 's3');
  assertAcceptingBytes(defaultCtx, session);
  const ctx = await sessionContext(defaultCtx, session);
  const presigner = presignerOf(ctx);
  assertPartNumber(ctx, session, partNumber);
  const url = await presigner.presignUploadPart(
    { key: session.object_key, uploadId: session.storage_upload_id, partNumber },
    { expiresInSeconds: PART_URL_SECONDS },
  );
  return { url, expiresAt: new Date(ctx.now().getTime() + PART_URL_SECONDS * 1000).toISOString() };
}

/**
 * Records a part the client stored. Idempotent: the same part again is a no-op; a part sent again
 * with another ETag (re-uploaded) replaces the record. Every part but the last has the part size
 * the session announced; the last has the rest.
 */
export async function recordPart(
  defaultCtx: FilesContext,
  request: FastifyRequest,
  input: { sessionId: string; partNumber: number; etag: string; size: number },
): Promise<UploadProgress> {
  const { userId } = requireUser(request);
  const session = await ownSession(defaultCtx, userId, input.sessionId, 's3');
  assertAcceptingBytes(defaultCtx, session);
  const ctx = await sessionContext(defaultCtx, session);
  assertPartNumber(ctx, session, input.partNumber);
  if (!ETAG.test(input.etag)) {
    throw new HavenError('VALIDATION_FAILED', 'etag: not an ETag storage gave.', {
      errors: [{ field: 'etag', message: 'not an ETag storage gave' }],
    });
  }
  const total = Number(session.declared_size);
  const partSize = partSizeFor(ctx, total);
  const last = partCount(ctx, total);
  const expected = input.partNumber < last ? partSize : total - partSize * (last - 1);
  if (input.size !== expected) {
    throw new HavenError(
      'VALIDATION_FAILED',
      `size: part ${input.partNumber} is ${expected} bytes.`,
      {
        errors: [{ field: 'size', message: `must be ${expected}` }],
      },
    );
  }
  const etag = `"${input.etag.replaceAll('"', '')}"`;
  const updated = await ctx.db.transaction().execute(async (trx) => {
    const open = await repo.lockOpenSession(trx, session.id);
    if (!open) throw new HavenError('UPLOAD_EXPIRED', 'The upload is no longer open.');
    await repo.upsertPart(trx, session.id, {
      partNumber: input.partNumber,
      etag,
      size: input.size,
    });
    const received = await repo.sumParts(trx, session.id);
    await repo.setReceivedBytes(trx, session.id, received);
    return { ...open, received_bytes: received };
  });
  return { session: updated, offset: Number(updated.received_bytes), length: total };
}

/** Resume: the parts the server recorded, reconciled with what storage lists (where it can). */
export async function listRecordedParts(
  defaultCtx: FilesContext,
  request: FastifyRequest,
  sessionId: string,
) {
  const { userId } = requireUser(request);
  const session = await ownSession(defaultCtx, userId, sessionId, 's3');
  assertAcceptingBytes(defaultCtx, session);
  const ctx = await sessionContext(defaultCtx, session);
  const partSize = partSizeFor(ctx, Number(session.declared_size));
  const recorded = await repo.selectParts(ctx.db, session.id);
  const lister = ctx.settings.storage.partLister;
  if (!lister) return { partSize, parts: recorded };
  // A part storage no longer holds (or holds under another ETag) is not offered as done: the
  // client uploads it again. Storage that cannot list (some stand-ins) leaves the record as is.
  const listed = await lister
    .listParts(session.object_key, session.storage_upload_id)
    .catch(() => undefined);
  if (!listed) return { partSize, parts: recorded };
  const held = new Map(listed.map((part) => [part.partNumber, part.etag.replaceAll('"', '')]));
  const parts = recorded.filter(
    (part) => held.get(part.partNumber) === part.etag.replaceAll('"', ''),
  );
  return { partSize, parts };
}

export async function completeMultipart(
  defaultCtx: FilesContext,
  request: FastifyRequest,
  sessionId: string,
): Promise<string> {
  const { userId } = requireUser(request);
  const session = await ownSession(defaultCtx, userId, sessionId, 's3');
  if (session.status === 'completed') {
    const file = await repo.selectFileOfSession(defaultCtx.db, session.id);
    if (file) return file.id;
  }
  assertAcceptingBytes(defaultCtx, session);
  const ctx = await sessionContext(defaultCtx, session);
  if (Number(session.received_bytes) !== Number(session.declared_size)) {
    throw new HavenError(
      'CONFLICT',
      `The upload has ${Number(session.received_bytes)} of ${Number(session.declared_size)} bytes recorded; send the missing parts first.`,
    );
  }
  return completeSession(ctx, session.id, requestContext(request));
}
