// Test databases: every database test runs on PGlite, and on PostgreSQL too when
// DATABASE_URL is set. Each call gets its own fresh, migrated database.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe } from 'vitest';
import { openDatabase, type Database, type Engine } from '../src/platform/db/database.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';

/**
 * PGlite always, PostgreSQL too with DATABASE_URL. HAVEN_TEST_ENGINES=postgres narrows a run to
 * PostgreSQL: CI runs the PGlite half on its own first (the embedded defaults), so its second run
 * need not repeat it and stays inside CI's time budget.
 */
function testEngines(): readonly Engine[] {
  const all: Engine[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
  const only = process.env.HAVEN_TEST_ENGINES;
  if (only === undefined || only === '') return all;
  const chosen = only.split(',').map((name) => name.trim());
  const unknown = chosen.filter((name) => !all.includes(name as Engine));
  if (unknown.length > 0) {
    throw new Error(
      `HAVEN_TEST_ENGINES names ${unknown.join(', ')}; available here: ${all.join(', ')} (postgres needs DATABASE_URL)`,
    );
  }
  return all.filter((engine) => chosen.includes(engine));
}

export const ENGINES: readonly Engine[] = testEngines();

export interface TestDatabase extends Database {
  /** Connection URL of the fresh PostgreSQL database; undefined on PGlite. */
  readonly url: string | undefined;
}

/** Registers one describe block per engine. */
export function describeEachEngine(name: string, body: (engine: Engine) => void): void {
  for (const engine of ENGINES) {
    describe(`${name} [${engine}]`, () => body(engine));
  }
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

let pgliteTemplate: Promise<Blob> | undefined;

/** One migrated PGlite per test process, dumped once; each test database loads the dump. */
function migratedPgliteTemplate(): Promise<Blob> {
  pgliteTemplate ??= (async () => {
    const database = await openDatabase({ url: undefined, embeddedDir: undefined });
    await migrateToLatest(database.db);
    if (!database.pglite) throw new Error('expected a PGlite handle');
    const dump = await database.pglite.dumpDataDir('none');
    await database.close();
    return dump;
  })();
  return pgliteTemplate;
}

export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === 'pglite') {
    const embeddedTemplate = await migratedPgliteTemplate();
    const database = await openDatabase({
      url: undefined,
      embeddedDir: undefined,
      embeddedTemplate,
    });
    return { ...database, url: undefined };
  }
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) throw new Error('DATABASE_URL is required for PostgreSQL tests');
  const name = `haven_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), embeddedDir: undefined, poolSize: 5 });
  await migrateToLatest(database.db);
  return {
    ...database,
    url: url.toString(),
    async close() {
      await database.close();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Registers `start` before the block's tests (before each test with `each`) and `stop` after. */
export function aroundTests(
  each: boolean | undefined,
  start: () => Promise<void>,
  stop: () => Promise<void>,
): void {
  if (each) {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterAll(stop);
  }
}

/**
 * Registers the hooks of a describe block that open a fresh database before its tests (or before
 * each test with `each: true`) and close it after, and returns a view of the one open now: read
 * `database.db` inside tests and hooks, never while the block is being declared.
 */
export function useTestDatabase(engine: Engine, options: { each?: boolean } = {}): TestDatabase {
  let current: TestDatabase | undefined;
  const open = () => {
    if (!current) throw new Error('the test database opens in a before hook: use it in tests');
    return current;
  };
  const start = async () => {
    current = await createTestDatabase(engine);
  };
  const stop = async () => {
    const closing = current;
    current = undefined;
    await closing?.close();
  };
  aroundTests(options.each, start, stop);
  return {
    get db() {
      return open().db;
    },
    get engine() {
      return open().engine;
    },
    get pglite() {
      return open().pglite;
    },
    get url() {
      return open().url;
    },
    ping: () => open().ping(),
    close: () => stop(),
  };
}
