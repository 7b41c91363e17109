// Completing an upload session (F2, F8): storage assembles the object from the server's own
// record of parts, then size, declared checksum and quotas are checked again on what was stored,
// and the file row commits together with its scan job (F5).
import { createHash, randomUUID } from 'node:crypto';
import { recordAudit } from '../../../platform/audit/audit.js';
import { HavenError } from '../../../platform/errors.js';
import { enqueueJob } from '../../../platform/jobs.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { StorageError } from '../../../platform/storage/index.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { Kysely } from 'kysely';
import { requireConsent } from '../../patients/index.js';
import { assertWithinQuotas } from '../shared/quotas.js';
import { lockQuotas } from '../shared/repo.js';
import type { FilesSettings } from '../shared/settings.js';
import * as repo from './repo.js';
import type { SessionRow } from './repo.js';

type FilesContext = ModuleContext<FilesSettings>;

export const SCAN_QUEUE = 'files.scan';

/** Hex SHA-256 of a stored object, read back (only when the driver did not report one). */
async function storedSha256(ctx: FilesContext, key: string): Promise<string> {
  const object = await ctx.settings.storage.getObject(key);
  const hash = createHash('sha256');
  for await (const chunk of object.stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function failSession(
  ctx: FilesContext,
  session: SessionRow,
  reason: string,
  actor: { requestId: string; clientAddress: string },
): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await repo.closeSession(trx, session.id, 'failed', reason);
    await recordUserEvent(trx, session.owner_id, actor, {
      action: 'file.upload.fail',
      target: { type: 'upload', id: session.id },
      outcome: 'failure',
      details: { reason },
    });
  });
  await ctx.settings.storage.deleteObject(session.object_key).catch(() => undefined);
}

/**
 * An upload into a patient's record is checked again when it completes, on what holds then (the
 * session lives 24 hours): the uploader must still be staff of the record's organization or the
 * patient themself (else 404, as for a record they cannot see), the record must not have been
 * archived (409), and the patient must still hold every consent the organization requires (409
 * CONSENT_REQUIRED), so neither a removal from the organization, an archive nor a withdrawn
 * consent is outrun by an upload started before it (Z4, consent gate). The refusal and the reason
 * its session fails with; undefined when the upload may land.
 */
async function attachRefusal(
  trx: Kysely<DatabaseSchema>,
  session: SessionRow,
): Promise<{ reason: string; error: HavenError } | undefined> {
  if (session.patient_id === null || session.organization_id === null) return undefined;
  const { patient_id: patientId, organization_id: organizationId, owner_id: ownerId } = session;
  const related = await trx
    .selectFrom('patients')
    .select(['patients.id', 'patients.archived_at'])
    .where('patients.id', '=', patientId)
    .where('patients.organization_id', '=', organizationId)
    .where((eb) =>
      eb.or([
        eb('patients.portal_user_id', '=', ownerId),
        eb.exists(
          eb
            .selectFrom('organization_members')
            .select('organization_members.user_id')
            .where('organization_members.organization_id', '=', organizationId)
            .where('organization_members.user_id', '=', ownerId),
        ),
      ]),
    )
    .forShare('patients')
    .executeTakeFirst();
  if (!related) {
    return {
      reason: 'record_access_lost',
      error: new HavenError('NOT_FOUND', 'The patient record was not found.'),
    };
  }
  if (related.archived_at !== null) {
    return {
      reason: 'record_archived',
      error: new HavenError('CONFLICT', 'The patient record is archived; restore it first.'),
    };
  }
  try {
    await requireConsent(trx, patientId, organizationId);
  } catch (error) {
    if (error instanceof HavenError) return { reason: 'consent_required', error };
    throw error;
  }
  return undefined;
}

/** 423 with Retry-After: another request holds the upload's writer mark (a PATCH, a completion
 *  or a cancel). */
export function uploadBusy(sentence: string): HavenError {
  return new HavenError('UPLOAD_BUSY', sentence, { headers: { 'retry-after': '1' } });
}

/**
 * Completes a session whose bytes are all in: storage assembles the object from the SERVER's
 * record of parts (a part storage holds under another ETag fails it), then size, declared
 * checksum and quotas are checked again on what was stored. The file row and its scan job commit
 * together. Safe to repeat: an object already assembled by an earlier attempt is picked up.
 */
export async function completeSession(
  ctx: FilesContext,
  sessionId: string,
  actor: { requestId: string; clientAddress: string },
  heldToken?: string,
): Promise<string> {
  // Completion holds the writer mark like a PATCH does: two completions at once (a HEAD and the
  // last PATCH) would otherwise race, one seeing the other's half-assembled object as lost.
  const token = heldToken ?? randomUUID();
  if (heldToken === undefined && !(await repo.claimWriter(ctx.db, sessionId, token))) {
    const file = await repo.selectFileOfSession(ctx.db, sessionId);
    if (file) return file.id;
    throw uploadBusy('Another request is completing or cancelling the upload; try again.');
  }
  // A mark this completion took is renewed while it runs, as a PATCH renews its own (the PATCH
  // that hands its mark over keeps renewing it): assembling and checking a large object can
  // outlast the stale time, and a retry must not take the upload over meanwhile.
  const stopRenewing =
    heldToken === undefined ? repo.keepWriterAlive(ctx.db, sessionId, token) : undefined;
  try {
    return await completeHeldSession(ctx, sessionId, actor, token);
  } finally {
    stopRenewing?.();
    await repo.releaseWriter(ctx.db, sessionId, token).catch(() => undefined);
  }
}

async function completeHeldSession(
  ctx: FilesContext,
  sessionId: string,
  actor: { requestId: string; clientAddress: string },
  token: string,
): Promise<string> {
  const { storage } = ctx.settings;
  const session = await repo.lockHeldSession(ctx.db, sessionId, token);
  if (!session) {
    const file = await repo.selectFileOfSession(ctx.db, sessionId);
    if (file) return file.id;
    throw new HavenError('UPLOAD_EXPIRED', 'The upload is no longer open.');
  }
  const parts = await repo.selectParts(ctx.db, session.id);
  let stored: { size: number; sha256: string | undefined };
  try {
    const result = await storage.completeMultipartUpload(
      session.object_key,
      session.storage_upload_id,
      parts.map(({ partNumber, etag }) => ({ partNumber, etag })),
    );
    stored = { size: result.size, sha256: result.sha256 };
  } catch (error) {
    if (!(error instanceof StorageError) || error.code !== 'STORAGE_UPLOAD_NOT_FOUND') {
      if (error instanceof StorageError && error.code === 'STORAGE_INVALID_PART') {
        await failSession(ctx, session, 'parts_mismatch', actor);
        throw new HavenError('CONFLICT', 'Storage does not hold the parts recorded; start again.');
      }
      throw error;
    }
    // An earlier attempt assembled the object and stopped before recording it.
    const head = await storage.headObject(session.object_key);
    if (!head) {
      await failSession(ctx, session, 'upload_lost', actor);
      throw new HavenError('CONFLICT', 'The upload was lost in storage; start it again.');
    }
    stored = { size: head.size, sha256: undefined };
  }
  if (stored.size !== Number(session.declared_size)) {
    await failSession(ctx, session, 'size_mismatch', actor);
    throw new HavenError('CONFLICT', 'The stored file is not the size declared; start again.');
  }
  const sha256 = session.declared_sha256
    ? (stored.sha256 ?? (await storedSha256(ctx, session.object_key)))
    : (stored.sha256 ?? null);
  if (session.declared_sha256 && sha256 !== session.declared_sha256) {
    await failSession(ctx, session, 'checksum_mismatch', actor);
    throw new HavenError(
      'CHECKSUM_MISMATCH',
      'The file does not match the SHA-256 declared when the upload started.',
    );
  }
  // Why the session fails when the transaction below refuses the upload.
  let failure: string | undefined;
  try {
    return await ctx.db.transaction().execute(async (trx) => {
      const open = await repo.lockHeldSession(trx, session.id, token);
      if (!open) {
        const file = await repo.selectFileOfSession(trx, session.id);
        if (file) return file.id;
        throw new HavenError('UPLOAD_EXPIRED', 'The upload is no longer open.');
      }
      const refusal = await attachRefusal(trx, open);
      if (refusal) {
        failure = refusal.reason;
        throw refusal.error;
      }
      await lockQuotas(trx);
      await assertWithinQuotas(ctx, trx, session.owner_id, stored.size, session.id);
      await repo.closeSession(trx, session.id, 'completed');
      const file = await repo.insertFile(trx, session, { size: stored.size, sha256 });
      await enqueueJob(trx, SCAN_QUEUE, { fileId: file.id }, { singletonKey: file.id });
      await recordAudit(trx, {
        actor: { type: 'user', id: session.owner_id },
        action: 'file.upload.complete',
        target: { type: 'file', id: file.id },
        outcome: 'success',
        details: { uploadId: session.id, size: stored.size, type: session.file_type },
        requestId: actor.requestId,
        clientAddress: actor.clientAddress,
      });
      return file.id;
    });
  } catch (error) {
    if (error instanceof HavenError && error.code === 'QUOTA_EXCEEDED') failure = 'quota_exceeded';
    if (failure !== undefined) await failSession(ctx, session, failure, actor);
    throw error;
  }
}
