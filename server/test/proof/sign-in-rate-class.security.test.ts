// R1/A3: sign-in is counted in the strict `auth` rate class. Every class but `auth` is set far
// above it here, so the number of sign-ins one client gets per window names the class the route
// is really counted in: were it moved to a lenient class, the 429 would not come.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app-harness.js';
import { GENEROUS_RATE_LIMITS } from '../actors.js';
import { describeEachEngine } from '../databases.js';

const AUTH_LIMIT = 4;

describeEachEngine('sign-in rate class', (engine) => {
  let t: TestApp;
  let origin: string;

  beforeAll(async () => {
    t = await createTestApp(engine, {
      env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_AUTH: `${AUTH_LIMIT}/60` },
    });
    origin = t.config.publicOrigin;
  });
  afterAll(() => t.close());

  /** A wrong sign-in from `client`, each for a new email so no per-account backoff starts. */
  const signIn = (client: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/session',
      remoteAddress: client,
      headers: { origin },
      payload: { email: `nobody-${randomUUID()}@example.org`, password: 'not the password' },
    });
  const mfaStep = (client: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/mfa',
      remoteAddress: client,
      headers: { origin },
      payload: { code: '000000' },
    });

  it('R1/A3 password guessing: one client gets exactly the auth limit of sign-ins per window, then 429 with Retry-After; another client is unaffected', async () => {
    expect(t.config.rateLimits.auth.max).toBe(AUTH_LIMIT);
    for (const [name, rule] of Object.entries(t.config.rateLimits)) {
      if (name !== 'auth') expect(rule.max, name).toBeGreaterThan(100 * AUTH_LIMIT);
    }
    const guesser = '198.51.100.7';
    const answers = [];
    for (let attempt = 0; attempt <= AUTH_LIMIT; attempt++) answers.push(await signIn(guesser));
    expect(answers.map((a) => a.statusCode)).toEqual([...Array(AUTH_LIMIT).fill(401), 429]);
    const refused = answers[AUTH_LIMIT]!;
    expect(refused.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(answers[0]!.headers['x-ratelimit-limit']).toBe(String(AUTH_LIMIT));
    expect((await signIn('198.51.100.8')).statusCode).toBe(401);
  });

  it('R1/A3: sign-in and the MFA step share one auth budget, so guesses cannot alternate between them', async () => {
    const guesser = '198.51.100.9';
    expect((await signIn(guesser)).statusCode).toBe(401);
    expect((await mfaStep(guesser)).statusCode).toBe(401);
    expect((await signIn(guesser)).statusCode).toBe(401);
    expect((await mfaStep(guesser)).statusCode).toBe(401);
    expect((await signIn(guesser)).statusCode).toBe(429);
  });

  it('R1: the route table shows sign-in in the auth class', () => {
    const row = t.app.routeTable.find((r) => r.method === 'POST' && r.path === '/api/auth/session');
    expect(row?.rateClass).toBe('auth');
  });
});
