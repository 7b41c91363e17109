// T5: CORS is an exact-origin allowlist; credentials are never paired with '*'; preflights
// are validated against method and header allowlists; other origins get no CORS headers.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app-harness.js';

const ALLOWED = 'https://app.example';

function corsHeaders(response: LightMyRequestResponse): string[] {
  return Object.keys(response.headers).filter((name) => name.startsWith('access-control-'));
}

function expectCorsRejected(response: LightMyRequestResponse): void {
  expect(response.statusCode).toBe(403);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json<{ code: string }>().code).toBe('CORS_REJECTED');
  expect(corsHeaders(response)).toEqual([]);
}

function preflight(
  origin: string | undefined,
  method: string | undefined,
  headers?: string,
): Record<string, string> {
  const result: Record<string, string> = {};
  if (origin !== undefined) result.origin = origin;
  if (method !== undefined) result['access-control-request-method'] = method;
  if (headers !== undefined) result['access-control-request-headers'] = headers;
  return result;
}

describe('CORS', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite', { env: { HAVEN_CORS_ORIGINS: ALLOWED } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('T5/credentialed read: the listed origin gets exactly its origin back, with credentials and Vary', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: ALLOWED },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-allow-origin']).not.toBe('*');
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    expect(String(response.headers.vary)).toMatch(/\bOrigin\b/i);
  });

  it('T5/cross-origin read: an unlisted origin gets no CORS headers at all', async () => {
    for (const origin of [
      'https://evil.example',
      'https://app.example.evil.example',
      'http://app.example', // scheme downgrade
      'https://app.example:8443', // other port
      'https://APP.example', // not the exact string
      'null', // sandboxed iframes and file:// pages
    ]) {
      const response = await t.app.inject({ method: 'GET', url: '/healthz', headers: { origin } });
      expect(response.statusCode, origin).toBe(200);
      expect(corsHeaders(response), origin).toEqual([]);
    }
  });

  it('T5/cross-origin read: errors to an unlisted origin carry no CORS headers either', async () => {
    const response = await t.app.inject({
      method: 'DELETE',
      url: '/api/nothing-here',
      headers: { origin: 'https://evil.example' },
    });
    expect(response.statusCode).toBe(404);
    expect(corsHeaders(response)).toEqual([]);
  });

  it('T5/preflight: a valid preflight from the listed origin is answered 204 with the allowlists', async () => {
    const response = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/things',
      headers: preflight(ALLOWED, 'POST', 'content-type, x-csrf-token'),
    });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    const methods = String(response.headers['access-control-allow-methods']).split(/,\s*/);
    expect(methods).toContain('POST');
    expect(methods).not.toContain('*');
    const headers = String(response.headers['access-control-allow-headers']).split(/,\s*/);
    expect(headers).toEqual(expect.arrayContaining(['content-type', 'x-csrf-token']));
    expect(headers).not.toContain('*');
    expect(Number(response.headers['access-control-max-age'])).toBeGreaterThan(0);
  });

  it('T5/preflight: header names are matched case-insensitively, still against the allowlist', async () => {
    const response = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/things',
      headers: preflight(ALLOWED, 'PUT', 'Content-Type,X-CSRF-Token'),
    });
    expect(response.statusCode).toBe(204);
  });

  it('T5/preflight from an attacker origin: refused 403 CORS_REJECTED without ACAO', async () => {
    const response = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/things',
      headers: preflight('https://evil.example', 'POST', 'content-type'),
    });
    expectCorsRejected(response);
  });

  it('T5/method smuggling: a preflight for a method outside the allowlist is refused', async () => {
    for (const method of ['PROPFIND', 'TRACE', 'CONNECT', 'patch']) {
      const response = await t.app.inject({
        method: 'OPTIONS',
        url: '/api/things',
        headers: preflight(ALLOWED, method),
      });
      expectCorsRejected(response);
    }
  });

  it('T5/header smuggling: a preflight asking for a header outside the allowlist is refused', async () => {
    for (const headers of ['x-evil', 'content-type, x-evil', 'cookie', '*']) {
      const response = await t.app.inject({
        method: 'OPTIONS',
        url: '/api/things',
        headers: preflight(ALLOWED, 'POST', headers),
      });
      expectCorsRejected(response);
    }
  });

  it('T5/not a preflight: OPTIONS without the preflight headers is refused', async () => {
    const bare = await t.app.inject({ method: 'OPTIONS', url: '/api/things' });
    expectCorsRejected(bare);
    const originOnly = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/things',
      headers: preflight(ALLOWED, undefined),
    });
    expect(originOnly.statusCode).toBe(403);
    expect(originOnly.json<{ code: string }>().code).toBe('CORS_REJECTED');
    const methodOnly = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/things',
      headers: preflight(undefined, 'GET'),
    });
    expectCorsRejected(methodOnly);
  });
});

describe('CORS with no origins configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('T5/same-origin only by default: no origin is reflected and every preflight is refused', async () => {
    const read = await t.app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: ALLOWED },
    });
    expect(corsHeaders(read)).toEqual([]);
    const response = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/things',
      headers: preflight(ALLOWED, 'GET'),
    });
    expectCorsRejected(response);
  });
});
