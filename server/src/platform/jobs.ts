// Background jobs in the `jobs` table, run by `haven worker` or embedded in the server.
// Workers claim due rows with FOR UPDATE SKIP LOCKED in a short transaction and run the
// handlers outside it, so several workers (or nodes) can poll at once; a crashed worker's
// job becomes claimable again once its `locked_until` passes.
// Our own small queue, not pg-boss or graphile-worker: the same code must run on embedded
// PGlite (PostgreSQL in WASM, a single connection), where those libraries cannot run.
// Delivery is at-least-once: a job whose lock could not be renewed in time, or whose result
// cannot be recorded, runs again, so handlers must be idempotent.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { sql, type Expression, type Kysely, type RawBuilder } from 'kysely';
import type pino from 'pino';
import type { DatabaseSchema } from './db/schema.js';
import { logBackgroundFailure } from './db/faults.js';

export type JobHandler = (
  payload: Record<string, unknown>,
  context: { jobId: string; attempt: number; db: Kysely<DatabaseSchema>; log: pino.Logger },
) => Promise<void>;

export interface EnqueueOptions {
  runAt?: Date;
  maxAttempts?: number;
  /** At most one live (pending or running) job per (queue, singletonKey). */
  singletonKey?: string;
}

export interface WorkerOptions {
  db: Kysely<DatabaseSchema>;
  handlers: Record<string, JobHandler>;
  log: pino.Logger;
  workerId?: string;
  pollIntervalMs?: number;
  concurrency?: number;
  lockMs?: number;
  schedules?: Array<{ queue: string; everyMs: number; payload?: Record<string, unknown> }>;
  /** Injected clock (tests). Without it every comparison uses the database clock, so nodes
   *  with skewed clocks still agree on when a job is due or a lock has expired. */
  now?: () => Date;
  backoff?: (attempt: number) => number;
  /** Told how each run ended (the metrics, L4): done, retry (tried again later) or failed. */
  onJobFinished?: (queue: string, outcome: 'done' | 'retry' | 'failed') => void;
}

export interface StopOptions {
  /**
   * How long running jobs may take to finish; those still running then are handed back
   * (pending again, their attempt not counted) so another worker takes them at once instead of
   * after their lock expires. Without it stop() waits for every running job.
   */
  graceMs?: number;
}

export interface Worker {
  start(): void;
  stop(options?: StopOptions): Promise<void>;
  runOnce(): Promise<number>;
}

const MAX_ERROR_LENGTH = 500;
const EXPIRED = 'Lock expired during the final attempt (worker crashed or timed out).';

/**
 * Adds a job. Pass a transaction as `db` so the job commits (or rolls back) with the change
 * that caused it. Returns null when a live job with the same singleton key already exists.
 */
export async function enqueueJob(
  db: Kysely<DatabaseSchema>,
  queue: string,
  payload: Record<string, unknown>,
  options: EnqueueOptions = {},
): Promise<{ id: string } | null> {
  return insertJob(db, queue, payload, options);
}

async function insertJob(
  db: Kysely<DatabaseSchema>,
  queue: string,
  payload: Record<string, unknown>,
  options: Omit<EnqueueOptions, 'runAt'> & { runAt?: Date | Expression<Date> },
): Promise<{ id: string } | null> {
  const row = await db
    .insertInto('jobs')
    .values({
      queue,
      payload: JSON.stringify(payload),
      ...(options.runAt !== undefined && { run_at: options.runAt }),
      ...(options.maxAttempts !== undefined && { max_attempts: options.maxAttempts }),
      singleton_key: options.singletonKey ?? null,
    })
    // The target and predicate must match the partial unique index jobs_singleton_idx
    // (written as literal SQL: PostgreSQL cannot infer a partial index from bound parameters).
    .onConflict((oc) =>
      oc
        .columns(['queue', 'singleton_key'])
        .where(sql<boolean>`singleton_key IS NOT NULL AND status IN ('pending', 'running')`)
        .doNothing(),
    )
    .returning('id')
    .executeTakeFirst();
  return row ?? null;
}

/** Exponential from 10 s, capped at 1 h, with "equal jitter" so failed jobs don't retry in lockstep. */
export function defaultBackoff(attempt: number): number {
  const ceiling = Math.min(3_600_000, 10_000 * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** No stack (it can leak paths and data), no control characters, bounded length. */
export function sanitizeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : 'Non-Error thrown';
  const clean = text.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').trim();
  return clean.length > MAX_ERROR_LENGTH ? `${clean.slice(0, MAX_ERROR_LENGTH - 1)}…` : clean;
}

const unlocked = { locked_by: null, locked_until: null };

/** A job as claimed: running, locked by its owner, this attempt counted. */
export interface ClaimedJob {
  readonly id: string;
  readonly queue: string;
  readonly payload: Record<string, unknown>;
  readonly attempts: number;
  readonly max_attempts: number;
}

/**
 * Runs a claimed job's handler and records its outcome: done; pending again after the backoff;
 * failed after its last attempt. Shared by the worker and `runJobNow` (job-now.ts).
 */
export async function runClaimedJob(
  db: Kysely<DatabaseSchema>,
  job: ClaimedJob,
  owner: string,
  handler: JobHandler | undefined,
  log: pino.Logger,
  timing: {
    clock: () => RawBuilder<Date>;
    later: (ms: number) => RawBuilder<Date>;
    backoff: (attempt: number) => number;
    onJobFinished?: WorkerOptions['onJobFinished'];
  },
): Promise<void> {
  const jobLog = log.child({ jobId: job.id, queue: job.queue, attempt: job.attempts });
  // Guard every outcome on (locked_by, attempts): if our lock expired and another worker
  // (or this one, later) took the job over, this stale result must not overwrite theirs.
  const ours = db
    .updateTable('jobs')
    .where('id', '=', job.id)
    .where('status', '=', 'running')
    .where('locked_by', '=', owner)
    .where('attempts', '=', job.attempts);
  try {
    if (!handler) throw new Error(`No handler for queue ${job.queue}`);
    await handler(job.payload, { jobId: job.id, attempt: job.attempts, db, log: jobLog });
  } catch (error) {
    const lastError = sanitizeError(error);
    const retry = job.attempts < job.max_attempts;
    jobLog.warn({ error: lastError, retry }, 'job failed');
    const outcome = retry
      ? {
          status: 'pending' as const,
          run_at: timing.later(Math.max(0, timing.backoff(job.attempts))),
        }
      : { status: 'failed' as const, finished_at: timing.clock() };
    timing.onJobFinished?.(job.queue, retry ? 'retry' : 'failed');
    await ours.set({ ...outcome, ...unlocked, last_error: lastError }).execute();
    return;
  }
  timing.onJobFinished?.(job.queue, 'done');
  await ours.set({ status: 'done', finished_at: timing.clock(), ...unlocked }).execute();
}

export function createWorker(options: WorkerOptions): Worker {
  const { db, handlers, log } = options;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  // Renewed while the handler runs (keepLocked), so this bounds how long a dead worker's job
  // waits for another worker, not how long a job may take.
  const lockMs = options.lockMs ?? 60_000;
  const backoff = options.backoff ?? defaultBackoff;
  // Only queues this worker can run are ever claimed; other nodes may own the rest.
  const queues = Object.keys(handlers);

  const clock = (): RawBuilder<Date> =>
    options.now ? sql<Date>`${options.now()}::timestamptz` : sql<Date>`now()`;
  const later = (ms: number): RawBuilder<Date> =>
    sql<Date>`${clock()} + ${ms}::float8 * interval '1 millisecond'`;

  async function ensureSchedules(): Promise<void> {
    // The singleton key makes this idempotent across nodes: whoever polls first creates the
    // next occurrence, everyone else's insert is a no-op until that job finishes.
    for (const schedule of options.schedules ?? []) {
      await insertJob(db, schedule.queue, schedule.payload ?? {}, {
        runAt: later(schedule.everyMs),
        singletonKey: `schedule:${schedule.queue}`,
      });
    }
  }

  async function claim(limit: number) {
    if (queues.length === 0) return [];
    return db.transaction().execute(async (trx) => {
      const now = clock();
      const rows = await trx
        .selectFrom('jobs')
        .select(['id', 'status', 'attempts', 'max_attempts'])
        .where('queue', 'in', queues)
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', now)]),
            eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
          ]),
        )
        .orderBy('run_at')
        .limit(limit)
        .forUpdate()
        .skipLocked()
        .execute();
      // A job whose worker died during its last allowed attempt is failed, not rerun:
      // otherwise a job that crashes its worker every time would loop forever.
      const isExhausted = (r: (typeof rows)[number]) =>
        r.status === 'running' && r.attempts >= r.max_attempts;
      const exhausted = rows.filter(isExhausted).map((r) => r.id);
      if (exhausted.length > 0) {
        await trx
          .updateTable('jobs')
          .set({ status: 'failed', finished_at: now, ...unlocked, last_error: EXPIRED })
          .where('id', 'in', exhausted)
          .execute();
      }
      const ids = rows.filter((r) => !isExhausted(r)).map((r) => r.id);
      if (ids.length === 0) return [];
      return trx
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          attempts: eb('attempts', '+', 1),
          locked_by: workerId,
          locked_until: later(lockMs),
        }))
        .where('id', 'in', ids)
        .returning(['id', 'queue', 'payload', 'attempts', 'max_attempts'])
        .execute();
    });
  }

  /** Jobs whose handler runs now: id → attempt, for the hand-back at stop. */
  const running = new Map<string, number>();

  /** Gives jobs still held by this worker back to the queue (stop after its grace). */
  async function handBack(): Promise<void> {
    for (const [id, attempts] of running) {
      const released = await db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'pending',
          attempts: eb('attempts', '-', 1),
          run_at: clock(),
          ...unlocked,
        }))
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('locked_by', '=', workerId)
        .where('attempts', '=', attempts)
        .executeTakeFirst();
      if (Number(released.numUpdatedRows) > 0) {
        log.warn({ jobId: id }, 'job still running at shutdown: handed back to the queue');
      }
    }
  }

  /**
   * Keeps a running job's lock alive: renewed every third of `lockMs` while the handler runs, so
   * a long scan keeps its job, and a worker that dies (no more renewals) frees it within one
   * `lockMs` instead of holding it for as long as the longest job might take.
   */
  function keepLocked(job: { id: string; attempts: number }): NodeJS.Timeout {
    const renew = (): void => {
      db.updateTable('jobs')
        .set({ locked_until: later(lockMs) })
        .where('id', '=', job.id)
        .where('status', '=', 'running')
        .where('locked_by', '=', workerId)
        .where('attempts', '=', job.attempts)
        .execute()
        .catch((error: unknown) => logBackgroundFailure(log, error, 'renewing a job lock failed'));
    };
    const timer = setInterval(renew, Math.max(50, Math.floor(lockMs / 3)));
    timer.unref();
    return timer;
  }

  async function run(job: Awaited<ReturnType<typeof claim>>[number]): Promise<void> {
    running.set(job.id, job.attempts);
    const renewal = keepLocked(job);
    try {
      await runClaimed(job);
    } finally {
      clearInterval(renewal);
      running.delete(job.id);
    }
  }

  async function runClaimed(job: Awaited<ReturnType<typeof claim>>[number]): Promise<void> {
    await runClaimedJob(db, job, workerId, handlers[job.queue], log, {
      clock,
      later,
      backoff,
      onJobFinished: options.onJobFinished,
    });
  }

  const inFlight = new Set<Promise<number>>();

  async function pollOnce(): Promise<number> {
    await ensureSchedules();
    const jobs = await claim(concurrency);
    const results = await Promise.allSettled(jobs.map((job) => run(job)));
    for (const result of results) {
      // The job stays `running` and is retried after its lock expires.
      if (result.status === 'rejected') {
        log.error({ err: result.reason }, 'recording a job result failed');
      }
    }
    return jobs.length;
  }

  function runOnce(): Promise<number> {
    const promise = pollOnce().finally(() => inFlight.delete(promise));
    inFlight.add(promise);
    return promise;
  }

  let polling = false;
  let timer: NodeJS.Timeout | undefined;

  function schedule(delayMs: number): void {
    if (!polling) return;
    // setTimeout rather than setInterval: polls never overlap, and a slow database slows
    // the loop down instead of piling up queries. unref() so the loop alone never keeps
    // the process alive (the CLI / server owns the process lifetime).
    timer = setTimeout(() => {
      timer = undefined;
      runOnce().then(
        // A full batch suggests more work is waiting: poll again right away.
        (ran) => schedule(ran >= concurrency ? 0 : pollIntervalMs),
        (err: unknown) => {
          logBackgroundFailure(log, err, 'job poll failed');
          schedule(pollIntervalMs);
        },
      );
    }, delayMs);
    timer.unref();
  }

  return {
    start() {
      if (polling) return;
      polling = true;
      log.info({ workerId, queues }, 'job worker started');
      schedule(0);
    },
    async stop(stopOptions = {}) {
      polling = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      const settled = Promise.allSettled([...inFlight]);
      if (stopOptions.graceMs === undefined) {
        await settled;
        return;
      }
      let graceTimer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace'>((resolve) => {
        graceTimer = setTimeout(() => resolve('grace'), stopOptions.graceMs);
      });
      const outcome = await Promise.race([settled.then(() => 'done' as const), graceOver]);
      clearTimeout(graceTimer);
      if (outcome === 'grace') {
        await handBack().catch((error: unknown) =>
          logBackgroundFailure(log, error, 'handing back running jobs failed'),
        );
      }
    },
    runOnce,
  };
}
