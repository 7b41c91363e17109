// Platform controls whose removal no test noticed (round 4): a database missing or failing a
// versioned migration (V2), the server log of an internal error and the message of a library
// error with a 4xx status (V4), the request id on the log line of a socket-level refusal (L1),
// and a local .env kept out of git (S1).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/platform/db/database.js';
import { migrateToLatest, pendingMigrations } from '../../src/platform/db/migrate.js';
import { assertMigrated, DatabaseNotMigratedError } from '../../src/platform/db/startup.js';
import { answerClientError } from '../../src/platform/http/client-errors.js';
import { PUBLIC } from '../../src/platform/http/route-contract.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { INTERNAL_SECRET_MESSAGE, probeRoutes } from '../fixtures/probe-routes.js';
import { captureLog, type LogLine } from '../log-capture.js';

const REPOSITORY_ROOT = path.resolve(import.meta.dirname, '../../..');

describe('V2 versioned migrations (round 4)', () => {
  let database: Database;
  beforeAll(async () => {
    // A fresh embedded database that no migration has touched.
    database = await openDatabase({ url: undefined, embeddedDir: undefined });
  });
  afterAll(async () => {
    await database?.close();
  });

  const tableExists = async (name: string): Promise<boolean> => {
    const { rows } = await sql<{
      found: string | null;
    }>`select to_regclass(${name})::text as found`.execute(database.db);
    return rows[0]?.found !== null;
  };

  it('V2/unmigrated-database-refused: start-up refuses a database missing this build’s migrations, naming them', async () => {
    const refused = await assertMigrated(database).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DatabaseNotMigratedError);
    expect((refused as DatabaseNotMigratedError).pending).toContain('0001_platform');
    expect((refused as Error).message).toMatch(/npx haven migrate/);
  });

  it('V2/failed-migration-stops: a migration that fails rejects, is rolled back and stays pending (schema drift)', async () => {
    // An object the first migration creates already exists: its CREATE TABLE fails midway.
    await sql`create table jobs (id integer)`.execute(database.db);
    await expect(migrateToLatest(database.db)).rejects.toThrow(/jobs/);
    expect(await pendingMigrations(database.db)).toContain('0001_platform');
    // Its earlier statements were rolled back with it: no half-applied schema is left.
    expect(await tableExists('audit_events')).toBe(false);
    await expect(assertMigrated(database)).rejects.toBeInstanceOf(DatabaseNotMigratedError);
    // Once the obstacle is gone the same migrations apply, and start-up accepts the database.
    await sql`drop table jobs`.execute(database.db);
    await migrateToLatest(database.db);
    expect(await pendingMigrations(database.db)).toEqual([]);
    await expect(assertMigrated(database)).resolves.toBeUndefined();
  });
});

/** An error a library throws with a 4xx status and an internal message (a driver, a plugin). */
const LIBRARY_INTERNAL_MESSAGE = 'relation "r4_internal_ledger" does not exist at pool.query';

async function libraryErrorRoute(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/test/r4-library-error',
    {
      config: { access: PUBLIC, rateClass: 'read' },
      schema: {
        response: { 200: Type.Object({ ok: Type.Boolean() }, { additionalProperties: false }) },
      },
    },
    async () => {
      throw Object.assign(new Error(LIBRARY_INTERNAL_MESSAGE), { statusCode: 400 });
    },
  );
}

describe('V4 problems and the server log (round 4)', () => {
  let t: TestApp;
  const { lines, logger } = captureLog();
  beforeAll(async () => {
    t = await createTestApp('pglite', {
      build: { modules: [probeRoutes, libraryErrorRoute], logger },
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const linesOf = (requestId: unknown): LogLine[] => lines.filter((l) => l.reqId === requestId);

  it('V4/5xx-details-logged: an internal error is a bare 500 to the caller, its details an error line in the server log with the request id', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/test/boom' });
    expect(response.statusCode).toBe(500);
    const problem = response.json<{ code: string; requestId: string; detail?: string }>();
    expect(problem.code).toBe('INTERNAL_ERROR');
    expect(problem.detail).toBeUndefined();
    expect(response.body).not.toContain('internal.ts');
    const requestId = response.headers['x-request-id'];
    expect(problem.requestId).toBe(requestId);
    // The operator finds what the caller was not told, under the id the caller was given.
    const logged = linesOf(requestId).filter((l) => l.level === 'error');
    expect(logged).toHaveLength(1);
    const err = logged[0]?.err as { type?: string; message?: string; stack?: string } | undefined;
    expect(err?.type).toBe('Error');
    expect(err?.message).toContain('/srv/haven/internal.ts');
    expect(err?.stack).toMatch(/probe-routes/);
    expect(INTERNAL_SECRET_MESSAGE).toContain('/srv/haven/internal.ts');
  });

  it('V4/library-message-hidden: a library error with a 4xx status answers its catalog code, never its own message', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/test/r4-library-error' });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json<{ code: string; detail?: string; requestId: string }>();
    expect(problem.code).toBe('BAD_REQUEST');
    expect(problem.detail).toBeUndefined();
    expect(problem.requestId).toBe(response.headers['x-request-id']);
    expect(response.body).not.toContain('r4_internal_ledger');
    expect(response.body).not.toContain('pool.query');
  });
});

describe('L1 request id on socket-level refusals (round 4)', () => {
  it('L1/socket-refusal-request-id: the log line of a refusal on the socket carries the request id its answer names', () => {
    const { lines, logger } = captureLog();
    const written: string[] = [];
    const socket = {
      destroyed: false,
      writable: true,
      write(chunk: string) {
        written.push(chunk);
        return true;
      },
      destroy() {
        this.destroyed = true;
      },
    };
    const error = Object.assign(new Error('Parse Error: Invalid method encountered'), {
      code: 'HPE_INVALID_METHOD',
    });
    answerClientError.call({ log: logger }, error, socket as unknown as Socket);
    expect(socket.destroyed).toBe(true);
    const answer = written.join('');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const requestId = /\r\nx-request-id: ([^\r]+)\r\n/.exec(answer)?.[1];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 'BAD_REQUEST',
      requestId,
    });
    const refused = lines.filter((l) => l.msg === 'request refused on the socket');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ level: 'info', code: 'BAD_REQUEST', requestId });
  });
});

describe('S1 local secrets stay out of git (round 4)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'haven-gitignore-'));
    expect(spawnSync('git', ['init', '-q'], { cwd: dir }).status).toBe(0);
    copyFileSync(path.join(REPOSITORY_ROOT, '.gitignore'), path.join(dir, '.gitignore'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** What git itself decides for a path under the repository's .gitignore. */
  const ignored = (file: string): boolean => {
    const result = spawnSync('git', ['check-ignore', '-q', '--no-index', file], { cwd: dir });
    expect(result.status, `git check-ignore ${file}`).not.toBe(128);
    return result.status === 0;
  };

  it('S1/env-gitignored: .env and its variants are ignored by git, .env.example is not', () => {
    for (const file of ['.env', '.env.local', '.env.production', 'server/.env']) {
      expect(ignored(file), file).toBe(true);
    }
    expect(ignored('.env.example')).toBe(false);
  });
});
