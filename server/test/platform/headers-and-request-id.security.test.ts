// T2 / T3: the security header set is on EVERY response (success, 404, 405, 400 and
// framework-level refusals). L1 / V4: request ids are accepted only when well-formed and
// are carried into problem bodies.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';

const SECURITY_HEADER_NAMES = [
  'content-security-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-frame-options',
  'referrer-policy',
  'permissions-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'x-permitted-cross-domain-policies',
  'cache-control',
] as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function expectSecurityHeaders(response: LightMyRequestResponse, label: string): void {
  const h = response.headers;
  // T2: HSTS ≥ 1 year with includeSubDomains
  const hsts = String(h['strict-transport-security'] ?? '');
  const maxAge = Number(/max-age=(\d+)/.exec(hsts)?.[1] ?? 0);
  expect(maxAge, `${label}: HSTS max-age`).toBeGreaterThanOrEqual(31_536_000);
  expect(hsts, `${label}: HSTS`).toMatch(/includeSubDomains/i);
  // T3: strict CSP
  const csp = String(h['content-security-policy'] ?? '');
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name, values] as const),
  );
  expect(directives.get('default-src'), `${label}: default-src`).toEqual(["'self'"]);
  expect(directives.get('script-src'), `${label}: script-src`).toEqual(["'self'"]);
  expect(csp, `${label}: no inline script`).not.toMatch(/unsafe-inline|unsafe-eval/);
  expect(directives.get('object-src'), `${label}: object-src`).toEqual(["'none'"]);
  expect(directives.get('frame-ancestors'), `${label}: frame-ancestors`).toEqual(["'none'"]);
  expect(directives.get('base-uri'), `${label}: base-uri`).toEqual(["'none'"]);
  expect(h['x-content-type-options'], `${label}: nosniff`).toBe('nosniff');
  expect(h['x-frame-options'], `${label}: XFO`).toBe('DENY');
  expect(h['referrer-policy'], `${label}: Referrer-Policy`).toBe('no-referrer');
  expect(String(h['permissions-policy'] ?? ''), `${label}: Permissions-Policy`).toMatch(
    /camera=\(\).*geolocation=\(\).*microphone=\(\)/,
  );
  expect(h['cross-origin-opener-policy'], `${label}: COOP`).toBe('same-origin');
  expect(h['cross-origin-resource-policy'], `${label}: CORP`).toBe('same-origin');
  expect(h['cache-control'], `${label}: Cache-Control`).toBe('no-store');
  expect(String(h['x-request-id'] ?? ''), `${label}: x-request-id`).not.toBe('');
}

function expectProblem(response: LightMyRequestResponse, status: number, code: string): void {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json<{ code: string; requestId: string; status: number }>();
  expect(body.code).toBe(code);
  expect(body.status).toBe(status);
  expect(body.requestId).toBe(response.headers['x-request-id']);
  // never a stack trace or framework internals
  expect(response.body).not.toMatch(/FST_ERR|at .*\.js:\d+|"stack"/);
}

describeEachEngine('security headers and request ids', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    // Behind a trusted proxy (app.inject's peer is 127.0.0.1), as a deployment that keeps the
    // proxy's request ids is.
    t = await createTestApp(engine, { env: { HAVEN_TRUSTED_PROXIES: '127.0.0.1' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('T2+T3/downgrade, XSS, framing, sniffing, caching: a 200 carries the full header set', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expectSecurityHeaders(response, '200 /healthz');
  });

  it('T3/headers on errors: a 404 problem (not-found handler and SPA fallback) carries them', async () => {
    const notFound = await t.app.inject({ method: 'DELETE', url: '/api/nothing-here' });
    expectProblem(notFound, 404, 'NOT_FOUND');
    expectSecurityHeaders(notFound, '404 DELETE');
    const apiGet = await t.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expectProblem(apiGet, 404, 'NOT_FOUND');
    expectSecurityHeaders(apiGet, '404 GET');
  });

  it('T3/headers on errors: a 405 problem carries them', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/healthz', payload: {} });
    expectProblem(response, 405, 'METHOD_NOT_ALLOWED');
    expect(response.headers.allow).toMatch(/GET/);
    expectSecurityHeaders(response, '405');
  });

  it('T3/headers on errors: a 400 from the body parser carries them', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/nothing-here',
      headers: { 'content-type': 'application/json' },
      payload: '{"broken":',
    });
    expectProblem(response, 400, 'INVALID_JSON');
    expectSecurityHeaders(response, '400 INVALID_JSON');
  });

  it('T3/headers on errors: a 400 from the path guard (NUL byte) carries them', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/files/%00.txt' });
    expectProblem(response, 400, 'PATH_INVALID');
    expectSecurityHeaders(response, '400 PATH_INVALID');
  });

  it('T3+V4/framework refusal: a malformed percent-encoding is a problem with headers, not raw framework JSON', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/%zz<script>' });
    expectProblem(response, 400, 'PATH_INVALID');
    expectSecurityHeaders(response, '400 bad URL');
    expect(response.body).not.toContain('<script>');
    // the fallback set must not drift from what helmet sends on routed responses
    const routed = await t.app.inject({ method: 'GET', url: '/healthz' });
    for (const name of SECURITY_HEADER_NAMES) {
      expect(response.headers[name], name).toBe(routed.headers[name]);
    }
  });

  it('L1/trace joining: a well-formed incoming X-Request-Id is echoed and used in problems', async () => {
    const id = 'proxy-trace.0001:abcdef';
    const ok = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': id },
    });
    expect(ok.headers['x-request-id']).toBe(id);
    const problem = await t.app.inject({
      method: 'DELETE',
      url: '/api/nothing-here',
      headers: { 'x-request-id': id },
    });
    expect(problem.headers['x-request-id']).toBe(id);
    expect(problem.json<{ requestId: string }>().requestId).toBe(id);
  });

  it('L1/L3 forged request id: a caller not behind a trusted proxy cannot choose the id its log lines and audit events carry', async () => {
    const direct = await createTestApp(engine);
    try {
      const id = 'victim-request-0001';
      const response = await direct.app.inject({
        method: 'POST',
        url: '/api/auth/session',
        headers: { 'x-request-id': id, origin: direct.config.publicOrigin },
        payload: { email: 'nobody@example.org', password: 'not the password at all' },
      });
      expect(response.headers['x-request-id']).not.toBe(id);
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const events = await direct.database.db
        .selectFrom('audit_events')
        .select('request_id')
        .where('request_id', '=', id)
        .execute();
      expect(events).toEqual([]);
      // The refused sign-in is audited, under the id Haven gave it.
      const own = await direct.database.db
        .selectFrom('audit_events')
        .select('action')
        .where('request_id', '=', String(response.headers['x-request-id']))
        .execute();
      expect(own.length).toBeGreaterThan(0);
    } finally {
      await direct.close();
    }
  });

  it('L1/log and header injection: a malformed X-Request-Id is replaced by a UUID, never echoed', async () => {
    const hostile = [
      'has spaces in it',
      '"quoted-request-id"',
      'a'.repeat(300),
      'abc%0d%0aSet-Cookie:%20session=x',
      'short',
      '-leading-dash-123',
      '<script>alert(1)</script>',
      'id\u00e9-non-ascii-123',
    ];
    for (const value of hostile) {
      const response = await t.app.inject({
        method: 'DELETE',
        url: '/api/nothing-here',
        headers: { 'x-request-id': value },
      });
      const echoed = String(response.headers['x-request-id']);
      expect(echoed, value).toMatch(UUID);
      expect(response.json<{ requestId: string }>().requestId, value).toBe(echoed);
      expect(response.body, value).not.toContain(value);
      expect(JSON.stringify(response.headers), value).not.toContain(value);
    }
  });

  it('L1/uniqueness: requests without an id get distinct generated UUIDs', async () => {
    const a = await t.app.inject({ method: 'GET', url: '/healthz' });
    const b = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(a.headers['x-request-id']).toMatch(UUID);
    expect(b.headers['x-request-id']).toMatch(UUID);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });
});
