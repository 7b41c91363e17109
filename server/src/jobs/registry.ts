// Every background job Haven knows, in one place: the server's embedded worker and
// `haven worker` both take their handlers and schedules from here.
import { sql } from 'kysely';
import type { JobHandler } from '../platform/jobs.js';
import {
  PASSWORD_RESET_QUEUE,
  passwordResetJob,
  purgeExpiredIdentityRecords,
  type ResetRequestContext,
} from '../modules/identity/index.js';
import { purgeExpiredOAuthRecords } from '../modules/oauth/index.js';
import { sealAuditChain, type SealedTail } from '../platform/audit/seal.js';
import { createAnchorPublisher } from '../platform/audit/anchors.js';
import type { AuditSealing } from '../platform/audit/configured.js';
import {
  SCAN_QUEUE,
  enqueuePendingScans,
  expireAbandonedUploads,
  scanFile,
  type ScanDependencies,
} from '../modules/files/index.js';

/** How often the audit sealer runs: the delay before an event is protected by the chain. */
export const AUDIT_SEAL_EVERY_MS = 1_000;
/** Finished audit.seal jobs (one a second) are kept this long, then deleted. */
const SEAL_JOB_RETENTION = '1 hour';
const SEAL_JOB_PURGE_EVERY_MS = 10 * 60_000;

/** What the handlers need besides the database and the log each job gets. */
export interface JobDependencies extends AuditSealing {
  /** Clock of the anchor schedule (tests). */
  now?: () => number;
  /** Storage, scanner and mail of the files jobs; without them those jobs are not run here. */
  files?: ScanDependencies;
  /** Mail and links of identity's queued requests (password resets); without them, not run here. */
  identity?: ResetRequestContext;
}

/** Scan attempts per job before it gives up (the sweep queues a new one a minute later). */
const SCAN_MAX_ATTEMPTS = 8;
const UPLOAD_CLEANUP_EVERY_MS = 10 * 60_000;
const SCAN_SWEEP_EVERY_MS = 60_000;

export function jobHandlers(dependencies: JobDependencies): Record<string, JobHandler> {
  const { auditChainKey: key } = dependencies;
  const anchors = createAnchorPublisher(dependencies.anchorSink, {
    ...(dependencies.now && { now: dependencies.now }),
  });
  let lastSealJobPurge = 0;
  const files = dependencies.files;
  const fileHandlers: Record<string, JobHandler> = files
    ? {
        // F3–F5: one completed upload through its checks and clamd; a retryable scanner failure
        // throws, and the queue retries with backoff (the file stays undownloadable meanwhile).
        [SCAN_QUEUE]: async (payload, { db, log }) => {
          if (typeof payload.fileId !== 'string') return;
          await scanFile(db, files, payload.fileId, log);
        },
        'files.scan-sweep': async (_payload, { db, log }) => {
          await enqueuePendingScans(db, files, log, { maxAttempts: SCAN_MAX_ATTEMPTS });
        },
        // F7: abandoned uploads aborted in storage, then closed; safe on several workers.
        'files.cleanup': async (_payload, { db, log }) => {
          await expireAbandonedUploads(db, files.storage, log, {
            ...(files.buckets && { buckets: files.buckets }),
          });
        },
      }
    : {};
  const identity = dependencies.identity;
  return {
    ...fileHandlers,
    // A10: a password-reset request recorded before its 202, which the answering process could
    // not finish (modules/identity/passwords/reset-requests.ts).
    ...(identity && { [PASSWORD_RESET_QUEUE]: passwordResetJob(identity) }),
    // A13: idempotent conditional deletes, so overlapping runs on several nodes are harmless.
    'identity.cleanup': async (_payload, { db, log }) => {
      const counts = await purgeExpiredIdentityRecords(db, new Date());
      // Finished reset requests: a failed one still names an email address.
      await db
        .deleteFrom('jobs')
        .where('queue', '=', PASSWORD_RESET_QUEUE)
        .where('status', 'in', ['done', 'failed'])
        .where('finished_at', '<', sql<Date>`now() - interval '1 day'`)
        .execute();
      log.info(counts, 'identity records purged');
    },
    // A13: expired OAuth artifacts and revoked-token ids; idempotent like identity's.
    'oauth.cleanup': async (_payload, { db, log }) => {
      const counts = await purgeExpiredOAuthRecords(db, new Date());
      log.info(counts, 'oauth records purged');
    },
    // L3: links committed audit events into the keyed hash chain (platform/audit/seal.ts). One
    // sealer at a time across nodes (advisory lock; a run that finds it taken does nothing);
    // a backlog is sealed a minute's worth at a time so the job ends well within its lock.
    // A failure (the database away) is logged and the job still ends: the next run is a
    // second away, where the queue's retry would back off for minutes. Then, at most once a
    // minute, the newest seal this process wrote is published as an anchor outside the
    // database (platform/audit/anchors.ts).
    'audit.seal': async (_payload, { db, log }) => {
      const started = Date.now();
      let total = 0;
      let last: SealedTail | undefined;
      let failed = false;
      try {
        for (;;) {
          const result = await sealAuditChain(db, { key, maxEvents: 50_000 });
          total += result.sealed;
          last = result.last ?? last;
          if (result.busy || result.sealed < 50_000 || Date.now() - started > 60_000) break;
        }
      } catch (error) {
        const reason = error instanceof Error ? error.message : 'unknown error';
        log.warn({ sealed: total, reason }, 'audit sealing failed; the next run retries');
        failed = true;
      }
      // Batches committed before a failure are in the chain: they are anchored all the same.
      anchors.note(last);
      if (total > 0) log.debug({ sealed: total }, 'audit events sealed');
      try {
        await anchors.publishIfDue();
      } catch (error) {
        const reason = error instanceof Error ? error.message : 'unknown error';
        log.warn({ reason }, 'publishing the audit anchor failed; retried within a minute');
      }
      if (failed) return;
      // A job a second leaves 86 400 finished rows a day: keep only the recent ones.
      if (started - lastSealJobPurge > SEAL_JOB_PURGE_EVERY_MS) {
        lastSealJobPurge = started;
        await db
          .deleteFrom('jobs')
          .where('queue', '=', 'audit.seal')
          .where('status', '=', 'done')
          .where('finished_at', '<', sql<Date>`now() - ${SEAL_JOB_RETENTION}::interval`)
          .execute();
      }
    },
  };
}

export function jobSchedules(): Array<{ queue: string; everyMs: number }> {
  return [
    { queue: 'identity.cleanup', everyMs: 10 * 60_000 },
    { queue: 'oauth.cleanup', everyMs: 10 * 60_000 },
    { queue: 'audit.seal', everyMs: AUDIT_SEAL_EVERY_MS },
    { queue: 'files.scan-sweep', everyMs: SCAN_SWEEP_EVERY_MS },
    { queue: 'files.cleanup', everyMs: UPLOAD_CLEANUP_EVERY_MS },
  ];
}
