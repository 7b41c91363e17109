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
import { databaseNow } from '../platform/db/clock-agreement.js';
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
    // Expiry is judged on the database's clock, the one every node shares: a worker whose own
    // clock ran two hours ahead deleted live sessions (probe "faults2", finding 4), and a day
    // ahead it would also drop live links and sign-in backoff rows (A3). Only `serve` nodes take
    // themselves out of service when their clock drifts (readiness); a worker has no such check.
    'identity.cleanup': async (_payload, { db, log }) => {
      const counts = await purgeExpiredIdentityRecords(db, await databaseNow(db));
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
      const counts = await purgeExpiredOAuthRecords(db, await databaseNow(db));
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

/**
 * Queues that wait on a service outside the database: each is run by a worker loop of its own.
 * A worker runs one job at a time, and a clamd that hangs holds a scan for its whole idle timeout
 * (60 s), attempt after attempt and file after file: sharing the loop, audit sealing (L3), the
 * password-reset fallback (A10) and the cleanups waited behind every queued scan for as long as
 * clamd hung (the probe saw audit events stay unsealed for the whole 144 s hang).
 */
const OWN_LOOP_QUEUES: readonly string[] = [SCAN_QUEUE];

export interface JobLoop {
  readonly name: string;
  readonly handlers: Record<string, JobHandler>;
  readonly schedules: Array<{ queue: string; everyMs: number }>;
}

/**
 * The handlers and schedules split into the worker loops that run them: one loop per queue of
 * OWN_LOOP_QUEUES that this process can run, and one for all the others.
 */
export function jobLoops(
  handlers: Record<string, JobHandler>,
  schedules: Array<{ queue: string; everyMs: number }>,
): JobLoop[] {
  const loopOf = (queue: string): string => (OWN_LOOP_QUEUES.includes(queue) ? queue : 'system');
  const loops = new Map<
    string,
    { handlers: Record<string, JobHandler>; schedules: JobLoop['schedules'] }
  >();
  const loop = (name: string) => {
    let found = loops.get(name);
    if (!found) loops.set(name, (found = { handlers: {}, schedules: [] }));
    return found;
  };
  for (const [queue, handler] of Object.entries(handlers)) {
    loop(loopOf(queue)).handlers[queue] = handler;
  }
  for (const schedule of schedules) {
    // A schedule whose queue this process cannot run is kept with the system loop, as before.
    loop(handlers[schedule.queue] ? loopOf(schedule.queue) : 'system').schedules.push(schedule);
  }
  return [...loops].map(([name, parts]) => ({ name, ...parts }));
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
