// What every fault test on real processes sets up and takes down: a private PostgreSQL (migrated),
// the `haven` processes and the in-process app the test starts, and its temporary folders. One
// fixture, so that each test file says only what its fault is, and so that teardown happens in
// one order everywhere: processes first (they hold the database and the folders), then the app,
// then what the file itself set up (`onTeardown`), then the database and the folders.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/platform/db/database.js';
import { migrateToLatest } from '../../src/platform/db/migrate.js';
import { GENEROUS_RATE_LIMITS } from '../actors.js';
import {
  spawnHaven,
  startPrivatePostgres,
  type HavenProcess,
  type PrivatePostgres,
} from './private-servers.js';

export interface FaultLab {
  /** The private PostgreSQL, migrated (only with `{ postgres: true }`). */
  readonly postgres: PrivatePostgres;
  /** One master key for every process of the file, so they read each other's secrets. */
  readonly masterKey: string;
  /** A temporary folder, removed after the file's tests. */
  folder(prefix?: string): string;
  /**
   * The environment of a test-mode `haven` process: the private database when there is one, a
   * data folder of its own unless `extra` names one, rate limits no test reaches.
   */
  env(extra?: Record<string, string>): Record<string, string>;
  /** `haven <args>` as a child process, stopped after the file's tests. */
  spawn(args: string[], env: Record<string, string>): HavenProcess;
  /** An in-process app on the same database, to create users and tokens; closed after the tests. */
  minter(env: Record<string, string>): Promise<FastifyInstance>;
  /** Runs after the processes and the app are stopped, before the database is removed. */
  onTeardown(step: () => Promise<void> | void): void;
}

/** Registers the file's beforeAll and afterAll; call it at the top of a describe block. */
export function useFaultLab(options: { postgres: boolean }): FaultLab {
  let postgres: PrivatePostgres | undefined;
  const masterKey = randomBytes(32).toString('base64');
  const processes: HavenProcess[] = [];
  const apps: FastifyInstance[] = [];
  const folders: string[] = [];
  const teardown: (() => Promise<void> | void)[] = [];

  if (options.postgres) {
    beforeAll(async () => {
      postgres = await startPrivatePostgres();
      const database = await openDatabase({ url: postgres.url, embeddedDir: undefined });
      await migrateToLatest(database.db);
      await database.close();
    }, 120_000);
  }

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await Promise.all(apps.map((app) => app.close()));
    for (const step of teardown) await step();
    await postgres?.destroy();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  }, 60_000);

  const lab: FaultLab = {
    get postgres() {
      if (!postgres) throw new Error('useFaultLab({ postgres: true }) starts the database');
      return postgres;
    },
    masterKey,
    folder(prefix = 'haven-fault-') {
      const folder = mkdtempSync(path.join(tmpdir(), prefix));
      folders.push(folder);
      return folder;
    },
    env(extra = {}) {
      return {
        HAVEN_ENV: 'test',
        HAVEN_LOG_LEVEL: 'warn',
        HAVEN_MASTER_KEY: masterKey,
        HAVEN_WEB_DIR: path.join(tmpdir(), 'haven-no-web'),
        HAVEN_PUBLIC_URL: 'http://haven.test',
        ...(postgres && { DATABASE_URL: postgres.url }),
        ...GENEROUS_RATE_LIMITS,
        ...extra,
        HAVEN_DATA_DIR: extra.HAVEN_DATA_DIR ?? lab.folder('haven-node-'),
      };
    },
    spawn(args, env) {
      const child = spawnHaven(args, env);
      processes.push(child);
      return child;
    },
    async minter(env) {
      const app = await buildApp(loadConfig(env));
      apps.push(app);
      await app.ready();
      return app;
    },
    onTeardown(step) {
      teardown.push(step);
    },
  };
  return lab;
}
