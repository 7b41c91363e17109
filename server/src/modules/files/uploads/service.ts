// Upload sessions (F2, F3, F8, consent gate, L3): one model for every protocol. A session is
// started with its name, size, optional SHA-256 and target (the uploader's own files or a
// patient's record); bytes arrive as numbered parts that storage acknowledges and the server
// records; completion uses the server's record of parts only, checks size and checksum, and
// hands the stored object to the scanner. Nothing is downloadable before the scan says clean.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { requireAccess, requireUser } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { checkFileName } from '../../../platform/file-checks/names.js';
import { FILE_TYPES } from '../../../platform/file-checks/types.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { assertRecordOpen, requireConsent } from '../../patients/index.js';
import { lockActiveBucket } from '../buckets/repo.js';
import {
  inactiveBucket,
  sessionContext,
  uploadBucketContext,
  withBucket,
} from '../shared/bucket-storage.js';
import { lockQuotas } from '../shared/repo.js';
import { assertWithinQuotas, mib } from '../shared/quotas.js';
import { completeSession, uploadBusy } from './complete.js';
import { DEFAULT_BUCKET, type FilesSettings } from '../shared/settings.js';
import * as repo from './repo.js';
import type { SessionRow } from './repo.js';

type FilesContext = ModuleContext<FilesSettings>;

/** How long an unfinished upload may wait for its next bytes before cleanup aborts it (F7). */
export const UPLOAD_LIFETIME_MS = 24 * 60 * 60 * 1000;
export { TUS_PART_BYTES } from './tus-parts.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface StartUploadInput {
  readonly name: string;
  readonly size: number;
  readonly sha256?: string | undefined;
  /** Attach to this patient's record; otherwise the file is the uploader's own. */
  readonly patientId?: string | undefined;
  /** An owned bucket the caller may use (F1); absent or `default`: the system default. */
  readonly bucketId?: string | undefined;
}

export interface UploadProgress {
  readonly session: SessionRow;
  readonly offset: number;
  readonly length: number;
  /** Set once the upload completed and produced a file. */
  readonly fileId?: string;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export function progressOf(session: SessionRow, fileId?: string): UploadProgress {
  return {
    session,
    offset: Number(session.received_bytes),
    length: Number(session.declared_size),
    ...(fileId !== undefined && { fileId }),
  };
}

/** Where a new upload goes: the uploader's own files, or a patient's record they may write. */
async function uploadTarget(
  ctx: FilesContext,
  request: FastifyRequest,
  patientId: string | undefined,
): Promise<{ patientId: string | null; organizationId: string | null }> {
  if (patientId === undefined) return { patientId: null, organizationId: null };
  if (!UUID.test(patientId)) {
    throw new HavenError('VALIDATION_FAILED', 'patientId: must be a patient id.', {
      errors: [{ field: 'patientId', message: 'must be a patient id' }],
    });
  }
  // Z4: a patient the caller may not write to is the same 404 as a missing one. The patient
  // themself reaches their own record; staff reach their organization's patients.
  const access = await requireAccess(ctx.db, request, 'patient:write', { patientId });
  // An archived record takes no new document (409), as it takes no other write.
  await assertRecordOpen(ctx.db, patientId);
  // The organization marks which consents an upload to a record needs (409 CONSENT_REQUIRED).
  await requireConsent(ctx.db, patientId, access.organizationId);
  return { patientId, organizationId: access.organizationId };
}

export async function startUpload(
  defaultCtx: FilesContext,
  request: FastifyRequest,
  input: StartUploadInput,
  protocol: 'tus' | 's3',
): Promise<UploadProgress> {
  const { userId } = requireUser(request);
  const ctx = await uploadBucketContext(defaultCtx, request, input.bucketId);
  const { storage, maxFileBytes } = ctx.settings;
  const bucketId = ctx.settings.bucket?.id ?? null;
  if (input.size === 0) {
    throw new HavenError('VALIDATION_FAILED', 'The file is empty.', {
      errors: [{ field: 'size', message: 'The file is empty.' }],
    });
  }
  if (input.size > maxFileBytes) {
    throw new HavenError(
      'FILE_TOO_LARGE',
      `Files can be at most ${mib(maxFileBytes)}; this one is ${mib(input.size)}.`,
    );
  }
  const sha256 = input.sha256?.toLowerCase();
  if (sha256 !== undefined && !SHA256_HEX.test(sha256)) {
    throw new HavenError('VALIDATION_FAILED', 'sha256: must be 64 hexadecimal digits.', {
      errors: [{ field: 'sha256', message: 'must be 64 hexadecimal digits' }],
    });
  }
  const safe = checkFileName(input.name, 'filename');
  const target = await uploadTarget(ctx, request, input.patientId);
  const id = randomUUID();
  // Keys come from the session id, never from the user's file name.
  const key = `uploads/${id}`;
  const contentType = FILE_TYPES[safe.type].mime;
  const expiresAt = new Date(ctx.now().getTime() + UPLOAD_LIFETIME_MS);
  const uploadId = await storage.createMultipartUpload(key, { contentType });
  try {
    const session = await ctx.db.transaction().execute(async (trx) => {
      // A bucket deleted meanwhile takes no new upload (its deletion waits for this one).
      const bucket = bucketId === null ? undefined : await lockActiveBucket(trx, bucketId, 'share');
      if (bucketId !== null && !bucket) throw inactiveBucket();
      // Z4/F1: a document of a patient's record is stored where the record's organization holds
      // it: the system default or one of that organization's own buckets, never a person's bucket
      // or another organization's (whose owners hold the credentials and so the objects).
      const foreign = bucket && bucket.owner_organization_id !== target.organizationId;
      if (foreign && target.patientId !== null) throw foreignRecordBucket();
      await lockQuotas(trx);
      await assertWithinQuotas(ctx, trx, userId, input.size);
      const row = await repo.insertSession(trx, {
        id,
        owner_id: userId,
        patient_id: target.patientId,
        organization_id: target.organizationId,
        bucket: bucketId ?? DEFAULT_BUCKET,
        bucket_id: bucketId,
        protocol,
        object_key: key,
        storage_upload_id: uploadId,
        file_name: safe.name,
        file_type: safe.type,
        content_type: contentType,
        declared_size: input.size,
        declared_sha256: sha256 ?? null,
        expires_at: expiresAt,
      });
      await recordUserEvent(trx, userId, requestContext(request), {
        action: 'file.upload.start',
        target: { type: 'upload', id },
        details: {
          size: input.size,
          type: safe.type,
          protocol,
          patientId: target.patientId,
          bucketId,
        },
      });
      return row;
    });
    return progressOf(session);
  } catch (error) {
    // Refused (quota) or failed: the storage upload it opened goes too.
    await storage.abortMultipartUpload(key, uploadId).catch(() => undefined);
    throw error;
  }
}

const RECORD_BUCKET = "must be the default storage or a bucket of the record's organization";
const foreignRecordBucket = () =>
  new HavenError('VALIDATION_FAILED', `bucketId: ${RECORD_BUCKET}.`, {
    errors: [{ field: 'bucketId', message: RECORD_BUCKET }],
  });

export function notFound(): HavenError {
  return new HavenError('NOT_FOUND', 'The upload was not found.');
}

/** The caller's own session of this protocol; anything else is the same 404 (Z4, F2). */
export async function ownSession(
  ctx: FilesContext,
  userId: string,
  sessionId: string,
  protocol: 'tus' | 's3',
) {
  if (!UUID.test(sessionId)) throw notFound();
  const session = await repo.selectOwnSession(ctx.db, userId, sessionId);
  if (!session || session.protocol !== protocol) throw notFound();
  return session;
}

export function assertAcceptingBytes(ctx: FilesContext, session: SessionRow): void {
  if (session.status === 'completed') {
    throw new HavenError('CONFLICT', 'The upload is already complete.');
  }
  if (session.status === 'failed') {
    throw new HavenError(
      'CONFLICT',
      `The upload failed (${session.failure_reason ?? 'unknown reason'}); start it again.`,
    );
  }
  if (session.status !== 'open' || session.expires_at.getTime() <= ctx.now().getTime()) {
    throw new HavenError('UPLOAD_EXPIRED', 'The upload expired or was cancelled; start it again.');
  }
}

/** HEAD: how far the upload got. A session whose bytes are all in but not yet completed (the
 *  process stopped between the last part and completion) is completed now. */
export async function uploadProgress(
  defaultCtx: FilesContext,
  request: FastifyRequest,
  sessionId: string,
): Promise<UploadProgress> {
  const { userId } = requireUser(request);
  const session = await ownSession(defaultCtx, userId, sessionId, 'tus');
  const ctx = session.status === 'open' ? await sessionContext(defaultCtx, session) : defaultCtx;
  if (session.status === 'completed') {
    const file = await repo.selectFileOfSession(ctx.db, session.id);
    return progressOf(session, file?.id);
  }
  assertAcceptingBytes(ctx, session);
  if (Number(session.received_bytes) === Number(session.declared_size)) {
    const fileId = await completeSession(ctx, session.id, requestContext(request));
    return { ...progressOf(session), fileId };
  }
  return progressOf(session);
}

/**
 * DELETE (tus termination): the unfinished upload and its stored parts go. It takes the writer
 * mark a PATCH, a completion and the cleanup take, so it never pulls storage from under one of
 * them: while one holds the upload it is 423; a completion that got there first makes it 409
 * (the file exists: delete that instead); once it holds the mark no completion can start.
 */
export async function cancelUpload(
  ctx: FilesContext,
  request: FastifyRequest,
  sessionId: string,
  protocol: 'tus' | 's3' = 'tus',
): Promise<void> {
  const { userId } = requireUser(request);
  const token = randomUUID();
  let session = await ownSession(ctx, userId, sessionId, protocol);
  if (session.status === 'open' && !(await repo.claimWriter(ctx.db, session.id, token))) {
    // Held by a live writer, or closed (completed, cancelled) since it was read.
    session = await ownSession(ctx, userId, sessionId, protocol);
    if (session.status === 'open') {
      throw uploadBusy('Another request is writing or completing this upload; try again.');
    }
  }
  if (session.status === 'completed') {
    throw new HavenError('CONFLICT', 'The upload is complete; delete the file instead.');
  }
  if (session.status !== 'open') return;
  const stopRenewing = repo.keepWriterAlive(ctx.db, session.id, token);
  try {
    // The session's own bucket, even one marked deleted meanwhile: its parts must still go.
    const { storage } = (await withBucket(ctx, session.bucket_id, { active: false })).settings;
    // Storage first, then the record (F7: no stored part outlives the record that names it).
    await storage.abortMultipartUpload(session.object_key, session.storage_upload_id);
    // An object a completion assembled and then could not record (its node stopped before the
    // commit) is under the key, where the abort does not reach. The session is open, so no file
    // holds that key, and this request holds the mark, so no completion runs meanwhile.
    await storage.deleteObject(session.object_key);
    await ctx.db.transaction().execute(async (trx) => {
      await repo.closeSession(trx, session.id, 'aborted');
      await recordUserEvent(trx, userId, requestContext(request), {
        action: 'file.upload.cancel',
        target: { type: 'upload', id: session.id },
      });
    });
  } finally {
    stopRenewing();
    // Closing the session gave the mark up; a cancel that failed gives it up here.
    await repo.releaseWriter(ctx.db, session.id, token).catch(() => undefined);
  }
}

export async function listOpenUploads(ctx: FilesContext, request: FastifyRequest) {
  const { userId } = requireUser(request);
  return repo.selectOpenSessions(ctx.db, userId, 100);
}
