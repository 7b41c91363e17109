// Platform controls a seventh mutation hunt found no test for (V1): the depth scan that refuses
// deeply nested JSON before it is parsed must read strings as JSON does. An escaped quote (\")
// does not end a string: a scan that took it for the end would read the rest of the body from
// the wrong side of every quote, and nesting written after it would never be counted.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import { probeRoutes } from '../fixtures/probe-routes.js';

describeEachEngine('platform controls (round 7)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine, { build: { modules: [probeRoutes] } });
  });
  afterAll(() => t.close());

  const echo = (payload: string): Promise<LightMyRequestResponse> =>
    t.app.inject({
      method: 'POST',
      url: '/api/test/echo',
      payload,
      headers: { 'content-type': 'application/json' },
    });

  it('V1 — deep nesting after an escaped quote in a string is still refused before parsing (no depth-limit bypass)', async () => {
    const deep = `${'['.repeat(1000)}${']'.repeat(1000)}`;
    // The same nesting, with and without strings holding escaped quotes before it.
    for (const body of [
      `{"name":"a","x":${deep}}`,
      `{"name":"a\\"","x":${deep}}`,
      `{"name":"\\"\\\\\\"","x":${deep}}`,
    ]) {
      // The body is valid JSON: only its depth is wrong.
      expect(() => JSON.parse(body) as unknown).not.toThrow();
      const response = await echo(body);
      expect(response.statusCode, body.slice(0, 40)).toBe(400);
      expect(response.json<{ code: string }>().code, body.slice(0, 40)).toBe('JSON_TOO_DEEP');
    }
    // Escaped quotes and backslashes in a shallow body are fine.
    const shallow = await echo(JSON.stringify({ name: 'a"\\"b' }));
    expect(shallow.statusCode, shallow.body).toBe(200);
    expect(shallow.json<{ name: string }>().name).toBe('a"\\"b');
  });
});
