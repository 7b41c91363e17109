import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { sql, type Kysely } from 'kysely';
import pino from 'pino';
import { createTestDatabase, describeEachEngine, type TestDatabase } from '../../test/databases.js';
import { openDatabase, type Database } from './db/database.js';
import type { DatabaseSchema } from './db/schema.js';
import { createWorker, defaultBackoff, enqueueJob, type JobHandler } from './jobs.js';

const log = pino({ level: 'silent' });
const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function job(db: Kysely<DatabaseSchema>, id: string) {
  return db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function countJobs(db: Kysely<DatabaseSchema>, queue: string): Promise<number> {
  const r = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('queue', '=', queue)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

it('default backoff grows exponentially with jitter and is capped', () => {
  for (let i = 0; i < 20; i++) {
    expect(defaultBackoff(1)).toBeGreaterThanOrEqual(5_000);
    expect(defaultBackoff(1)).toBeLessThanOrEqual(10_000);
    expect(defaultBackoff(4)).toBeGreaterThanOrEqual(40_000);
    expect(defaultBackoff(40)).toBeLessThanOrEqual(3_600_000);
  }
});

describeEachEngine('jobs', (engine) => {
  let database: TestDatabase;
  let db: Kysely<DatabaseSchema>;
  beforeEach(async () => {
    database = await createTestDatabase(engine);
    db = database.db;
  });
  afterEach(async () => {
    await database.close();
  });

  it('runs a job once and marks it done', async () => {
    const calls: Array<{ payload: Record<string, unknown>; jobId: string; attempt: number }> = [];
    const worker = createWorker({
      db,
      log,
      now: () => T0,
      handlers: {
        mail: async (payload, { jobId, attempt }) => void calls.push({ payload, jobId, attempt }),
      },
    });
    const queued = await enqueueJob(db, 'mail', { to: 'a@example.test' });
    expect(queued).not.toBeNull();
    expect(await worker.runOnce()).toBe(1);
    expect(await worker.runOnce()).toBe(0);
    expect(calls).toEqual([{ payload: { to: 'a@example.test' }, jobId: queued?.id, attempt: 1 }]);
    const row = await job(db, queued?.id ?? '');
    expect(row).toMatchObject({ status: 'done', attempts: 1, locked_by: null, last_error: null });
    expect(row.finished_at).toEqual(T0);
  });

  it('never claims queues it has no handler for, nor jobs that are not yet due', async () => {
    const other = await enqueueJob(db, 'scan', {});
    const future = await enqueueJob(db, 'mail', {}, { runAt: at(60_000) });
    const handler = vi.fn<JobHandler>(async () => {});
    expect(
      await createWorker({ db, log, now: () => T0, handlers: { mail: handler } }).runOnce(),
    ).toBe(0);
    expect(await createWorker({ db, log, now: () => T0, handlers: {} }).runOnce()).toBe(0);
    expect(handler).not.toHaveBeenCalled();
    expect(await job(db, other?.id ?? '')).toMatchObject({
      status: 'pending',
      attempts: 0,
      locked_by: null,
    });
    expect(await job(db, future?.id ?? '')).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('retries a failing job with backoff, then marks it failed with a sanitized error', async () => {
    let now = T0;
    const backoff = vi.fn((attempt: number) => attempt * 1_000);
    const handler = vi.fn<JobHandler>(async () => {
      throw new Error(`boom\nsecond line ${'x'.repeat(1_000)}`);
    });
    const worker = createWorker({ db, log, now: () => now, backoff, handlers: { scan: handler } });
    const queued = await enqueueJob(db, 'scan', {}, { maxAttempts: 3, runAt: T0 });
    const id = queued?.id ?? '';

    expect(await worker.runOnce()).toBe(1);
    let row = await job(db, id);
    expect(row).toMatchObject({
      status: 'pending',
      attempts: 1,
      locked_by: null,
      locked_until: null,
    });
    expect(row.run_at).toEqual(at(1_000));
    expect(row.last_error).toMatch(/^Error: boom second line x+/);
    expect(row.last_error?.length).toBeLessThanOrEqual(500);
    expect(row.last_error).not.toMatch(/\n|\bat /);
    expect(await worker.runOnce()).toBe(0); // not due before the backoff elapses

    now = at(1_000);
    expect(await worker.runOnce()).toBe(1);
    row = await job(db, id);
    expect(row).toMatchObject({ status: 'pending', attempts: 2 });
    expect(row.run_at).toEqual(at(3_000));

    now = at(3_000);
    expect(await worker.runOnce()).toBe(1);
    row = await job(db, id);
    expect(row).toMatchObject({ status: 'failed', attempts: 3, locked_by: null });
    expect(row.finished_at).toEqual(at(3_000));
    expect(row.last_error).toMatch(/^Error: boom/);

    now = at(3_600_000);
    expect(await worker.runOnce()).toBe(0);
    expect(handler).toHaveBeenCalledTimes(3);
    expect(backoff.mock.calls).toEqual([[1], [2]]);
  });

  it('commits the job with the enclosing transaction', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await enqueueJob(trx, 'mail', { n: 1 });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await countJobs(db, 'mail')).toBe(0);
    await db.transaction().execute(async (trx) => {
      await enqueueJob(trx, 'mail', { n: 2 });
    });
    expect(await countJobs(db, 'mail')).toBe(1);
  });

  it('dedupes live jobs by singleton key', async () => {
    const first = await enqueueJob(db, 'cleanup', {}, { singletonKey: 'k' });
    expect(first).not.toBeNull();
    expect(await enqueueJob(db, 'cleanup', {}, { singletonKey: 'k' })).toBeNull();
    expect(await enqueueJob(db, 'cleanup', {}, { singletonKey: 'other' })).not.toBeNull();
    expect(await enqueueJob(db, 'cleanup', {})).not.toBeNull();
    expect(await countJobs(db, 'cleanup')).toBe(3);
    // Once the job is finished the key is free again.
    await createWorker({
      db,
      log,
      now: () => T0,
      concurrency: 5,
      handlers: { cleanup: async () => {} },
    }).runOnce();
    expect(await enqueueJob(db, 'cleanup', {}, { singletonKey: 'k' })).not.toBeNull();
  });

  it('reclaims a job whose lock expired, and fails it if that was the last attempt', async () => {
    const crashed = await enqueueJob(db, 'mail', {}, { maxAttempts: 3 });
    const exhausted = await enqueueJob(db, 'mail', {}, { maxAttempts: 1 });
    const held = await enqueueJob(db, 'mail', {});
    const lock = (id: string, until: Date) =>
      db
        .updateTable('jobs')
        .set({ status: 'running', attempts: 1, locked_by: 'dead-node', locked_until: until })
        .where('id', '=', id)
        .execute();
    await lock(crashed?.id ?? '', at(-1_000));
    await lock(exhausted?.id ?? '', at(-1_000));
    await lock(held?.id ?? '', at(1_000)); // still locked by a live worker
    const ran: string[] = [];
    const worker = createWorker({
      db,
      log,
      now: () => T0,
      concurrency: 5,
      handlers: { mail: async (_p, { jobId }) => void ran.push(jobId) },
    });

    expect(await worker.runOnce()).toBe(1);
    expect(ran).toEqual([crashed?.id]);
    expect(await job(db, crashed?.id ?? '')).toMatchObject({ status: 'done', attempts: 2 });
    expect(await job(db, exhausted?.id ?? '')).toMatchObject({ status: 'failed', attempts: 1 });
    expect((await job(db, exhausted?.id ?? '')).last_error).toMatch(/Lock expired/);
    expect(await job(db, held?.id ?? '')).toMatchObject({
      status: 'running',
      locked_by: 'dead-node',
    });
  });

  it('renews the lock of a job that runs longer than lockMs, so no other worker takes it over', async () => {
    // Real database clock on both workers: the running job's lock would lapse after 300 ms.
    let release = (): void => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const handlers = {
      scan: async () => {
        runs++;
        await released;
      },
    };
    const busy = createWorker({ db, log, workerId: 'busy', lockMs: 300, handlers });
    const idle = createWorker({ db, log, workerId: 'idle', lockMs: 300, handlers });
    const queued = await enqueueJob(db, 'scan', {});
    const id = queued?.id ?? '';
    const busyRun = busy.runOnce();
    await vi.waitFor(() => expect(runs).toBe(1));
    for (let i = 0; i < 6; i++) {
      await sleep(150);
      expect(await idle.runOnce()).toBe(0);
    }
    expect(await job(db, id)).toMatchObject({ status: 'running', locked_by: 'busy', attempts: 1 });
    release();
    expect(await busyRun).toBe(1);
    expect(await job(db, id)).toMatchObject({ status: 'done', attempts: 1, locked_until: null });
    expect(runs).toBe(1);
  });

  it('frees the job of a dead worker within one lock period by default (1 minute, not 5)', async () => {
    const queued = await enqueueJob(db, 'scan', {});
    const id = queued?.id ?? '';
    let claimedUntil: Date | null = null;
    const worker = createWorker({
      db,
      log,
      handlers: {
        scan: async () => {
          claimedUntil = (await job(db, id)).locked_until;
        },
      },
    });
    const before = Date.now();
    await worker.runOnce();
    const lease = (claimedUntil as Date | null)?.getTime() ?? 0;
    expect(lease - before).toBeGreaterThan(50_000);
    expect(lease - before).toBeLessThan(70_000);
  });

  it('does not let a worker whose lock was taken over overwrite the new owner', async () => {
    // Second case: the same node reclaims its own expired job; only `attempts` tells them apart.
    for (const [slowId, fastId] of [
      ['slow', 'fast'],
      ['node', 'node'],
    ] as const) {
      const gate = (): { wait: Promise<void>; open: () => void } => {
        let open = (): void => {};
        const wait = new Promise<void>((resolve) => (open = resolve));
        return { wait, open };
      };
      const [slowStarted, slowGate, fastStarted, fastGate] = [gate(), gate(), gate(), gate()];
      const slow = createWorker({
        db,
        log,
        workerId: slowId,
        lockMs: 1_000,
        now: () => T0,
        handlers: {
          scan: async () => {
            slowStarted.open();
            await slowGate.wait;
            throw new Error('late failure');
          },
        },
      });
      const fast = createWorker({
        db,
        log,
        workerId: fastId,
        lockMs: 1_000,
        now: () => at(5_000),
        handlers: {
          scan: async () => {
            fastStarted.open();
            await fastGate.wait;
          },
        },
      });
      const queued = await enqueueJob(db, 'scan', {}, { runAt: T0 });
      const id = queued?.id ?? '';
      const slowRun = slow.runOnce();
      await slowStarted.wait;
      const fastRun = fast.runOnce(); // by the fast worker's clock the slow worker's lock has expired
      await fastStarted.wait;
      slowGate.open();
      expect(await slowRun).toBe(1);
      // The stale failure must not release the job while its new owner is still running it.
      expect(await job(db, id)).toMatchObject({
        status: 'running',
        attempts: 2,
        locked_by: fastId,
        last_error: null,
      });
      fastGate.open();
      expect(await fastRun).toBe(1);
      expect(await job(db, id)).toMatchObject({ status: 'done', attempts: 2, last_error: null });
    }
  });

  it('runs every job exactly once with two concurrent workers', async () => {
    // On PostgreSQL the second worker is another node with its own connection pool.
    const second: Database | undefined = database.url
      ? await openDatabase({ url: database.url, embeddedDir: undefined })
      : undefined;
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 50; i++) ids.add((await enqueueJob(db, 'work', { i }))?.id ?? '');
      const calls = new Map<string, number>();
      const perWorker = { a: 0, b: 0 };
      const handler =
        (name: 'a' | 'b'): JobHandler =>
        async (_payload, { jobId }) => {
          calls.set(jobId, (calls.get(jobId) ?? 0) + 1);
          perWorker[name]++;
          await sleep(Math.random() * 5);
        };
      const a = createWorker({
        db,
        log,
        workerId: 'a',
        concurrency: 4,
        handlers: { work: handler('a') },
      });
      const b = createWorker({
        db: second?.db ?? db,
        log,
        workerId: 'b',
        concurrency: 4,
        handlers: { work: handler('b') },
      });
      for (let round = 0; round < 100; round++) {
        const [ranA, ranB] = await Promise.all([a.runOnce(), b.runOnce()]);
        if (ranA + ranB === 0) break;
      }
      expect(new Set(calls.keys())).toEqual(ids);
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
      expect(perWorker.a).toBeGreaterThan(0);
      expect(perWorker.b).toBeGreaterThan(0);
      const statuses = await db.selectFrom('jobs').select('status').distinct().execute();
      expect(statuses).toEqual([{ status: 'done' }]);
    } finally {
      await second?.close();
    }
  });

  it('keeps one live occurrence of a schedule when two workers poll', async () => {
    const second: Database | undefined = database.url
      ? await openDatabase({ url: database.url, embeddedDir: undefined })
      : undefined;
    try {
      let now = T0;
      const runs: string[] = [];
      const options = {
        log,
        now: () => now,
        schedules: [{ queue: 'cleanup', everyMs: 60_000, payload: { kind: 'sessions' } }],
        handlers: {
          cleanup: async (payload: Record<string, unknown>) => void runs.push(String(payload.kind)),
        },
      };
      const a = createWorker({ ...options, db });
      const b = createWorker({ ...options, db: second?.db ?? db });
      const live = () =>
        db
          .selectFrom('jobs')
          .select(['run_at', 'singleton_key'])
          .where('status', 'in', ['pending', 'running'])
          .execute();

      for (let i = 0; i < 3; i++) {
        expect(await Promise.all([a.runOnce(), b.runOnce()])).toEqual([0, 0]);
      }
      expect(await live()).toEqual([{ run_at: at(60_000), singleton_key: 'schedule:cleanup' }]);

      now = at(60_000);
      const ran = await Promise.all([a.runOnce(), b.runOnce()]);
      expect(ran[0] + ran[1]).toBe(1);
      expect(runs).toEqual(['sessions']);
      await Promise.all([a.runOnce(), b.runOnce()]);
      expect(await live()).toEqual([{ run_at: at(120_000), singleton_key: 'schedule:cleanup' }]);
      expect(await countJobs(db, 'cleanup')).toBe(2);
    } finally {
      await second?.close();
    }
  });

  it('polls in the background and stop() waits for running jobs', async () => {
    let finished = 0;
    let started = 0;
    const worker = createWorker({
      db,
      log,
      pollIntervalMs: 10,
      handlers: {
        mail: async () => {
          started++;
          await sleep(100);
          finished++;
        },
      },
    });
    worker.start();
    await enqueueJob(db, 'mail', {});
    await vi.waitFor(() => expect(started).toBe(1), { timeout: 5_000 });
    await worker.stop();
    expect(finished).toBe(1);
    await enqueueJob(db, 'mail', {});
    await sleep(100);
    expect(started).toBe(1); // stopped: no more polling
    const pending = await sql<{
      n: number;
    }>`select count(*)::int as n from jobs where status = 'pending'`.execute(db);
    expect(pending.rows[0]?.n).toBe(1);
  });
});

it('logs poll errors and keeps polling instead of crashing', async () => {
  const lines: string[] = [];
  const capture = pino({ level: 'error' }, { write: (line: string) => void lines.push(line) });
  const broken = await openDatabase({ url: undefined, embeddedDir: undefined });
  await broken.close();
  const worker = createWorker({
    db: broken.db,
    log: capture,
    pollIntervalMs: 5,
    handlers: { mail: async () => {} },
  });
  worker.start();
  await vi.waitFor(
    () =>
      expect(lines.filter((l) => l.includes('job poll failed')).length).toBeGreaterThanOrEqual(2),
    { timeout: 5_000 },
  );
  await worker.stop();
});
