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
import { createTestDatabase, type TestDatabase } from './databases.js';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly config: HavenConfig;
  readonly database: TestDatabase;
  close(): Promise<void>;
}

/** A complete test environment; `env` entries override the defaults. */
export function testEnv(
  env: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    HAVEN_ENV: 'test',
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
