// T1: in production, plain-HTTP requests are redirected to the configured https public URL
// (never to a client-controlled host), unsafe methods over HTTP are refused, forwarded
// headers count only from a trusted proxy, and health probes stay reachable.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { PUBLIC } from '../../src/platform/http/route-contract.js';
import { createTestApp, testEnv } from '../app-harness.js';
import { createTestDatabase } from '../databases.js';

const PUBLIC_URL = 'https://haven.example';
const UNTRUSTED_PEER = '203.0.113.7';

const PRODUCTION_ENV = {
  HAVEN_ENV: 'production',
  HAVEN_PUBLIC_URL: PUBLIC_URL,
  // Satisfies the production check only: the harness passes its own database to buildApp.
  DATABASE_URL: 'postgres://haven@db.invalid:5432/haven',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  HAVEN_SMTP_URL: 'smtp://mail.invalid:587',
  HAVEN_TRUSTED_PROXIES: '127.0.0.1',
  // Generous limits with a 1 s window: a shared Redis must not make this file flaky.
  HAVEN_RATE_PUBLIC: '100000/1',
  HAVEN_RATE_READ: '100000/1',
  HAVEN_RATE_WRITE: '100000/1',
};

let handled = 0;
async function testRoutes(app: FastifyInstance): Promise<void> {
  const ok = Type.Object({ ok: Type.Boolean() }, { additionalProperties: false });
  app.get(
    '/api/test/x',
    { config: { access: PUBLIC, rateClass: 'read' }, schema: { response: { 200: ok } } },
    async () => {
      handled += 1;
      return { ok: true };
    },
  );
  app.post(
    '/api/test/echo',
    {
      config: { access: PUBLIC, rateClass: 'write' },
      schema: {
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: ok },
      },
    },
    async () => {
      handled += 1;
      return { ok: true };
    },
  );
}

/**
 * A production app. With REDIS_URL set (CI) it is built by the harness exactly as main.ts
 * would; without it, from the same production config minus the Redis URL, because buildApp
 * connects eagerly and the limiter fails closed without its store.
 */
async function productionApp(): Promise<{ app: FastifyInstance; close: () => Promise<void> }> {
  if (process.env.REDIS_URL) {
    const t = await createTestApp('pglite', {
      env: PRODUCTION_ENV,
      build: { modules: [testRoutes] },
    });
    return { app: t.app, close: () => t.close() };
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-https-'));
  const loaded = loadConfig(testEnv({ ...PRODUCTION_ENV, HAVEN_DATA_DIR: dataDir }));
  expect(loaded.env).toBe('production');
  const config = Object.freeze({ ...loaded, redisUrl: undefined });
  const database = await createTestDatabase('pglite');
  const app = await buildApp(config, { database, modules: [testRoutes] });
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('HTTPS only in production', () => {
  let app: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await productionApp());
  });
  afterAll(async () => {
    await close?.();
  });

  it('T1/plain HTTP: a GET via the trusted proxy over http is redirected 308 to the https URL', async () => {
    const before = handled;
    const response = await app.inject({
      method: 'GET',
      url: '/api/test/x?page=2',
      headers: { 'x-forwarded-proto': 'http' },
    });
    expect(response.statusCode).toBe(308);
    expect(response.headers.location).toBe(`${PUBLIC_URL}/api/test/x?page=2`);
    expect(handled).toBe(before); // the handler never ran over plain HTTP
    // T2: the redirect itself carries HSTS so the browser upgrades by itself next time
    expect(response.headers['strict-transport-security']).toMatch(/max-age=\d{8}/);
  });

  it('T1/plain HTTP: a direct connection without forwarded headers is redirected too', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/x' });
    expect(response.statusCode).toBe(308);
    expect(response.headers.location).toBe(`${PUBLIC_URL}/api/test/x`);
  });

  it('T1/open redirect: a protocol-relative path or a forged Host never leaves our origin', async () => {
    for (const url of ['//evil.example/x', '///evil.example/x', '/@evil.example/x']) {
      const response = await app.inject({
        method: 'GET',
        url,
        headers: {
          'x-forwarded-proto': 'http',
          host: 'evil.example',
          'x-forwarded-host': 'evil.example',
        },
      });
      expect(response.statusCode, url).toBe(308);
      const location = String(response.headers.location);
      expect(location.startsWith(`${PUBLIC_URL}/`), location).toBe(true);
      expect(new URL(location).origin, location).toBe(PUBLIC_URL);
      expect(new URL(location).host, location).toBe('haven.example');
    }
  });

  it('T1/credentials over HTTP: a POST over plain http is refused 403 HTTPS_REQUIRED, not redirected', async () => {
    const before = handled;
    const response = await app.inject({
      method: 'POST',
      url: '/api/test/echo',
      headers: { 'x-forwarded-proto': 'http' },
      payload: {},
    });
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json<{ code: string }>().code).toBe('HTTPS_REQUIRED');
    expect(response.headers.location).toBeUndefined();
    expect(handled).toBe(before);
  });

  it('T1/TLS at the proxy: with X-Forwarded-Proto https from the trusted proxy, requests are served', async () => {
    const before = handled;
    const get = await app.inject({
      method: 'GET',
      url: '/api/test/x',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual({ ok: true });
    const post = await app.inject({
      method: 'POST',
      url: '/api/test/echo',
      headers: { 'x-forwarded-proto': 'https' },
      payload: {},
    });
    expect(post.statusCode).toBe(200);
    expect(handled).toBe(before + 2);
  });

  it('T1/forwarded-header spoofing: X-Forwarded-Proto https from an untrusted peer is ignored', async () => {
    const get = await app.inject({
      method: 'GET',
      url: '/api/test/x',
      remoteAddress: UNTRUSTED_PEER,
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(get.statusCode).toBe(308);
    const post = await app.inject({
      method: 'POST',
      url: '/api/test/echo',
      remoteAddress: UNTRUSTED_PEER,
      headers: { 'x-forwarded-proto': 'https' },
      payload: {},
    });
    expect(post.statusCode).toBe(403);
    expect(post.json<{ code: string }>().code).toBe('HTTPS_REQUIRED');
  });

  it('T1/probes: /healthz and /readyz stay reachable over plain http', async () => {
    const health = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-forwarded-proto': 'http' },
    });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    // …but only the exact probe paths: a look-alike is still redirected
    const lookalike = await app.inject({ method: 'GET', url: '/healthz/../api/test/x' });
    expect([308, 400]).toContain(lookalike.statusCode);
    const prefixed = await app.inject({ method: 'GET', url: '/healthzx' });
    expect(prefixed.statusCode).toBe(308);
  });
});
