// Threats found by mutation round 9 against platform controls no earlier test proved (A13:
// background jobs safe on several nodes; A4: a node whose clock is off is not ready):
// - a job handed back at shutdown and taken by another node, whose first runner's late outcome
//   must not overwrite the new owner's run (the hand-back gives the attempt back, so only the
//   owner tells the two runs apart);
// - a worker whose job was taken over, still renewing that job's lock and so keeping it from
//   being freed when the new owner dies;
// - a clock minutes off the database's passing the agreement check. The PostgreSQL-only tests in
//   clock-agreement.security.test.ts do not run on the embedded defaults the mutation run uses;
//   PGlite answers clock_timestamp() too, so the check itself is proven here.
import type { Kysely } from 'kysely';
import pino from 'pino';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import {
  ClockSkewError,
  assertClockAgrees,
  clockReadinessCheck,
} from '../../src/platform/db/clock-agreement.js';
import { createWorker, enqueueJob } from '../../src/platform/jobs.js';
import type { DatabaseSchema } from '../../src/platform/db/schema.js';
import { createTestDatabase, describeEachEngine, type TestDatabase } from '../databases.js';

const log = pino({ level: 'silent' });
const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise the test opens by hand. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => {};
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

describeEachEngine('platform controls, round 9', (engine) => {
  let database: TestDatabase;
  let db: Kysely<DatabaseSchema>;
  beforeEach(async () => {
    database = await createTestDatabase(engine);
    db = database.db;
  });
  afterEach(async () => {
    await database.close();
  });

  /** A worker whose scan says when it starts, then waits for `release` (and fails, with `failWith`). */
  function heldWorker(options: {
    workerId: string;
    now: () => Date;
    lockMs?: number;
    failWith?: string;
  }) {
    const [started, release] = [gate(), gate()];
    const worker = createWorker({
      db,
      log,
      workerId: options.workerId,
      ...(options.lockMs !== undefined && { lockMs: options.lockMs }),
      now: options.now,
      handlers: {
        scan: async () => {
          started.open();
          await release.wait;
          if (options.failWith !== undefined) throw new Error(options.failWith);
        },
      },
    });
    return { worker, started, release };
  }

  it("A13/stale outcome after hand-back: a job handed back at shutdown and taken by another node keeps that node's run, whatever its first runner ends with", async () => {
    // The hand-back gives the attempt back, so the new owner runs the same attempt number:
    // only the owner (locked_by) tells the two runs apart.
    const {
      worker: first,
      started: firstStarted,
      release: firstGate,
    } = heldWorker({
      workerId: 'stopping-node',
      now: () => T0,
      failWith: 'late failure after shutdown',
    });
    const {
      worker: second,
      started: secondStarted,
      release: secondGate,
    } = heldWorker({
      workerId: 'other-node',
      now: () => T0,
    });
    const queued = await enqueueJob(db, 'scan', {}, { runAt: T0 });
    const id = queued?.id ?? '';
    const firstRun = first.runOnce();
    await firstStarted.wait;
    await first.stop({ graceMs: 10 }); // the grace passes: the job is handed back
    const secondRun = second.runOnce();
    await secondStarted.wait;
    const taken = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    expect(taken).toMatchObject({ status: 'running', attempts: 1, locked_by: 'other-node' });

    firstGate.open();
    await firstRun;
    // The stopped node's late failure must not release or fail the job the other node runs.
    expect(
      await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst(),
    ).toMatchObject({ status: 'running', attempts: 1, locked_by: 'other-node', last_error: null });
    secondGate.open();
    expect(await secondRun).toBe(1);
    expect(
      await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst(),
    ).toMatchObject({ status: 'done', attempts: 1, last_error: null });
  });
  it("A13/lock kept by a zombie: a worker whose job was taken over stops renewing that job's lock, so the new owner's lease is its own", async () => {
    // The first worker's renewals stalled long enough for its lock to expire (by the second
    // worker's clock) and the second took the job over; the first's handler is still running.
    const {
      worker: first,
      started: firstStarted,
      release: firstGate,
    } = heldWorker({
      workerId: 'zombie-node',
      lockMs: 300, // renewed every 100 ms
      now: () => T0,
    });
    const {
      worker: second,
      started: secondStarted,
      release: secondGate,
    } = heldWorker({
      workerId: 'live-node',
      lockMs: 60_000,
      now: () => at(5_000),
    });
    const queued = await enqueueJob(db, 'scan', {}, { runAt: T0 });
    const id = queued?.id ?? '';
    const firstRun = first.runOnce();
    await firstStarted.wait;
    const secondRun = second.runOnce();
    await secondStarted.wait;
    const lease = at(65_000).getTime();
    const row = () =>
      db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect((await row()).locked_until?.getTime()).toBe(lease);

    await sleep(400); // several of the first worker's renewal periods
    const held = await row();
    expect(held).toMatchObject({ status: 'running', attempts: 2, locked_by: 'live-node' });
    expect(held.locked_until?.getTime()).toBe(lease);

    firstGate.open();
    secondGate.open();
    await Promise.all([firstRun, secondRun]);
    expect(await row()).toMatchObject({ status: 'done', attempts: 2, locked_by: null });
  });

  it("A4/skewed node: a clock five minutes off the database's is refused by the agreement check (PGlite reads the same clock_timestamp())", async () => {
    const off = (ms: number) => () => Date.now() + ms;
    await expect(assertClockAgrees(db, off(0))).resolves.toBeUndefined();
    for (const ms of [5 * 60_000, -5 * 60_000]) {
      await expect(assertClockAgrees(db, off(ms))).rejects.toBeInstanceOf(ClockSkewError);
    }
    const check = clockReadinessCheck(db, { error: vi.fn(), info: vi.fn() }, off(-5 * 60_000));
    await expect(check()).rejects.toBeInstanceOf(ClockSkewError);
  });
});
