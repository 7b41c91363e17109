// Upload sessions (F2, F3, F8, consent gate, L3): one model for every protocol. A session is
// started with its name, size, optional SHA-256 and target (the uploader's own files or a
// patient's record); bytes arrive as numbered parts that storage acknowledges and the server
// records; completion uses the server's record of parts only, checks size and checksum, and
// hands the stored object to the scanner. Nothing is downloadable before the scan says clean.
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { requireAccess, requireUser } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { checkFileName } from '../../../platform/file-checks/names.js';
import { FILE_TYPES } from '../../../platform/file-checks/types.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { requireConsent } from '../../patients/index.js';
import { lockQuotas } from '../shared/repo.js';
import { assertWithinQuotas, mib } from '../shared/quotas.js';
import { completeSession } from './complete.js';
import { DEFAULT_BUCKET, type FilesSettings } from '../shared/settings.js';
import * as repo from './repo.js';
import type { SessionRow } from './repo.js';
import type { ChunkChecksum } from './tus.js';

type FilesContext = ModuleContext<FilesSettings>;

/** How long an unfinished upload may wait for its next bytes before cleanup aborts it (F7). */
export const UPLOAD_LIFETIME_MS = 24 * 60 * 60 * 1000;
/**
 * tus bytes are stored as parts of at most this size: a PATCH cut off mid-way keeps every whole
 * part before the cut, so a resumed upload re-sends at most this much. Each part is held in
 * memory once while storage writes it, which bounds a writer's memory too.
 */
export const TUS_PART_BYTES = 8 * 1024 * 1024;

const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface StartUploadInput {
  readonly name: string;
  readonly size: number;
  readonly sha256?: string | undefined;
  /** Attach to this patient's record; otherwise the file is the uploader's own. */
  readonly patientId?: string | undefined;
}

export interface UploadProgress {
  readonly session: SessionRow;
  readonly offset: number;
  readonly length: number;
  /** Set once the upload completed and produced a file. */
  readonly fileId?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function progressOf(session: SessionRow, fileId?: string): UploadProgress {
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
  // The organization marks which consents an upload to a record needs (409 CONSENT_REQUIRED).
  await requireConsent(ctx.db, patientId, access.organizationId);
  return { patientId, organizationId: access.organizationId };
}

export async function startUpload(
  ctx: FilesContext,
  request: FastifyRequest,
  input: StartUploadInput,
  protocol: 'tus' | 's3',
): Promise<UploadProgress> {
  const { userId } = requireUser(request);
  const { storage, maxFileBytes } = ctx.settings;
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
      await lockQuotas(trx);
      await assertWithinQuotas(ctx, trx, userId, input.size);
      const row = await repo.insertSession(trx, {
        id,
        owner_id: userId,
        patient_id: target.patientId,
        organization_id: target.organizationId,
        bucket: DEFAULT_BUCKET,
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

function notFound(): HavenError {
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
  ctx: FilesContext,
  request: FastifyRequest,
  sessionId: string,
): Promise<UploadProgress> {
  const { userId } = requireUser(request);
  const session = await ownSession(ctx, userId, sessionId, 'tus');
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

/** Reads `body` into parts of TUS_PART_BYTES (the last one shorter) and stores each in turn. */
async function storeChunk(
  ctx: FilesContext,
  session: SessionRow,
  body: AsyncIterable<Buffer>,
  limit: number,
  firstPartNumber: number,
  hash: ReturnType<typeof createHash> | undefined,
): Promise<{ parts: { partNumber: number; etag: string; size: number }[]; complete: boolean }> {
  const { storage } = ctx.settings;
  const parts: { partNumber: number; etag: string; size: number }[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let received = 0;
  const flush = async (size: number): Promise<void> => {
    const all = Buffer.concat(pending, pendingBytes);
    const part = all.subarray(0, size);
    pending = pendingBytes > size ? [all.subarray(size)] : [];
    pendingBytes -= size;
    const partNumber = firstPartNumber + parts.length;
    const { etag } = await storage.uploadPart({
      key: session.object_key,
      uploadId: session.storage_upload_id,
      partNumber,
      body: Readable.from([part]),
      size,
    });
    parts.push({ partNumber, etag, size });
  };
  try {
    for await (const chunk of body) {
      received += chunk.length;
      if (received > limit) {
        throw new HavenError(
          'BAD_REQUEST',
          'The chunk runs past the length declared when the upload started.',
        );
      }
      hash?.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= TUS_PART_BYTES) await flush(TUS_PART_BYTES);
    }
  } catch (error) {
    if (error instanceof HavenError) throw error;
    // The client went away mid-chunk: the whole parts already stored are kept (tus lets the
    // server keep fewer bytes than were sent; the client asks HEAD and resumes from there).
    return { parts, complete: false };
  }
  if (pendingBytes > 0) await flush(pendingBytes);
  return { parts, complete: true };
}

/**
 * PATCH: appends the body at `offset`. One writer per session at a time (423 otherwise), across
 * nodes. With Upload-Checksum, the chunk's parts count only when the digest matches (460
 * otherwise, nothing kept). Returns the new offset; the last byte completes the upload.
 */
export async function appendChunk(
  ctx: FilesContext,
  request: FastifyRequest,
  input: {
    sessionId: string;
    offset: number;
    contentLength: number | undefined;
    checksum: ChunkChecksum | undefined;
    body: AsyncIterable<Buffer>;
  },
): Promise<UploadProgress> {
  const { userId } = requireUser(request);
  const session = await ownSession(ctx, userId, input.sessionId, 'tus');
  assertAcceptingBytes(ctx, session);
  const received = Number(session.received_bytes);
  const length = Number(session.declared_size);
  if (input.offset !== received) {
    throw new HavenError(
      'UPLOAD_OFFSET_MISMATCH',
      `The upload is at byte ${received}; send from there (HEAD tells where).`,
      { headers: { 'upload-offset': String(received) } },
    );
  }
  const remaining = length - received;
  if (input.contentLength !== undefined && input.contentLength > remaining) {
    throw new HavenError(
      'BAD_REQUEST',
      `The chunk runs past the declared length: ${remaining} bytes remain.`,
    );
  }
  const token = randomUUID();
  if (!(await repo.claimWriter(ctx.db, session.id, token))) {
    throw new HavenError('UPLOAD_BUSY', 'Another request is writing this upload; try again.', {
      headers: { 'retry-after': '1' },
    });
  }
  try {
    const firstPart = (await repo.countParts(ctx.db, session.id)) + 1;
    const hash = input.checksum && createHash(input.checksum.algorithm);
    const stored = await storeChunk(ctx, session, input.body, remaining, firstPart, hash);
    if (input.checksum) {
      // Verified only over a whole chunk: a chunk cut short cannot be checked, so none of it counts.
      if (!stored.complete) return progressOf(session);
      if (!hash!.digest().equals(input.checksum.digest)) {
        throw new HavenError(
          'CHECKSUM_MISMATCH',
          'The chunk does not match its Upload-Checksum; nothing of it was kept.',
        );
      }
    }
    const bytes = stored.parts.reduce((sum, part) => sum + part.size, 0);
    const updated = await ctx.db.transaction().execute(async (trx) => {
      const held = await repo.lockHeldSession(trx, session.id, token);
      if (!held) throw new HavenError('UPLOAD_EXPIRED', 'The upload was cancelled meanwhile.');
      await repo.insertParts(trx, session.id, stored.parts);
      await repo.addReceivedBytes(trx, session.id, bytes);
      return { ...held, received_bytes: Number(held.received_bytes) + bytes };
    });
    if (Number(updated.received_bytes) < length) return progressOf(updated);
    const fileId = await completeSession(ctx, session.id, requestContext(request), token);
    return progressOf({ ...updated, status: 'completed' }, fileId);
  } finally {
    await repo.releaseWriter(ctx.db, session.id, token).catch(() => undefined);
  }
}

/** DELETE (tus termination): the unfinished upload and its stored parts go. */
export async function cancelUpload(
  ctx: FilesContext,
  request: FastifyRequest,
  sessionId: string,
  protocol: 'tus' | 's3' = 'tus',
): Promise<void> {
  const { userId } = requireUser(request);
  const session = await ownSession(ctx, userId, sessionId, protocol);
  if (session.status === 'completed') {
    throw new HavenError('CONFLICT', 'The upload is complete; delete the file instead.');
  }
  if (session.status !== 'open') return;
  await ctx.settings.storage.abortMultipartUpload(session.object_key, session.storage_upload_id);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.closeSession(trx, session.id, 'aborted');
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'file.upload.cancel',
      target: { type: 'upload', id: session.id },
    });
  });
}

export async function listOpenUploads(ctx: FilesContext, request: FastifyRequest) {
  const { userId } = requireUser(request);
  return repo.selectOpenSessions(ctx.db, userId, 100);
}
