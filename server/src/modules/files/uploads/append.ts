// tus PATCH (F2): a chunk's bytes into storage parts, each recorded for the session under the
// writer mark; the last byte completes the upload. One writer per session at a time, across
// nodes (repo.ts, `claimOwnWriter`).
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { requireUser } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { StorageError } from '../../../platform/storage/index.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { sessionContext } from '../shared/bucket-storage.js';
import type { FilesSettings } from '../shared/settings.js';
import { completeSession, uploadBusy } from './complete.js';
import * as repo from './repo.js';
import type { SessionRow } from './repo.js';
import {
  UUID,
  assertAcceptingBytes,
  notFound,
  ownSession,
  progressOf,
  type UploadProgress,
} from './service.js';
import type { ChunkChecksum } from './tus.js';
import { checkPartsLeft, storeChunk, storeStreamed, type StoredPart } from './tus-parts.js';

type FilesContext = ModuleContext<FilesSettings>;

/**
 * PATCH: appends the body at `offset`. One writer per session at a time (423 otherwise), across
 * nodes. With Upload-Checksum, the chunk's parts count only when the digest matches (460
 * otherwise, nothing kept). Returns the new offset; the last byte completes the upload.
 */
export async function appendChunk(
  defaultCtx: FilesContext,
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
  if (!UUID.test(input.sessionId)) throw notFound();
  const token = randomUUID();
  // The common case in one statement: the caller's own open upload (Z4), its writer mark taken.
  // The offset is checked on the row that statement returned: no other writer moved it since.
  const claimed = await repo.claimOwnWriter(defaultCtx.db, userId, input.sessionId, 'tus', token);
  if (!claimed) {
    const done = await alreadyComplete(defaultCtx, userId, input);
    if (done) return done;
    throw await whyNotClaimed(defaultCtx, userId, input);
  }
  // The mark stays alive while this PATCH does (a slow link, a long completion); one that stops
  // being renewed goes stale quickly (repo.ts), so a crashed node does not lock the upload.
  const stopRenewing = repo.keepWriterAlive(defaultCtx.db, input.sessionId, token);
  let released = false;
  try {
    const { session } = claimed;
    assertAcceptingBytes(defaultCtx, session);
    const ctx = await sessionContext(defaultCtx, session);
    const { received, remaining, length } = checkChunk(session, input);
    checkPartsLeft(ctx.settings.storage, claimed.parts, remaining, input.contentLength);
    const firstPart = claimed.parts + 1;
    const hash = input.checksum && createHash(input.checksum.algorithm);
    // Without Upload-Checksum each part is recorded as soon as storage took it: a node killed
    // mid-PATCH leaves every whole part it stored resumable from any node (HEAD says where),
    // where a PATCH's parts used to count only once its whole body had arrived, and a node that
    // died before lost them all. With a checksum the chunk counts only once verified whole, so
    // its parts are recorded together at the end.
    let recorded = 0;
    let recordedParts = 0;
    const recordAsStored = input.checksum
      ? undefined
      : async (part: StoredPart): Promise<void> => {
          const held = await repo.recordHeldParts(
            ctx.db,
            session.id,
            token,
            received + recorded,
            [part],
            false,
          );
          if (!held) throw await whyNotRecorded(ctx, userId, session.id, token);
          recorded += part.size;
          recordedParts += 1;
        };
    const stored = await (
      input.contentLength === undefined
        ? storeChunk(ctx, session, input.body, remaining, firstPart, hash, recordAsStored)
        : storeStreamed(
            ctx,
            session,
            input.body,
            input.contentLength,
            firstPart,
            hash,
            recordAsStored,
          )
    ).catch(async (error: unknown) => {
      throw await whyStorageFailed(ctx, userId, session.id, token, error);
    });
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
    // A PATCH that does not finish the upload gives up the writer mark in the same statement
    // that records the parts not recorded yet (its last one; all of them with a checksum).
    const release = received + bytes < length;
    const updated = await repo.recordHeldParts(
      ctx.db,
      session.id,
      token,
      received + recorded,
      stored.parts.slice(recordedParts),
      release,
    );
    if (!updated) throw await whyNotRecorded(ctx, userId, session.id, token);
    released = release;
    if (Number(updated.received_bytes) < length) return progressOf(updated);
    const fileId = await completeSession(ctx, session.id, requestContext(request), token);
    return progressOf({ ...updated, status: 'completed' }, fileId);
  } finally {
    stopRenewing();
    // A release that fails (the database away) leaves a mark that is no longer renewed: stale,
    // and so free again, within seconds.
    if (!released) {
      await repo.releaseWriter(defaultCtx.db, input.sessionId, token).catch(() => undefined);
    }
  }
}

/** Why recordHeldParts did not take (nothing of that call was recorded). */
async function whyNotRecorded(
  ctx: FilesContext,
  userId: string,
  sessionId: string,
  token: string,
): Promise<HavenError> {
  // Still ours and open: the offset moved while the bytes arrived.
  if (await repo.holdsWriter(ctx.db, sessionId, token)) return offsetMoved();
  // Still open without our mark: another request took a stale mark over, or a database that
  // failed over lost it. The client may send the rest again from where HEAD says.
  assertAcceptingBytes(ctx, await ownSession(ctx, userId, sessionId, 'tus'));
  return uploadBusy('This upload was taken over meanwhile; try again.');
}

/**
 * Storage no longer knows the upload while this PATCH stored its bytes: a cancel or the cleanup
 * took a mark this PATCH had lost (its renewals did not land) and aborted it. That is the
 * session's state (410 when it was cancelled or expired), not a server fault; with the mark
 * still held the storage failure stands.
 */
async function whyStorageFailed(
  ctx: FilesContext,
  userId: string,
  sessionId: string,
  token: string,
  error: unknown,
): Promise<unknown> {
  if (!(error instanceof StorageError) || error.code !== 'STORAGE_UPLOAD_NOT_FOUND') return error;
  if (await repo.holdsWriter(ctx.db, sessionId, token)) return error;
  return whyNotRecorded(ctx, userId, sessionId, token);
}

/**
 * An empty PATCH at the end of a completed upload: the client sending its last chunk again after
 * an answer it never got (a 503 while the completion still committed, a cut connection), without
 * asking HEAD first. Answered as HEAD would, with the file, instead of 409: the upload did arrive.
 */
async function alreadyComplete(
  ctx: FilesContext,
  userId: string,
  input: { sessionId: string; offset: number; contentLength: number | undefined },
): Promise<UploadProgress | undefined> {
  if (input.contentLength !== 0) return undefined;
  const session = await ownSession(ctx, userId, input.sessionId, 'tus');
  if (session.status !== 'completed' || input.offset !== Number(session.declared_size)) {
    return undefined;
  }
  const file = await repo.selectFileOfSession(ctx.db, session.id);
  return progressOf(session, file?.id);
}

/** Why a PATCH could not take the writer mark, checked in the order a PATCH checks them. */
async function whyNotClaimed(
  ctx: FilesContext,
  userId: string,
  input: { sessionId: string; offset: number; contentLength: number | undefined },
): Promise<HavenError> {
  const session = await ownSession(ctx, userId, input.sessionId, 'tus');
  assertAcceptingBytes(ctx, session);
  await sessionContext(ctx, session);
  checkChunk(session, input);
  return uploadBusy('Another request is writing this upload; try again.');
}

/** The chunk starts where the upload is and does not run past its declared length. */
function checkChunk(
  session: SessionRow,
  input: { offset: number; contentLength: number | undefined },
): { received: number; remaining: number; length: number } {
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
  return { received, remaining, length };
}

function offsetMoved(): HavenError {
  return new HavenError(
    'UPLOAD_OFFSET_MISMATCH',
    'Another request appended to the upload meanwhile; ask HEAD where it is.',
  );
}
