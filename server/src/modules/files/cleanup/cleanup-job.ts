// F7: unfinished uploads past their expiry are aborted in storage BEFORE their record is closed,
// so no stored part outlives the record that names it. Storage that no longer knows the upload
// (NoSuchUpload) is fine; any other failure is recorded on the session and retried on the next
// run. Each session is taken with the same writer mark a PATCH takes, so two workers (or a late
// PATCH) never work on one session at once.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { recordAudit } from '../../../platform/audit/audit.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { BucketStorages } from '../../../platform/storage/configured.js';
import type { ObjectStorage } from '../../../platform/storage/index.js';
import { storageOfBucket } from '../shared/bucket-storage.js';
import * as uploads from '../uploads/repo.js';
import * as repo from './repo.js';

type Db = Kysely<DatabaseSchema>;

export interface CleanupCounts {
  expired: number;
  failed: number;
}

export async function expireAbandonedUploads(
  db: Db,
  defaultStorage: ObjectStorage,
  log: Logger,
  options: { limit?: number; buckets?: BucketStorages } = {},
): Promise<CleanupCounts> {
  const counts: CleanupCounts = { expired: 0, failed: 0 };
  for (const session of await repo.selectExpiredSessions(db, options.limit ?? 100)) {
    const token = randomUUID();
    if (!(await uploads.claimWriter(db, session.id, token))) continue;
    try {
      // The session's own bucket (F1): an owned bucket's upload is aborted where it lives.
      const storage = await storageOfBucket(
        db,
        { storage: defaultStorage, buckets: options.buckets },
        session.bucket_id,
      );
      await storage.abortMultipartUpload(session.object_key, session.storage_upload_id);
      // A completion that assembled the object and then could not record it (the database
      // away, the node killed: the client saw a 503 and never came back) leaves the whole object
      // under the session's key, where the abort no longer reaches: unscanned bytes no file row
      // points at, kept forever (probe "faults2", finding 3). The session is still open, so no
      // file holds that key (a completion closes the session in the transaction that adds the
      // file), and this worker holds the writer mark, so no completion can start meanwhile.
      await storage.deleteObject(session.object_key);
    } catch (error) {
      const reason = error instanceof Error ? error.message : 'unknown error';
      await repo.recordCleanupFailure(db, session.id, reason.slice(0, 500));
      await uploads.releaseWriter(db, session.id, token);
      log.warn({ uploadId: session.id, reason }, 'aborting an expired upload failed; retried');
      counts.failed += 1;
      continue;
    }
    await db.transaction().execute(async (trx) => {
      await uploads.closeSession(trx, session.id, 'expired');
      await recordAudit(trx, {
        actor: { type: 'system' },
        action: 'file.upload.expire',
        target: { type: 'upload', id: session.id },
        outcome: 'success',
        details: { ownerId: session.owner_id },
      });
    });
    counts.expired += 1;
  }
  if (counts.expired + counts.failed > 0) log.info(counts, 'expired uploads cleaned up');
  return counts;
}
