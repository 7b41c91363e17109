// The OpenAPI document (issue 8, item 7) and who may read it. The document is generated from
// the route table, so it must describe exactly the declared routes, with their schemas and
// access, and be valid OpenAPI 3.1. Outside production it is public with its docs UI; in
// production the document, the page and the UI's files answer admins only (401 without
// credentials, 403 without the scope), and the page runs under Haven's unchanged CSP.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { API_DOCS_SCOPE } from '../../src/platform/http/api-docs.js';
import { openApiDocument, type OpenApiDocument } from '../../src/platform/http/openapi.js';
import type { RouteTableRow } from '../../src/platform/http/route-contract.js';
import { createActor, GENEROUS_RATE_LIMITS } from '../actors.js';
import { createTestApp, testEnv, type TestApp } from '../app-harness.js';
import { createTestDatabase } from '../databases.js';

/** Routes that are not API operations: the SPA's files, the CORS preflights, the docs UI. */
// @fastify/swagger leaves HEAD routes out; the one declared on its own (tus progress) is in
// docs/api/files.md, and the route contract, matrix and fuzz still see it.
const NOT_OPERATIONS = new Set([
  'GET /*',
  'OPTIONS /*',
  'OPTIONS /oauth/token',
  'OPTIONS /oauth/token/revocation',
  'GET /api/docs',
  'GET /api/docs/ui/:file',
  'HEAD /api/files/uploads/:uploadId',
]);
const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch']);
const DOCS_URLS = [
  '/api/docs/openapi.json',
  '/api/docs',
  '/api/docs/ui/swagger-ui-bundle.js',
  '/api/docs/ui/swagger-ui.css',
  '/api/docs/ui/start.js',
];

interface Parameter {
  in: string;
  name: string;
  required?: boolean;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, unknown> }>;
  security: Array<Record<string, string[]>>;
  'x-haven-rate-class': string;
}

const openApiPath = (routePath: string): string => routePath.replace(/:(\w+)/g, '{$1}');

function operationOf(document: OpenApiDocument, row: RouteTableRow): Operation {
  const item = document.paths?.[openApiPath(row.path)] as Record<string, Operation> | undefined;
  const operation = item?.[row.method.toLowerCase()];
  if (!operation) throw new Error(`${row.method} ${row.path} is not in the document`);
  return operation;
}

function propertyNames(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return Object.keys(properties ?? {}).sort();
}

function parameterNames(operation: Operation, where: 'path' | 'query'): string[] {
  return (operation.parameters ?? [])
    .filter((p) => p.in === where)
    .map((p) => p.name)
    .sort();
}

async function expectValidOpenApi31(document: unknown): Promise<void> {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document) as Record<string, unknown>);
  expect(result.errors, 'OpenAPI validation errors').toBeUndefined();
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
}

function expectProblem(response: LightMyRequestResponse, status: number, code: string): void {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json<{ code: string }>().code).toBe(code);
}

describe('the OpenAPI document and docs UI in development', () => {
  let t: TestApp;
  let document: OpenApiDocument;
  let operations: RouteTableRow[];

  beforeAll(async () => {
    t = await createTestApp('pglite', {
      env: { HAVEN_ENV: 'development', ...GENEROUS_RATE_LIMITS },
    });
    document = openApiDocument(t.app);
    operations = t.app.routeTable.filter((r) => !NOT_OPERATIONS.has(`${r.method} ${r.path}`));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is valid OpenAPI 3.1', async () => {
    expect(t.config.env).toBe('development');
    expect(document.openapi).toBe('3.1.0');
    await expectValidOpenApi31(document);
  });

  it('lists every operation of the route table, and nothing else', () => {
    const documented = Object.entries(document.paths ?? {})
      .flatMap(([p, item]) =>
        Object.keys(item ?? {})
          .filter((method) => METHODS.has(method))
          .map((method) => `${method.toUpperCase()} ${p}`),
      )
      .sort();
    const declared = operations.map((r) => `${r.method} ${openApiPath(r.path)}`).sort();
    expect(documented).toEqual(declared);
    expect(declared.length).toBeGreaterThan(50);
    // Outside /api: the JWKS, /healthz, /readyz, and OAuth's discovery, authorization (and its
    // resume step), token, introspection and revocation endpoints (A12), at the paths the RFCs
    // and the discovery document name.
    expect(declared.filter((route) => route.includes(' /api/')).length).toBe(declared.length - 9);
  });

  it('gives each operation its parameters, query, body and success answer as declared', () => {
    for (const row of operations) {
      const route = `${row.method} ${row.path}`;
      const operation = operationOf(document, row);
      expect(parameterNames(operation, 'path'), route).toEqual(propertyNames(row.schema?.params));
      expect(parameterNames(operation, 'query'), route).toEqual(
        propertyNames(row.schema?.querystring),
      );
      if (row.schema?.body === undefined) {
        expect(operation.requestBody, route).toBeUndefined();
      } else {
        // JSON, or the raw bytes a tus PATCH carries (application/offset+octet-stream).
        const [first] = Object.values(operation.requestBody?.content ?? {});
        expect(first?.schema, route).toBeDefined();
      }
      const successes = Object.keys(operation.responses).filter((s) => /^2\d\d$/.test(s));
      expect(successes.length, route).toBeGreaterThan(0);
      // tus 1.0 answers creation (201) and HEAD (200) with headers only, by protocol.
      const headersOnly = row.path.startsWith('/api/files/uploads') && row.method !== 'GET';
      for (const status of successes.filter((s) => s !== '204' && !headersOnly)) {
        expect(operation.responses[status]?.content, `${route} ${status}`).toBeDefined();
      }
    }
  });

  it('gives each operation its access, rate class and problem+json errors', () => {
    const schemes = document.components?.securitySchemes ?? {};
    expect(schemes.bearerToken).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
    expect(schemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie' });
    expect(document.components?.schemas?.Problem).toMatchObject({
      required: ['type', 'title', 'status', 'code', 'requestId'],
    });
    for (const row of operations) {
      const route = `${row.method} ${row.path}`;
      const operation = operationOf(document, row);
      expect(operation['x-haven-rate-class'], route).toBe(row.rateClass);
      const errors = ['400', '429', '4XX', '5XX'];
      if (row.access === 'public') {
        expect(operation.security, route).toEqual([]);
      } else {
        const scopes = row.scopes.split(' ');
        expect(operation.security, route).toEqual([
          { bearerToken: scopes },
          { sessionCookie: scopes },
        ]);
        errors.push('401', '403');
      }
      for (const status of errors) {
        expect(operation.responses[status]?.$ref, `${route} ${status}`).toMatch(
          /^#\/components\/responses\/\w+$/,
        );
      }
    }
    for (const response of Object.values(document.components?.responses ?? {})) {
      expect(response).toMatchObject({
        content: {
          'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
        },
      });
    }
  });

  it('serves the same document at /api/docs/openapi.json', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/docs/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('T3: serves the docs page under the CSP of every other answer, with no inline code', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/api/docs' });
    const health = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(health.headers['content-security-policy']);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    for (const header of ['x-frame-options', 'x-content-type-options', 'referrer-policy']) {
      expect(page.headers[header], header).toBe(health.headers[header]);
    }
    expect(page.headers['cache-control']).toBe('no-store');
    const scripts = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/ src="\/api\/docs\/ui\/[\w.-]+"/);
      expect(body?.trim()).toBe('');
    }
    expect(page.body).not.toMatch(/<style|style=|on\w+=/i);
    // Every file the page loads is served.
    for (const [, url] of page.body.matchAll(/(?:src|href)="(\/[^"]+)"/g)) {
      const file = await t.app.inject({ method: 'GET', url: url ?? '' });
      expect(file.statusCode, url).toBe(200);
      expect(file.body.length, url).toBeGreaterThan(0);
    }
  });

  it('serves the UI files with their types; "Try it out" works in development', async () => {
    const bundle = await t.app.inject({ method: 'GET', url: '/api/docs/ui/swagger-ui-bundle.js' });
    expect(bundle.headers['content-type']).toMatch(/^text\/javascript/);
    expect(bundle.body).toContain('SwaggerUIBundle');
    const css = await t.app.inject({ method: 'GET', url: '/api/docs/ui/swagger-ui.css' });
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const start = await t.app.inject({ method: 'GET', url: '/api/docs/ui/start.js' });
    expect(start.body).toContain('"/api/docs/openapi.json"');
    expect(start.body).toContain('supportedSubmitMethods: ["get"');
  });

  it('V1/path traversal: only the listed UI files are served', async () => {
    for (const url of [
      '/api/docs/ui/package.json',
      '/api/docs/ui/index.html',
      '/api/docs/ui/swagger-ui.js',
    ]) {
      expectProblem(await t.app.inject({ method: 'GET', url }), 400, 'VALIDATION_FAILED');
    }
    const escape = await t.app.inject({ method: 'GET', url: '/api/docs/ui/..%2Fpackage.json' });
    expectProblem(escape, 400, 'PATH_INVALID');
  });
});

const PRODUCTION_ENV = {
  HAVEN_ENV: 'production',
  HAVEN_PUBLIC_URL: 'https://haven.example',
  // These satisfy the production checks only: the test passes its own database to buildApp
  // and drops the Redis URL (nothing here needs shared rate-limit counters).
  DATABASE_URL: 'postgres://haven@db.invalid:5432/haven',
  REDIS_URL: 'redis://127.0.0.1:6379',
  HAVEN_SMTP_URL: 'smtp://mail.invalid:587',
  // TLS ends at the proxy: requests come from it with X-Forwarded-Proto https.
  HAVEN_TRUSTED_PROXIES: '127.0.0.1',
  ...GENEROUS_RATE_LIMITS,
};

describe('the OpenAPI document and docs UI in production: admins only', () => {
  let app: FastifyInstance;
  let dataDir: string;
  let admin: string;
  let clinician: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'haven-openapi-'));
    const loaded = loadConfig(testEnv({ ...PRODUCTION_ENV, HAVEN_DATA_DIR: dataDir }));
    const database = await createTestDatabase('pglite');
    app = await buildApp(Object.freeze({ ...loaded, redisUrl: undefined }), { database });
    app.addHook('onClose', () => database.close());
    await app.ready();
    expect(app.config.env).toBe('production');
    admin = (await createActor(app, ['admin'])).authorization;
    clinician = (await createActor(app, ['clinician'])).authorization;
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const get = (url: string, authorization?: string) =>
    app.inject({
      method: 'GET',
      url,
      headers: { 'x-forwarded-proto': 'https', ...(authorization ? { authorization } : {}) },
    });

  it('Z1: without credentials the document, the page and its files answer 401', async () => {
    for (const url of DOCS_URLS) expectProblem(await get(url), 401, 'UNAUTHENTICATED');
  });

  it(`Z2: people without ${API_DOCS_SCOPE} (not admins) get 403`, async () => {
    for (const url of DOCS_URLS) expectProblem(await get(url, clinician), 403, 'FORBIDDEN');
  });

  it('admins get the document and the page; the page only reads', async () => {
    const json = await get('/api/docs/openapi.json', admin);
    expect(json.statusCode).toBe(200);
    await expectValidOpenApi31(json.json());
    expect(json.json<OpenApiDocument>().paths?.['/api/docs/openapi.json']?.get?.security).toEqual([
      { bearerToken: [API_DOCS_SCOPE] },
      { sessionCookie: [API_DOCS_SCOPE] },
    ]);
    const page = await get('/api/docs', admin);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self';/);
    expect(page.headers['strict-transport-security']).toMatch(/max-age=\d{8}/);
    const start = await get('/api/docs/ui/start.js', admin);
    expect(start.statusCode).toBe(200);
    expect(start.body).toContain('supportedSubmitMethods: []');
  });
});

describe('haven openapi', () => {
  it('writes the same document the server serves, opening no port and no database folder', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'haven-openapi-cli-'));
    const dataDir = path.join(folder, 'data');
    const out = path.join(folder, 'openapi.json');
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          path.resolve(import.meta.dirname, '../cli-entry.ts'),
          'openapi',
          '--out',
          out,
        ],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HAVEN_ENV: 'development',
            HAVEN_LOG_LEVEL: 'silent',
            HAVEN_DATA_DIR: dataDir,
          },
          timeout: 120_000,
        },
      );
      expect(stdout).toContain(`OpenAPI 3.1.0 document written to ${out}`);
      expect(existsSync(path.join(dataDir, 'db'))).toBe(false);
      const written = JSON.parse(readFileSync(out, 'utf8')) as OpenApiDocument;
      await expectValidOpenApi31(written);
      const t = await createTestApp('pglite', { env: { HAVEN_ENV: 'development' } });
      try {
        expect(written).toEqual(JSON.parse(JSON.stringify(openApiDocument(t.app))));
      } finally {
        await t.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 180_000);
});
