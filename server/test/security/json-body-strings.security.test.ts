// Strict JSON body (V1, issue 8 item 6): NUL and lone surrogates arrive as JSON escapes that strict
// UTF-8 decoding cannot see. The body parser refuses them in every string, value or property
// name, at any depth, with a 400 naming the field's path and never echoing what was sent.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import { probeRoutes } from '../fixtures/probe-routes.js';

/** Sent in every refused string, so the test can prove the answer never carries it back. */
const MARKER = 'zq-marker';
const MESSAGE = 'must not contain U+0000 or an unpaired surrogate';

interface FieldProblem {
  code: string;
  status: number;
  detail?: string;
  errors?: Array<{ field: string; message: string }>;
}

function expectRefused(response: LightMyRequestResponse): FieldProblem {
  expect(response.statusCode, response.body).toBe(400);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).not.toContain(MARKER);
  expect(response.body).not.toMatch(/\\u0000|\\ud[89a-f]/i);
  expect(response.body).not.toContain('\u0000');
  expect(response.body).not.toMatch(/[\uD800-\uDFFF]/u);
  const problem = response.json<FieldProblem>();
  expect(problem.code).toBe('VALIDATION_FAILED');
  return problem;
}

describeEachEngine('strict JSON body strings', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine, { build: { modules: [probeRoutes] } });
  });
  afterAll(() => t.close());

  /** The JSON text is sent exactly as written, escapes included. */
  const echo = (jsonText: string, contentType = 'application/json') =>
    t.app.inject({
      method: 'POST',
      url: '/api/test/echo',
      payload: jsonText,
      headers: { 'content-type': contentType },
    });

  it('an escaped NUL in a value is refused, naming the field', async () => {
    const problem = expectRefused(await echo(`{"name":"${MARKER}\\u0000"}`));
    expect(problem.errors).toEqual([{ field: 'body.name', message: MESSAGE }]);
    expect(problem.detail).toBe(`body.name: ${MESSAGE}`);
  });

  it('lone high, lone low and reversed surrogates are refused at any depth', async () => {
    const cases: Array<[string, string]> = [
      [
        `{"name":"a","contacts":[{"value":"ok"},{"value":"${MARKER}\\ud800"}]}`,
        'body.contacts.1.value',
      ],
      [`{"name":"a","contacts":[{"value":"${MARKER}\\uDFFF"}]}`, 'body.contacts.0.value'],
      [`{"name":"a","tags":["ok","${MARKER}\\udc00\\ud800"]}`, 'body.tags.1'],
      [`{"name":"${MARKER}\\ud83c"}`, 'body.name'],
      [`{"a":{"b":{"c":["${MARKER}\\ud800x"]}}}`, 'body.a.b.c.0'],
    ];
    for (const [text, field] of cases) {
      const problem = expectRefused(await echo(text));
      expect(problem.errors, text).toEqual([{ field, message: MESSAGE }]);
    }
  });

  it('a property name holding NUL or a lone surrogate is refused at its object, unechoed', async () => {
    const problem = expectRefused(
      await echo(`{"name":"a","meta":{"${MARKER}\\u0000":1,"x":{"${MARKER}\\udfff":2}}}`),
    );
    expect(problem.errors).toEqual([
      { field: 'body.meta', message: `property names ${MESSAGE}` },
      { field: 'body.meta.x', message: `property names ${MESSAGE}` },
    ]);
    const topLevel = expectRefused(await echo(`{"${MARKER}\\u0000":"a"}`));
    expect(topLevel.errors).toEqual([{ field: 'body', message: `property names ${MESSAGE}` }]);
  });

  it('every offending field is listed, and a body that is itself a string is named "body"', async () => {
    const problem = expectRefused(await echo(`{"name":"\\u0000","email":"${MARKER}\\ud801"}`));
    expect(problem.errors?.map((error) => error.field)).toEqual(['body.name', 'body.email']);
    const bare = expectRefused(await echo(`"${MARKER}\\u0000"`));
    expect(bare.errors).toEqual([{ field: 'body', message: MESSAGE }]);
  });

  it('a hostile body cannot make the error list unbounded', async () => {
    const tags = Array.from({ length: 60 }, () => `"${MARKER}\\u0000"`).join(',');
    const problem = expectRefused(await echo(`{"tags":[${tags}]}`));
    expect(problem.errors).toHaveLength(20);
  });

  it('structured +json content types get the same check', async () => {
    const problem = expectRefused(
      await echo(`{"name":"${MARKER}\\u0000"}`, 'application/merge-patch+json'),
    );
    expect(problem.errors).toEqual([{ field: 'body.name', message: MESSAGE }]);
  });

  it('paired surrogates, escaped or raw, and other escapes are ordinary text', async () => {
    for (const text of [
      '{"name":"Ada \\ud83c\\udf3b"}',
      '{"name":"Ada 🌻"}',
      '{"name":"tab\\there \\u00e9"}',
    ]) {
      const response = await echo(text);
      expect(response.statusCode, `${text} ${response.body}`).toBe(200);
    }
    expect((await echo('{"name":"Ada \\ud83c\\udf3b"}')).json()).toEqual({
      name: 'Ada 🌻',
      count: 0,
    });
  });

  it('V1 — a property named twice in one object is refused (a proxy reading the first would see another request)', async () => {
    const DUPLICATE = 'an object names the same property more than once';
    for (const text of [
      `{"name":"${MARKER}","name":"admin"}`,
      // The same name spelled with an escape is the same property once parsed.
      `{"name":"${MARKER}","n\\u0061me":"admin"}`,
      `{"name":"a","meta":{"role":"${MARKER}","x":[{"k":1,"k":2}],"role":"admin"}}`,
      `{"name":"a","list":[{"k":"${MARKER}"},{"k":1,"k":2}]}`,
    ]) {
      const response = await echo(text);
      const problem = expectRefused(response);
      expect(problem.errors, text).toEqual([{ field: 'body', message: DUPLICATE }]);
    }
  });

  it('V1 — colons and quotes inside strings, and one name in two objects, are not duplicates', async () => {
    const ok = await echo('{"name":"a: \\"b\\":c","tags":["x:y","{\\"k\\":1}"]}');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ name: 'a: "b":c', count: 0 });
    // Refused by the schema (no such property), not as a duplicate: the parser let it through.
    const twoObjects = await echo('{"name":"a","x":[{"k":1},{"k":2}],"y":{"k":{"k":3}}}');
    expect(twoObjects.statusCode).toBe(400);
    expect(twoObjects.body).not.toContain('same property');
  });

  it('the earlier refusals still come first: depth, prototype poisoning, invalid JSON', async () => {
    const deep = `${'['.repeat(1000)}"\\u0000"${']'.repeat(1000)}`;
    expect((await echo(`{"name":${deep}}`)).json()).toMatchObject({ code: 'JSON_TOO_DEEP' });
    expect((await echo('{"__proto__":{"x":"\\u0000"}}')).json()).toMatchObject({
      code: 'INVALID_JSON',
    });
    expect((await echo('{"name":"\\u0000"')).json()).toMatchObject({ code: 'INVALID_JSON' });
  });
});
