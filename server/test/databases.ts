// Test databases: every database test runs on PGlite, and on PostgreSQL too when
// DATABASE_URL is set. Each call gets its own fresh, migrated database.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
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

/**
 * For tests of the embedded mode alone (its data folder, backups, the CLI on a folder): they
 * need no PostgreSQL, so a run narrowed to PostgreSQL (HAVEN_TEST_ENGINES=postgres, CI's second
 * run) leaves them to the run that includes PGlite instead of repeating them.
 */
export const itEmbedded = it.runIf(ENGINES.includes('pglite'));
export const describeEmbedded = describe.runIf(ENGINES.includes('pglite'));

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

/**
 * Where the migrated template of these migrations and this PGlite is kept between test
 * processes: the name is a hash of both, so a changed migration (a mutant's too) or another
 * PGlite version makes a new one. Vitest starts a process per test file, and each used to run
 * initdb and every migration again before its first database (seconds of CPU each, a large
 * part of a short test file and of every mutant's run).
 */
function pgliteTemplateFile(): string {
  // The package's own package.json (its version), found above its entry point: the package
  // does not export that path.
  let pglitePackage = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(path.join(pglitePackage, 'package.json'))) {
    pglitePackage = path.dirname(pglitePackage);
  }
  const version = readFileSync(path.join(pglitePackage, 'package.json'), 'utf8');
  return path.join(tmpdir(), `haven-pglite-template-${migrationsHash(version).slice(0, 24)}.tar`);
}

/** A hash of this build's migrations (and of `extra`): the name of their migrated templates. */
function migrationsHash(extra = ''): string {
  const dbFolder = fileURLToPath(new URL('../src/platform/db/', import.meta.url));
  const hash = createHash('sha256').update(extra).update('\0');
  const sources = [
    'migrate.ts',
    ...readdirSync(path.join(dbFolder, 'migrations'))
      .sort()
      .map((name) => `migrations/${name}`),
  ];
  for (const source of sources) {
    hash
      .update(source)
      .update('\0')
      .update(readFileSync(path.join(dbFolder, source)));
  }
  return hash.digest('hex');
}

/** One migrated PGlite, dumped once and kept on disk; each test database loads the dump. */
function migratedPgliteTemplate(): Promise<Blob> {
  pgliteTemplate ??= (async () => {
    const file = pgliteTemplateFile();
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const database = await openDatabase({ url: undefined, embeddedDir: undefined });
    await migrateToLatest(database.db);
    if (!database.pglite) throw new Error('expected a PGlite handle');
    const dump = await database.pglite.dumpDataDir('none');
    await database.close();
    // Written whole under a name of its own, then renamed: a process reading the template never
    // sees a part of one, and two processes building it at once both leave a complete file.
    const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
    return dump;
  })();
  return pgliteTemplate;
}

function databaseUrl(name: string): string {
  const url = new URL(process.env.DATABASE_URL ?? '');
  url.pathname = `/${name}`;
  return url.toString();
}

let postgresTemplate: Promise<string> | undefined;

/**
 * The name of a migrated PostgreSQL database that test databases are copied from (CREATE
 * DATABASE … TEMPLATE, a file copy): migrating each one took 1–3 s, and a run makes hundreds.
 * Named by the hash of the migrations, so a changed migration gets a template of its own; built
 * under a name of its own and renamed when complete, so a process never copies a half-migrated
 * one, and when two processes build it at once the second rename fails and its copy is dropped.
 * Nothing stays connected to a template (PostgreSQL copies only a database nobody uses).
 */
function migratedPostgresTemplate(): Promise<string> {
  postgresTemplate ??= (async () => {
    const name = `haven_template_${migrationsHash().slice(0, 24)}`;
    if (await databaseExists(name)) return name;
    const building = `${name}_${randomBytes(4).toString('hex')}`;
    await adminQuery(`CREATE DATABASE ${building}`);
    const database = await openDatabase({
      url: databaseUrl(building),
      embeddedDir: undefined,
      poolSize: 1,
    });
    try {
      await migrateToLatest(database.db);
    } finally {
      await database.close();
    }
    try {
      await adminQuery(`ALTER DATABASE ${building} RENAME TO ${name}`);
    } catch (error) {
      await adminQuery(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      if (!(await databaseExists(name))) throw error;
    }
    return name;
  })();
  // A failed build is not remembered: the next database tries again.
  postgresTemplate.catch(() => {
    postgresTemplate = undefined;
  });
  return postgresTemplate;
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return found.rowCount === 1;
  } finally {
    await client.end();
  }
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
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is required for PostgreSQL tests');
  const template = await migratedPostgresTemplate();
  const name = `haven_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  const database = await openDatabase({
    url: databaseUrl(name),
    embeddedDir: undefined,
    poolSize: 5,
  });
  return {
    ...database,
    url: databaseUrl(name),
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
