// A stopping worker must not sit on a job (probe "crash", 7b): SIGTERM to `haven worker` while a
// scan streamed to a stalled clamd kept the process up for the scanner's 60 s timeout; an
// orchestrator kills it after ~10 s, and the job then stayed `running` under the dead worker's
// lock for 5 minutes, its file undownloadable. stop({ graceMs }) lets running jobs finish within
// the grace and hands the others back to the queue at once, without counting the attempt; a
// handler that still finishes later cannot overwrite what the next worker recorded.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { createTestDatabase, describeEachEngine, type TestDatabase } from '../databases.js';
import type { DatabaseSchema } from '../../src/platform/db/schema.js';
import { createWorker, enqueueJob } from '../../src/platform/jobs.js';

const log = pino({ level: 'silent' });

async function jobRow(db: Kysely<DatabaseSchema>, id: string) {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describeEachEngine('worker shutdown with a job still running', (engine) => {
  let database: TestDatabase;
  let db: Kysely<DatabaseSchema>;
  beforeEach(async () => {
    database = await createTestDatabase(engine);
    db = database.db;
  });
  afterEach(async () => {
    await database.close();
  });

  it('7b: stop({ graceMs }) returns after the grace and hands the job back, attempt not counted; the late handler changes nothing', async () => {
    let finishStuck: () => void = () => undefined;
    let started = 0;
    const stuck = createWorker({
      db,
      log,
      pollIntervalMs: 10,
      handlers: {
        scan: async () => {
          started++;
          // A scan waiting on a scanner that does not answer.
          await new Promise<void>((resolve) => (finishStuck = resolve));
        },
      },
    });
    const queued = await enqueueJob(db, 'scan', { fileId: 'f1' });
    stuck.start();
    await vi.waitFor(() => expect(started).toBe(1), { timeout: 5_000 });
    expect(await jobRow(db, queued!.id)).toMatchObject({ status: 'running', attempts: 1 });

    const stopStarted = Date.now();
    await stuck.stop({ graceMs: 200 });
    expect(Date.now() - stopStarted).toBeLessThan(3_000);
    const handedBack = await jobRow(db, queued!.id);
    expect(handedBack).toMatchObject({
      status: 'pending',
      attempts: 0,
      locked_by: null,
      locked_until: null,
    });

    // Another worker takes it at once, not after the 5-minute lock.
    const runs: string[] = [];
    const next = createWorker({
      db,
      log,
      handlers: { scan: async (_payload, { jobId }) => void runs.push(jobId) },
    });
    expect(await next.runOnce()).toBe(1);
    expect(runs).toEqual([queued!.id]);
    expect(await jobRow(db, queued!.id)).toMatchObject({ status: 'done', attempts: 1 });

    // The stuck handler finishing now records nothing over the done job.
    finishStuck();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await jobRow(db, queued!.id)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('7b: a job that finishes within the grace is recorded as usual', async () => {
    let done = 0;
    const worker = createWorker({
      db,
      log,
      pollIntervalMs: 10,
      handlers: {
        scan: async () => {
          await new Promise((resolve) => setTimeout(resolve, 100));
          done++;
        },
      },
    });
    const queued = await enqueueJob(db, 'scan', {});
    worker.start();
    await vi.waitFor(async () => expect((await jobRow(db, queued!.id)).status).toBe('running'));
    await worker.stop({ graceMs: 5_000 });
    expect(done).toBe(1);
    expect(await jobRow(db, queued!.id)).toMatchObject({ status: 'done', attempts: 1 });
  });
});
