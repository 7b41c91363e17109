// A database outage is answered as "not now" (503 SERVICE_UNAVAILABLE + Retry-After), never as
// a bug (500) and never with the connection details (issue 9, defect 1; V4). In process, against
// a real refused connection; the multi-process restart test lives in test/faults/.
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/platform/db/database.js';
import { isDatabaseUnavailable } from '../../src/platform/db/faults.js';
import { PUBLIC } from '../../src/platform/http/route-contract.js';
import { freePort } from '../faults/private-servers.js';
import { testEnv } from '../app-harness.js';
import { createHarnessAuthenticator } from '../tokens.js';

describe('database unavailable', () => {
  let database: Database;
  let app: FastifyInstance;

  beforeAll(async () => {
    // A port nothing listens on: every checkout is refused, as while PostgreSQL restarts.
    const port = await freePort();
    database = await openDatabase({
      url: `postgres://haven:secret-password@127.0.0.1:${port}/haven`,
      embeddedDir: undefined,
    });
    app = await buildApp(loadConfig(testEnv()), {
      database,
      authenticator: createHarnessAuthenticator(),
      modules: [
        (instance) => {
          instance.get(
            '/api/test/db',
            {
              config: { access: PUBLIC, rateClass: 'read' },
              schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } },
            },
            async () => {
              await sql`select 1`.execute(instance.database.db);
              return { ok: true };
            },
          );
          instance.get(
            '/api/test/bug',
            {
              config: { access: PUBLIC, rateClass: 'read' },
              schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } },
            },
            async () => {
              throw new TypeError('a programming error');
            },
          );
        },
      ],
    });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
    await database.close();
  });

  it('defect 1/availability: a request meeting a refused database connection gets 503 SERVICE_UNAVAILABLE with Retry-After, not 500', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/db' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    const problem = response.json<{ code: string; requestId: string }>();
    expect(problem.code).toBe('SERVICE_UNAVAILABLE');
    expect(problem.requestId).toBe(response.headers['x-request-id']);
    // V4: nothing about the connection leaves the server.
    expect(response.body).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|secret-password|haven:/);
  });

  it('defect 1/availability: /readyz says 503 with Retry-After while the database is unreachable', async () => {
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toMatch(/^\d+$/);
    expect(response.json<{ code: string }>().code).toBe('SERVICE_UNAVAILABLE');
  });

  it('defect 1/triage: a programming error is still a 500, not disguised as an outage', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/bug' });
    expect(response.statusCode).toBe(500);
    expect(response.headers['retry-after']).toBeUndefined();
  });

  it('defect 1/classification: connection faults are recognised, ordinary SQL errors are not', () => {
    const unavailable = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new AggregateError(
        [Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })],
        '',
      ),
    ];
    for (const error of unavailable) expect(isDatabaseUnavailable(error), error.message).toBe(true);
    const ordinary = [
      Object.assign(new Error('duplicate key value'), { code: '23505' }),
      Object.assign(new Error('syntax error'), { code: '42601' }),
      Object.assign(new Error('could not serialize access'), { code: '40001' }),
      new TypeError('x is undefined'),
      'a string',
      null,
    ];
    for (const error of ordinary) expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
