// The scan job (F3, F4, F5): every completed upload is checked on what storage HOLDS, not on what
// a client sent. In order: storage confirms the object is encrypted (F4), its first bytes are
// the type its name declares (F3), and clamd finds nothing in the whole stream (F5). Any failure
// quarantines the file (kept as evidence, never downloadable), is audited and told to the owner.
// A scanner that cannot be reached leaves the file `scanning` and the job is retried; without a
// configured scanner files wait, and the sweep enqueues them once one is configured.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { recordAudit } from '../../../platform/audit/audit.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import {
  CONTENT_PREFIX_BYTES,
  checkContent,
  type FileTypeId,
} from '../../../platform/file-checks/types.js';
import { enqueueJob } from '../../../platform/jobs.js';
import type { Mailer } from '../../../platform/mail.js';
import type { ClamdClient } from '../../../platform/scanning/clamd.js';
import { encryptionMatches, type ObjectStorage } from '../../../platform/storage/index.js';
import type { BucketStorages } from '../../../platform/storage/configured.js';
import { storageOfBucket } from '../shared/bucket-storage.js';
import { SCAN_QUEUE } from '../uploads/complete.js';
import * as repo from './repo.js';

type Db = Kysely<DatabaseSchema>;

export interface ScanDependencies {
  /** The default storage; files in an owned bucket are read through `buckets` (F1). */
  readonly storage: ObjectStorage;
  readonly buckets?: BucketStorages;
  readonly scanner: ClamdClient | undefined;
  readonly mailer: Mailer | undefined;
  /** Where the owner's notice links to. */
  readonly publicOrigin: string;
}

/** A scanner failure worth retrying: the job fails and the queue tries again later. */
export class ScanRetryError extends Error {
  override readonly name = 'ScanRetryError';
}

async function readPrefix(storage: ObjectStorage, key: string, size: number): Promise<Buffer> {
  if (size === 0) return Buffer.alloc(0);
  const end = Math.min(size, CONTENT_PREFIX_BYTES) - 1;
  const object = await storage.getObject(key, { range: { start: 0, end } });
  const chunks: Buffer[] = [];
  for await (const chunk of object.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function quarantine(
  db: Db,
  deps: ScanDependencies,
  file: repo.ScanTarget,
  reason: string,
  log: Logger,
): Promise<void> {
  const changed = await db.transaction().execute(async (trx) => {
    if (!(await repo.settle(trx, file.id, 'quarantined', reason))) return false;
    await recordAudit(trx, {
      actor: { type: 'system' },
      action: 'file.quarantine',
      target: { type: 'file', id: file.id },
      outcome: 'success',
      // The reason names a check or a signature, never file content.
      details: { reason: reason.slice(0, 200), ownerId: file.owner_id },
    });
    return true;
  });
  if (!changed) return;
  log.warn({ fileId: file.id, reason }, 'file quarantined');
  if (!deps.mailer) return;
  // The owner is told; the message names the file, which only they and the record's readers see.
  await deps.mailer
    .send({
      to: file.owner_email,
      subject: 'Haven: a file you uploaded was quarantined',
      text:
        `The file "${file.name}" you uploaded to Haven did not pass its safety checks and has ` +
        'been quarantined: nobody can download it. If you believe this is a mistake, contact ' +
        `your administrator and quote file ${file.id}.\n\n${deps.publicOrigin}/files\n`,
    })
    .catch((error: unknown) =>
      log.error(
        { fileId: file.id, mailError: error instanceof Error ? error.name : 'unknown' },
        'quarantine notice not sent',
      ),
    );
}

async function markClean(db: Db, file: repo.ScanTarget, log: Logger): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await repo.settle(trx, file.id, 'clean', null))) return;
    await recordAudit(trx, {
      actor: { type: 'system' },
      action: 'file.scan.clean',
      target: { type: 'file', id: file.id },
      outcome: 'success',
    });
  });
  log.info({ fileId: file.id }, 'file scanned clean');
}

/** Scans one file; idempotent (a file no longer `scanning` is left as it is). */
export async function scanFile(
  db: Db,
  deps: ScanDependencies,
  fileId: string,
  log: Logger,
): Promise<void> {
  const file = await repo.selectScanTarget(db, fileId);
  if (!file) return;
  if (!deps.scanner) {
    log.info({ fileId }, 'no malware scanner configured: the file waits to be scanned');
    return;
  }
  await repo.countAttempt(db, fileId);
  const storage = await storageOfBucket(db, deps, file.bucket_id);
  const size = Number(file.size);
  const head = await storage.headObject(file.object_key);
  if (!head || head.size !== size) {
    await quarantine(db, deps, file, 'missing_object', log);
    return;
  }
  // F4: what storage reports for the stored object, not what was asked for.
  if (storage.expectedEncryption && !encryptionMatches(storage.expectedEncryption, head)) {
    await quarantine(db, deps, file, 'encryption_mismatch', log);
    return;
  }
  // F3: the stored bytes are the type the name declared.
  const check = await checkContent(
    file.file_type as FileTypeId,
    await readPrefix(storage, file.object_key, size),
  );
  if (check.result === 'mismatch') {
    await quarantine(db, deps, file, `type_mismatch:${check.detected}`, log);
    return;
  }
  // F5: the whole stored object through clamd.
  const object = await storage.getObject(file.object_key);
  const result = await deps.scanner.scan(object.stream);
  object.stream.destroy();
  if (result.verdict === 'clean') return markClean(db, file, log);
  if (result.verdict === 'infected') {
    return quarantine(db, deps, file, `malware:${result.signature}`, log);
  }
  if (!result.retryable) {
    return quarantine(db, deps, file, `not_scannable:${result.reason}`, log);
  }
  throw new ScanRetryError(`scan failed (${result.reason}); retried later`);
}

/**
 * Files still `scanning` with no scan job waiting (a scanner configured after they arrived, or a
 * job that ran out of attempts while clamd was away) get one. Bounded per run.
 */
export async function enqueuePendingScans(
  db: Db,
  deps: ScanDependencies,
  log: Logger,
  options: { maxAttempts?: number } = {},
): Promise<number> {
  if (!deps.scanner) return 0;
  let queued = 0;
  const enqueue = {
    singletonKey: '',
    ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
  };
  for (const fileId of await repo.selectUnqueuedScans(db, 200)) {
    if (await enqueueJob(db, SCAN_QUEUE, { fileId }, { ...enqueue, singletonKey: fileId })) {
      queued += 1;
    }
  }
  if (queued > 0) log.info({ queued }, 'scans queued for waiting files');
  return queued;
}
