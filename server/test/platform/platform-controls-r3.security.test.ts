// Platform controls whose removal no test noticed (round 3): the URL length cap (T4), the strict
// budget of requests that name no rate subject (R1), a fresh IV for every sealed value (S2), and
// the production rules that refuse the embedded database, a weak previous master key (S1) and
// metrics on the public port (L4).
import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createKeyRing } from '../../src/platform/crypto.js';
import { GENEROUS_RATE_LIMITS } from '../actors.js';
import {
  configProblems,
  productionEnv,
  strongKey,
  useScratchDir,
  type Env,
} from '../config-env.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';

function expectProblem(response: LightMyRequestResponse, status: number, code: string): void {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ code, status });
}

describeEachEngine('platform controls (round 3)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine, {
      env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_AUTH: '2/60', HAVEN_RATE_REFRESH: '1000/60' },
    });
  });
  afterAll(() => t.close());

  it('T4/url-length: a URL over 4096 characters is refused before routing; one at the cap is routed', async () => {
    const target = (length: number) => {
      const base = '/api/auth/me?pad=';
      return `${base}${'a'.repeat(length - base.length)}`;
    };
    const refused = await t.app.inject({ method: 'GET', url: target(4097) });
    expectProblem(refused, 400, 'PATH_INVALID');
    expect(refused.json<{ detail?: string }>().detail).toMatch(/too long/);
    // The same request at exactly the cap reaches the route (which wants a token: 401).
    const routed = await t.app.inject({ method: 'GET', url: target(4096) });
    expectProblem(routed, 401, 'UNAUTHENTICATED');
  });

  it('R1/unidentified-subject-strict: refreshes naming no session are counted per address at the strict auth limit', async () => {
    const refreshFrom = async (remoteAddress: string, cookie?: string) =>
      (
        await t.app.inject({
          method: 'POST',
          url: '/api/auth/refresh',
          remoteAddress,
          headers: {
            origin: t.config.publicOrigin,
            'content-type': 'application/json',
            ...(cookie === undefined ? {} : { cookie }),
          },
          payload: '{}',
        })
      ).statusCode;
    // The refresh class allows 1000 a minute; without a session the auth limit (2) applies.
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push(await refreshFrom('198.51.100.7'));
    expect(statuses.slice(0, 2)).not.toContain(429);
    expect(statuses[2]).toBe(429);
    // A made-up cookie is no session either: the same address stays refused.
    expect(await refreshFrom('198.51.100.7', 'haven_refresh=made-up')).toBe(429);
    // Another address has its own budget.
    expect(await refreshFrom('198.51.100.8')).not.toBe(429);
  });
});

describe('S2/random-iv: every sealed value has its own IV', () => {
  it('S2/random-iv: sealing the same value twice gives different IVs and ciphertexts, and both open', () => {
    const ring = createKeyRing(randomBytes(32));
    const sealed = Array.from({ length: 8 }, () => ring.seal('JBSWY3DPEHPK3PXP', 'totp:user-1'));
    const ivs = sealed.map((value) => value.split('.')[2]);
    const bodies = sealed.map((value) => value.split('.')[3]);
    expect(new Set(ivs).size).toBe(sealed.length);
    expect(new Set(bodies).size).toBe(sealed.length);
    for (const iv of ivs) {
      const bytes = Buffer.from(iv!, 'base64url');
      expect(bytes).toHaveLength(12);
      expect(bytes.equals(Buffer.alloc(12))).toBe(false);
    }
    for (const value of sealed) {
      expect(ring.open(value, 'totp:user-1').toString()).toBe('JBSWY3DPEHPK3PXP');
    }
  });
});

describe('configuration rules (round 3)', () => {
  const scratch = useScratchDir('haven-config-r3-');
  const load = (env: Env) => loadConfig(env, { cwd: scratch() });
  const problemsOf = (env: Env): string => configProblems(env, scratch()).join('\n');

  it('S1/database-required: production without DATABASE_URL is refused instead of running on the embedded database', () => {
    expect(() => load(productionEnv())).not.toThrow();
    expect(problemsOf(productionEnv({ DATABASE_URL: undefined }))).toMatch(
      /DATABASE_URL: production needs PostgreSQL/,
    );
    expect(problemsOf(productionEnv({ DATABASE_URL: '' }))).toMatch(/DATABASE_URL/);
  });

  it('S1/previous-key-weak: a default or typed previous master key is refused in production; a strong one loads', () => {
    const zero = Buffer.alloc(32).toString('base64');
    const typed = Buffer.from('abcd'.repeat(8)).toString('base64');
    for (const weak of [zero, typed]) {
      expect(problemsOf(productionEnv({ HAVEN_MASTER_KEY_PREVIOUS: weak }))).toMatch(
        /HAVEN_MASTER_KEY_PREVIOUS: is a default or weak value/,
      );
    }
    const previous = strongKey();
    const config = load(productionEnv({ HAVEN_MASTER_KEY_PREVIOUS: previous }));
    expect(config.previousMasterKey?.toString('base64')).toBe(previous);
  });

  it('L4/metrics-port-distinct: a metrics port equal to the public port is refused, in every mode', () => {
    expect(problemsOf(productionEnv({ PORT: '9464', HAVEN_METRICS_PORT: '9464' }))).toMatch(
      /HAVEN_METRICS_PORT must differ from PORT/,
    );
    // The default public port (8080) too, and outside production as well.
    const test: Env = {
      HAVEN_ENV: 'test',
      HAVEN_MASTER_KEY: strongKey(),
      HAVEN_DATA_DIR: scratch(),
    };
    expect(problemsOf({ ...test, HAVEN_METRICS_PORT: '8080' })).toMatch(
      /HAVEN_METRICS_PORT must differ from PORT/,
    );
    expect(() => load({ ...test, PORT: '8080', HAVEN_METRICS_PORT: '9464' })).not.toThrow();
  });
});
