// R1 for refused requests: the limiter runs before access control, so requests that
// authentication or authorization will refuse are counted like any other, and once a client
// is over its limit its credentials are not even looked at (verifying a token costs more
// than counting). CORS headers are already set on that 429, so an allowed origin can read it.
import type { FastifyRequest, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Authenticator } from '../../src/platform/auth/principal.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import { probeRoutes } from '../fixtures/probe-routes.js';
import { createHarnessAuthenticator, signPersonToken } from '../tokens.js';

const ALLOWED_ORIGIN = 'https://partner.example';

describeEachEngine('rate limiting before access control', (engine) => {
  let t: TestApp;
  /** How often the authenticator was asked, per client address. */
  const calls = new Map<string, number>();
  const harness = createHarnessAuthenticator();
  const counting: Authenticator = {
    authenticate(request: FastifyRequest) {
      calls.set(request.ip, (calls.get(request.ip) ?? 0) + 1);
      return harness.authenticate(request);
    },
  };

  beforeAll(async () => {
    t = await createTestApp(engine, {
      env: {
        HAVEN_RATE_READ: '3/60',
        HAVEN_RATE_SENSITIVE: '2/60',
        HAVEN_CORS_ORIGINS: ALLOWED_ORIGIN,
      },
      build: { modules: [probeRoutes], authenticator: counting },
    });
  });
  afterAll(() => t?.close());

  const hammer = async (
    remoteAddress: string,
    count: number,
    request: { method?: 'GET' | 'POST'; url?: string; headers?: Record<string, string> } = {},
  ): Promise<LightMyRequestResponse[]> => {
    const responses: LightMyRequestResponse[] = [];
    for (let i = 0; i < count; i++) {
      responses.push(
        await t.app.inject({
          method: request.method ?? 'GET',
          url: request.url ?? '/api/test/patients',
          remoteAddress,
          headers: request.headers ?? {},
          ...(request.method === 'POST' ? { payload: {} } : {}),
        }),
      );
    }
    return responses;
  };
  const expectRateLimited = (response: LightMyRequestResponse | undefined): void => {
    expect(response?.statusCode).toBe(429);
    expect(response?.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    const retryAfter = Number(response?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  };

  it('R1/unauthenticated flood: requests without credentials count toward the route class; past it 429, and the authenticator is not called', async () => {
    const ip = '192.0.2.101';
    const responses = await hammer(ip, 6);
    expect(responses.map((r) => r.statusCode)).toEqual([401, 401, 401, 429, 429, 429]);
    expect(responses[0]?.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    expectRateLimited(responses[3]);
    expect(calls.get(ip)).toBe(3);
  });

  it('R1/forbidden flood: a token without the scope is counted too; past the limit 429 before it is verified', async () => {
    const ip = '192.0.2.102';
    const token = await signPersonToken({ scope: 'notes:read' });
    const responses = await hammer(ip, 5, { headers: { authorization: `Bearer ${token}` } });
    expect(responses.map((r) => r.statusCode)).toEqual([403, 403, 403, 429, 429]);
    expect(responses[0]?.json()).toMatchObject({ code: 'FORBIDDEN' });
    expectRateLimited(responses[4]);
    expect(calls.get(ip)).toBe(3);
  });

  it('R1/forged tokens: a flood of bad signatures stops costing verifications at the limit', async () => {
    const ip = '192.0.2.103';
    const token = await signPersonToken({ scope: 'patients:read' });
    const forged = `${token.slice(0, -4)}AAAA`;
    const responses = await hammer(ip, 5, { headers: { authorization: `Bearer ${forged}` } });
    expect(responses.map((r) => r.statusCode)).toEqual([401, 401, 401, 429, 429]);
    expect(calls.get(ip)).toBe(3);
  });

  it('R1/step-up probing: a sensitive route refused for a stale MFA is counted in its own strict class', async () => {
    const ip = '192.0.2.104';
    const token = await signPersonToken({ scope: 'users:manage' }); // no MFA at all
    const responses = await hammer(ip, 3, {
      method: 'POST',
      url: '/api/test/roles',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(responses.map((r) => r.statusCode)).toEqual([403, 403, 429]);
    expect(responses[0]?.json()).toMatchObject({ code: 'STEP_UP_REQUIRED' });
    expect(calls.get(ip)).toBe(2);
  });

  it('R1+T5: the 429 for a refused request carries CORS headers for an allowed origin, none for another', async () => {
    const ip = '192.0.2.105';
    const responses = await hammer(ip, 4, { headers: { origin: ALLOWED_ORIGIN } });
    const limited = responses[3];
    expectRateLimited(limited);
    expect(limited?.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(limited?.headers['access-control-allow-credentials']).toBe('true');
    const other = await hammer(ip, 1, { headers: { origin: 'https://attacker.example' } });
    expectRateLimited(other[0]);
    expect(other[0]?.headers['access-control-allow-origin']).toBeUndefined();
    expect(calls.get(ip)).toBe(3);
  });

  it('R1: a caller with a valid token shares the per-address budget, so refusals and successes add up', async () => {
    const ip = '192.0.2.106';
    const good = await signPersonToken({ scope: 'patients:read' });
    const first = await hammer(ip, 2);
    const then = await hammer(ip, 2, { headers: { authorization: `Bearer ${good}` } });
    expect([...first, ...then].map((r) => r.statusCode)).toEqual([401, 401, 200, 429]);
  });
});
