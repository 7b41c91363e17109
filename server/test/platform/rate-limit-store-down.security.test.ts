// R1 with the shared counter store down: requests are refused with 503 instead of being
// let through uncounted, while the health probes keep answering (and /readyz says why).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import { probeRoutes } from '../fixtures/probe-routes.js';

describeEachEngine('rate limiting with Redis unreachable', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    // Port 1 on loopback: nothing listens, so every Redis command fails at once.
    t = await createTestApp(engine, {
      env: { REDIS_URL: 'redis://127.0.0.1:1' },
      build: { modules: [probeRoutes] },
    });
  });
  afterAll(() => t.close());

  it('R1/fail-closed: an API route answers 503 SERVICE_UNAVAILABLE with Retry-After, never unlimited', async () => {
    const response = await t.app.inject({
      url: '/api/test/items/8f14e45f-ceea-4e7a-9b5c-1f2d3c4b5a69',
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    // "Not now", with when to try again: clients (the SPA, tus and OAuth clients) wait and retry.
    expect(response.headers['retry-after']).toBe('1');
  });

  it('R1: the liveness probe stays up and readiness reports the failing dependency', async () => {
    expect((await t.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const ready = await t.app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      detail: 'Not ready: redis unavailable.',
    });
  });
});
