// One job run at once by the process that enqueued it (platform/jobs.ts has the queue): work a
// request must not lose when the process ends, and that should still happen now, not at the next
// worker poll.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type pino from 'pino';
import type { DatabaseSchema } from './db/schema.js';
import { defaultBackoff, sanitizeError, type JobHandler } from './jobs.js';

/**
 * Runs one pending job here and now, unless a worker claimed it first: claimed as a worker claims
 * (running, locked for `lockMs`, the attempt counted) and its outcome recorded as a worker records
 * it (done; pending again after a backoff; failed after its last attempt). For work a request
 * enqueued so that it survives the process, and that should still happen at once: a process that
 * dies before the outcome is recorded leaves the job locked, and a worker takes it over once the
 * lock expires. False when the job was no longer pending.
 */
export async function runJobNow(
  db: Kysely<DatabaseSchema>,
  jobId: string,
  handler: JobHandler,
  log: pino.Logger,
  lockMs = 60_000,
): Promise<boolean> {
  const owner = `now:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const lockedUntil = sql<Date>`now() + ${lockMs}::float8 * interval '1 millisecond'`;
  const job = await db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      attempts: eb('attempts', '+', 1),
      locked_by: owner,
      locked_until: lockedUntil,
    }))
    .where('id', '=', jobId)
    .where('status', '=', 'pending')
    .returning(['id', 'queue', 'payload', 'attempts', 'max_attempts'])
    .executeTakeFirst();
  if (!job) return false;
  const ours = db
    .updateTable('jobs')
    .where('id', '=', job.id)
    .where('status', '=', 'running')
    .where('locked_by', '=', owner)
    .where('attempts', '=', job.attempts);
  const jobLog = log.child({ jobId: job.id, queue: job.queue, attempt: job.attempts });
  try {
    await handler(job.payload, { jobId: job.id, attempt: job.attempts, db, log: jobLog });
  } catch (error) {
    const lastError = sanitizeError(error);
    const retry = job.attempts < job.max_attempts;
    jobLog.warn({ error: lastError, retry }, 'job failed');
    const delay = sql<Date>`now() + ${defaultBackoff(job.attempts)}::float8 * interval '1 millisecond'`;
    const outcome = retry
      ? { status: 'pending' as const, run_at: delay }
      : { status: 'failed' as const, finished_at: sql<Date>`now()` };
    await ours
      .set({ ...outcome, locked_by: null, locked_until: null, last_error: lastError })
      .execute();
    return true;
  }
  await ours
    .set({ status: 'done', finished_at: sql<Date>`now()`, locked_by: null, locked_until: null })
    .execute();
  return true;
}
