// One job run at once by the process that enqueued it (platform/jobs.ts has the queue): work a
// request must not lose when the process ends, and that should still happen now, not at the next
// worker poll.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type pino from 'pino';
import type { DatabaseSchema } from './db/schema.js';
import { defaultBackoff, runClaimedJob, type JobHandler } from './jobs.js';

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
  const later = (ms: number) => sql<Date>`now() + ${ms}::float8 * interval '1 millisecond'`;
  const job = await db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      attempts: eb('attempts', '+', 1),
      locked_by: owner,
      locked_until: later(lockMs),
    }))
    .where('id', '=', jobId)
    .where('status', '=', 'pending')
    .returning(['id', 'queue', 'payload', 'attempts', 'max_attempts'])
    .executeTakeFirst();
  if (!job) return false;
  await runClaimedJob(db, job, owner, handler, log, {
    clock: () => sql<Date>`now()`,
    later,
    backoff: defaultBackoff,
  });
  return true;
}
