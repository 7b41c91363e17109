// Builds the real Haven app for tests: real config parsing, a real database (PGlite or
// PostgreSQL), real plugins. Only the environment is made up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp, type BuildOptions } from '../src/app.js';
import { loadConfig, type HavenConfig } from '../src/config.js';
import type { Engine } from '../src/platform/db/database.js';
import {
  aroundTests,
  createTestDatabase,
  useTestDatabase,
  type TestDatabase,
} from './databases.js';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly config: HavenConfig;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

/**
 * A complete test environment; `env` entries override the defaults. The data folder is a fresh
 * one in the tests' scratch space unless `env` names one: the configured default, `./data` in
 * the checkout, would be shared by every test file, by parallel workers and by the two test runs
 * CI starts side by side.
 */
export function testEnv(
  env: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    HAVEN_ENV: 'test',
    ...('HAVEN_DATA_DIR' in env
      ? {}
      : { HAVEN_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'haven-data-')) }),
    HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
    HAVEN_LOG_LEVEL: 'silent',
    HAVEN_WEB_DIR: path.join(tmpdir(), 'haven-no-web'),
    ...env,
  };
}

export async function createTestApp(
  engine: Engine,
  options: {
    env?: Record<string, string | undefined>;
    build?: Omit<BuildOptions, 'database'>;
    database?: TestDatabase;
  } = {},
): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-test-'));
  const config = loadConfig(testEnv({ HAVEN_DATA_DIR: dataDir, ...options.env }));
  const database = options.database ?? (await createTestDatabase(engine));
  const app = await buildApp(config, { ...options.build, database });
  await app.ready();
  return {
    app,
    config,
    database,
    async close() {
      await app.close();
      if (!options.database) await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type Env = Record<string, string | undefined>;

/** Apps on one fresh database, started by the hooks `useTestNodes` registers. */
export interface TestNodes {
  readonly database: TestDatabase;
  /** One app per entry of the `nodes` option, in its order. */
  readonly nodes: readonly TestApp[];
  /** The first app. */
  readonly node: TestApp;
  /** The public origin every node shares (the same test config), for the Origin header. */
  readonly origin: string;
  /** HAVEN_MASTER_KEY of every node, so a test can seal or open what the servers do. */
  readonly masterKey: string;
}

/**
 * Registers the hooks of a describe block that start apps on one fresh database before its tests
 * and close them after: once for the block, or around every test with `each: true`. The nodes
 * share one master key, so what one seals (an authenticator secret, a refresh cookie) the others
 * open; `nodes` gives each node's own variables on top of `env` (default: one node).
 */
export function useTestNodes(
  engine: Engine,
  options: {
    env?: Env;
    nodes?: readonly Env[];
    build?: Omit<BuildOptions, 'database'>;
    each?: boolean;
  } = {},
): TestNodes {
  const masterKey = options.env?.HAVEN_MASTER_KEY ?? randomBytes(32).toString('base64');
  // Registered first, so the database opens before the apps start and closes after they stop.
  const database = useTestDatabase(engine, { each: options.each });
  let running: TestApp[] | undefined;
  const started = () => {
    if (!running) throw new Error('the test apps start in a before hook: use them in tests');
    return running;
  };
  aroundTests(
    options.each,
    async () => {
      running = [];
      for (const env of options.nodes ?? [{}]) {
        const node = await createTestApp(engine, {
          database,
          env: { ...options.env, HAVEN_MASTER_KEY: masterKey, ...env },
          ...(options.build ? { build: options.build } : {}),
        });
        running.push(node);
      }
    },
    async () => {
      for (const node of running?.splice(0) ?? []) await node.close();
      running = undefined;
    },
  );
  return {
    database,
    get nodes() {
      return started();
    },
    get node() {
      return started()[0]!;
    },
    get origin() {
      return started()[0]!.config.publicOrigin;
    },
    masterKey,
  };
}
