// Bad input (T4, V1, V4): every malformed request gets a 4xx problem+json that names the
// problem; nothing reaches a handler unchecked and nothing internal leaks out.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import { INTERNAL_SECRET_MESSAGE, probeRoutes } from '../fixtures/probe-routes.js';

function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): Record<string, unknown> {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = response.json<Record<string, unknown>>();
  expect(problem.code).toBe(code);
  expect(problem.status).toBe(status);
  expect(problem.requestId).toBe(response.headers['x-request-id']);
  expect(JSON.stringify(problem)).not.toMatch(/at .*\.(ts|js):\d+|node_modules|Error:/);
  return problem;
}

/** Sends bytes exactly as given (inject normalises paths; a real socket does not). */
function rawRequest(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describeEachEngine('bad input', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine, { build: { modules: [probeRoutes] } });
  });
  afterAll(() => t.close());

  const echo = (payload: string | Buffer, contentType = 'application/json') =>
    t.app.inject({
      method: 'POST',
      url: '/api/test/echo',
      payload,
      headers: { 'content-type': contentType },
    });

  it('V1: a valid body passes and only declared response fields leave the server (V3)', async () => {
    const response = await echo(JSON.stringify({ name: 'ok', count: 2 }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ name: 'ok', count: 2 });
  });

  it('V1/mass assignment: unknown properties are rejected, naming the field', async () => {
    const problem = expectProblem(
      await echo(JSON.stringify({ name: 'a', isAdmin: true })),
      400,
      'VALIDATION_FAILED',
    );
    expect(problem.errors).toEqual([
      {
        field: 'body.isAdmin',
        code: 'unknown_property',
        message: 'This field is not accepted here.',
      },
    ]);
  });

  it('V1: wrong types, overlong strings, too many items and bad formats name the field', async () => {
    const cases: Array<[object, string]> = [
      [{ name: 5 }, 'body.name'],
      [{ name: 'x'.repeat(21) }, 'body.name'],
      [{ name: 'a', tags: ['1', '2', '3', '4'] }, 'body.tags'],
      [{ name: 'a', email: 'not-an-email' }, 'body.email'],
      [{ name: 'a', count: '3' }, 'body.count'],
      [{}, 'body.name'],
    ];
    for (const [body, field] of cases) {
      const problem = expectProblem(await echo(JSON.stringify(body)), 400, 'VALIDATION_FAILED');
      expect((problem.errors as Array<{ field: string }>)[0]?.field).toBe(field);
    }
  });

  it('V1: each schema refusal is a sentence with a machine code, never the schema’s own text', async () => {
    const cases: Array<[object, Record<string, unknown>]> = [
      [{ name: 5 }, { code: 'type', expected: 'string', message: 'Enter text here.' }],
      [
        { name: 'x'.repeat(21) },
        { code: 'too_long', limit: 20, message: 'Use at most 20 characters.' },
      ],
      [
        { name: 'a', tags: ['1', '2', '3', '4'] },
        { code: 'too_many', limit: 3, message: 'Keep it to at most 3 entries.' },
      ],
      [
        { name: 'a', email: 'a@b' },
        {
          code: 'format',
          format: 'email',
          message: 'Enter an email address like name@example.org.',
        },
      ],
      [
        { name: 'a', count: '3' },
        { code: 'type', expected: 'integer', message: 'Enter a whole number.' },
      ],
      [{}, { field: 'body.name', code: 'required', message: 'This field is required.' }],
    ];
    for (const [body, expected] of cases) {
      const problem = expectProblem(await echo(JSON.stringify(body)), 400, 'VALIDATION_FAILED');
      const [error] = problem.errors as Array<Record<string, unknown>>;
      expect(error).toMatchObject(expected);
      expect(JSON.stringify(problem)).not.toMatch(/must (NOT |match|be|have)|format "/);
    }
  });

  it('V1: path parameters are validated (uuid format)', async () => {
    expectProblem(
      await t.app.inject({ url: '/api/test/items/not-a-uuid' }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('T4: a body over the route limit answers 413', async () => {
    expectProblem(await echo(JSON.stringify({ name: 'x'.repeat(5000) })), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('V1: a wrong content type answers 415', async () => {
    expectProblem(
      await echo('name=a', 'application/x-www-form-urlencoded'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectProblem(await echo('<a/>', 'text/xml'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('V1: invalid UTF-8 is refused, not silently replaced', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"name":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    expectProblem(await echo(bytes), 400, 'INVALID_UTF8');
  });

  it('V1/DoS: deeply nested JSON is refused before parsing', async () => {
    const deep = `${'['.repeat(1000)}${']'.repeat(1000)}`;
    expectProblem(await echo(`{"name":"a","x":${deep}}`), 400, 'JSON_TOO_DEEP');
  });

  it('V1: malformed and empty JSON answer 400 INVALID_JSON', async () => {
    expectProblem(await echo('{"name":'), 400, 'INVALID_JSON');
    expectProblem(await echo(''), 400, 'INVALID_JSON');
  });

  it('V1/prototype pollution: __proto__ and constructor keys are refused', async () => {
    expectProblem(await echo('{"name":"a","__proto__":{"isAdmin":true}}'), 400, 'INVALID_JSON');
    expectProblem(
      await echo('{"name":"a","constructor":{"prototype":{"x":1}}}'),
      400,
      'INVALID_JSON',
    );
  });

  it('V1: a query number that coerces to Infinity (1e999, Infinity) is refused, not passed on', async () => {
    for (const limit of ['1e999', 'Infinity', '-Infinity']) {
      const response = await t.app.inject({ method: 'GET', url: `/api/test/page?limit=${limit}` });
      const problem = expectProblem(response, 400, 'VALIDATION_FAILED');
      expect(JSON.stringify(problem.errors)).toContain('limit');
    }
    const fine = await t.app.inject({ method: 'GET', url: '/api/test/page?limit=7' });
    expect(fine.json()).toEqual({ limit: 7 });
  });

  it('V4: an internal error answers 500 INTERNAL_ERROR without its message or stack', async () => {
    const response = await t.app.inject({ url: '/api/test/boom' });
    const problem = expectProblem(response, 500, 'INTERNAL_ERROR');
    expect(response.body).not.toContain('hunter2');
    expect(response.body).not.toContain(INTERNAL_SECRET_MESSAGE);
    expect(problem.detail).toBeUndefined();
  });

  it('V4: unknown routes answer 404 and wrong methods 405 with Allow, as problem+json', async () => {
    expectProblem(await t.app.inject({ url: '/api/nope' }), 404, 'NOT_FOUND');
    const wrongMethod = await t.app.inject({ method: 'DELETE', url: '/api/test/echo' });
    expectProblem(wrongMethod, 405, 'METHOD_NOT_ALLOWED');
    expect(wrongMethod.headers.allow).toBe('POST');
  });

  it('T4/path tricks: dot segments, NUL and backslashes answer 400 on a real socket', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    for (const path of [
      '/a/../etc/passwd',
      '/assets/%2e%2e/%2e%2e/etc/passwd',
      '/x%00.js',
      '/a%5c..%5cb',
      '/..',
      '/a/./b',
    ]) {
      const response = await rawRequest(port, path);
      expect(response.status, path).toBe(400);
      expect(JSON.parse(response.body).code, path).toBe('PATH_INVALID');
    }
    const survived = await rawRequest(port, '/healthz');
    expect(survived.status).toBe(200);
  });
});
