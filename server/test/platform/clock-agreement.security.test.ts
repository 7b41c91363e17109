// A node whose wall clock drifted from the others' judges tokens and signed links differently:
// five minutes behind it accepted an access token that had expired (probe twonode). Such a node
// reports itself not ready, so the load balancer stops sending it requests, and says so once in
// its log. PostgreSQL's clock is the reference every node shares; embedded PGlite runs on the
// node's own clock and has no such check.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CLOCK_SKEW_LIMIT_MS,
  ClockSkewError,
  assertClockAgrees,
  clockReadinessCheck,
  measureClockSkew,
} from '../../src/platform/db/clock-agreement.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { ENGINES, describeEachEngine } from '../databases.js';

describe.runIf(ENGINES.includes('postgres'))('clock agreement with PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('postgres');
  });
  afterAll(() => t.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  it("measures this machine's clock as agreeing with the database's", async () => {
    const { skewMs, uncertaintyMs } = await measureClockSkew(t.database.db);
    // Same machine: well inside the limit, and the round trip bounds the error.
    expect(Math.abs(skewMs)).toBeLessThan(CLOCK_SKEW_LIMIT_MS);
    expect(uncertaintyMs).toBeGreaterThanOrEqual(0);
    await expect(assertClockAgrees(t.database.db)).resolves.toBeUndefined();
  });

  it('refuses a clock ahead or behind by more than the limit, and only then', async () => {
    const off = (ms: number) => () => Date.now() + ms;
    for (const ms of [5 * 60_000, -5 * 60_000, CLOCK_SKEW_LIMIT_MS + 1_000]) {
      await expect(assertClockAgrees(t.database.db, off(ms))).rejects.toBeInstanceOf(
        ClockSkewError,
      );
    }
    await expect(
      assertClockAgrees(t.database.db, off(CLOCK_SKEW_LIMIT_MS / 4)),
    ).resolves.toBeUndefined();
  });

  it('A4/skewed node: /readyz answers 503 with Retry-After while the clock is 5 minutes behind, and ready again once it is right', async () => {
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ checks: { clock: 'ok' } });

    // Only Date moves: the node's wall clock, as jose reads it for exp and iat.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 5 * 60_000 });
    const skewed = await t.app.inject({ url: '/readyz' });
    expect(skewed.statusCode).toBe(503);
    expect(skewed.headers['retry-after']).toBeDefined();
    expect(skewed.json()).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      detail: "Not ready: this server's clock is out of step with the database's.",
    });
    vi.useRealTimers();

    expect((await t.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('says once when the clock drifts and once when it is back, not at every probe', async () => {
    const log = { error: vi.fn(), info: vi.fn() };
    let offset = 5 * 60_000;
    const check = clockReadinessCheck(t.database.db, log, () => Date.now() + offset);
    await expect(check()).rejects.toBeInstanceOf(ClockSkewError);
    await expect(check()).rejects.toBeInstanceOf(ClockSkewError);
    expect(log.error).toHaveBeenCalledTimes(1);
    expect(log.error.mock.calls[0]?.[0]).toMatchObject({ limitMs: CLOCK_SKEW_LIMIT_MS });
    offset = 0;
    await check();
    await check();
    expect(log.info).toHaveBeenCalledTimes(1);
  });
});

describeEachEngine('readiness without a clock check', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine);
  });
  afterAll(() => t.close());

  it('reports the clock only where nodes share a database server', async () => {
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    const { checks } = ready.json<{ checks: Record<string, string> }>();
    if (engine === 'pglite') expect(checks).not.toHaveProperty('clock');
    else expect(checks.clock).toBe('ok');
  });
});
