// Server side of oauth.bench.ts, forked so the load generator does not share the server's event
// loop: the real Haven app (every platform plugin, identity, the OAuth module) on 127.0.0.1 over a
// fresh database, rate limits lifted, request logs written as production writes them (level
// `info`, to /dev/null). It seeds a platform administrator and registers one OAuth client through
// the admin API, then reports over IPC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { buildApp } from '../server/src/app.js';
import { loadConfig, RATE_CLASSES } from '../server/src/config.js';
import { openDatabase, type Database } from '../server/src/platform/db/database.js';
import { bufferedLogDestination, createLogger } from '../server/src/platform/logging.js';
import { migrateToLatest } from '../server/src/platform/db/migrate.js';
import { callAs, createActor, mintSession, type Actor } from '../server/test/actors.js';

/** What the child tells the parent once the app listens. */
export interface OAuthReady {
  readonly type: 'ready';
  readonly appUrl: string;
  readonly engine: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** A fresh session access token of the administrator (they live 5 minutes). */
export interface SessionToken {
  readonly type: 'session';
  readonly authorization: string;
}

/** Server time per request of the read, through app.inject (no sockets, no load generator). */
export interface InjectCost {
  readonly type: 'inject-cost';
  readonly sessionMicros: number;
  readonly clientMicros: number;
}

/** Huge limits: the benchmark measures the work, not the limiter's refusals. */
const UNLIMITED = '9999999/60';
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';

/** One statement on the server DATABASE_URL points at (CREATE/DROP DATABASE). */
async function adminQuery(url: string, text: string): Promise<void> {
  const admin = await openDatabase({ url, embeddedDir: undefined, poolSize: 1 });
  try {
    await sql.raw(text).execute(admin.db);
  } finally {
    await admin.close();
  }
}

/** A fresh PostgreSQL database beside DATABASE_URL's (dropped afterwards), or embedded PGlite. */
async function openBenchDatabase(
  dataDir: string,
): Promise<{ database: Database; drop: () => Promise<void> }> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) {
    const database = await openDatabase({ url: undefined, embeddedDir: `${dataDir}/db` });
    await migrateToLatest(database.db);
    return { database, drop: async () => undefined };
  }
  const name = `haven_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(baseUrl, `CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), embeddedDir: undefined });
  await migrateToLatest(database.db);
  return {
    database,
    drop: () => adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * Median over alternating batches of the wall time per app.inject of `path` with each token: in
 * one process with nothing else to do, it prices what a client token adds to a request.
 */
async function injectCost(
  app: Awaited<ReturnType<typeof buildApp>>,
  path: string,
  tokens: { session: string; client: string },
): Promise<InjectCost> {
  const batch = async (authorization: string, count: number): Promise<number> => {
    const started = performance.now();
    for (let i = 0; i < count; i += 1) {
      const answer = await app.inject({ method: 'GET', url: path, headers: { authorization } });
      if (answer.statusCode !== 200) throw new Error(`inject: ${answer.statusCode}`);
    }
    return ((performance.now() - started) * 1000) / count;
  };
  await batch(tokens.session, 100);
  await batch(tokens.client, 100);
  const session: number[] = [];
  const client: number[] = [];
  for (let round = 0; round < 7; round += 1) {
    session.push(await batch(tokens.session, 200));
    client.push(await batch(tokens.client, 200));
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[3] ?? Number.NaN;
  return { type: 'inject-cost', sessionMicros: median(session), clientMicros: median(client) };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'haven-oauth-bench-'));
  const rates = Object.fromEntries(
    RATE_CLASSES.map((rateClass) => [`HAVEN_RATE_${rateClass.toUpperCase()}`, UNLIMITED]),
  );
  const config = loadConfig({
    HAVEN_ENV: 'test',
    HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
    HAVEN_LOG_LEVEL: LOG_LEVEL,
    HAVEN_DATA_DIR: dataDir,
    HAVEN_WEB_DIR: join(tmpdir(), 'haven-no-web'),
    HAVEN_EMBEDDED_WORKER: 'false',
    DATABASE_URL: process.env.DATABASE_URL,
    ...rates,
  });
  const { database, drop } = await openBenchDatabase(dataDir);
  const logger = createLogger({
    level: LOG_LEVEL,
    destination: bufferedLogDestination('/dev/null'),
  });
  const app = await buildApp(config, { database, logger });
  const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });

  const admin: Actor = await createActor(app, ['admin']);
  const created = await callAs(app, admin, 'POST', '/api/admin/oauth-clients', {
    name: 'Bench SIEM',
    scopes: ['audit:read'],
  });
  if (created.statusCode !== 201) throw new Error(`client registration: ${created.body}`);
  const { client, clientSecret } = created.json<{
    client: { clientId: string };
    clientSecret: string;
  }>();

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await app.close();
    await database.close();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('message', (message: unknown) => {
    if (message === 'session') {
      void mintSession(app, admin).then(({ authorization }) =>
        process.send?.({ type: 'session', authorization } satisfies SessionToken),
      );
      return;
    }
    const cost = message as { type?: unknown; path?: string; client?: string };
    if (cost.type === 'inject-cost' && cost.path && cost.client) {
      const { path, client: clientToken } = cost;
      void mintSession(app, admin)
        .then(({ authorization }) =>
          injectCost(app, path, { session: authorization, client: clientToken }),
        )
        .then((answer) => process.send?.(answer satisfies InjectCost));
      return;
    }
    if (message !== 'stop') return;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
  // If the parent dies, do not linger holding a port, a database and temporary files.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));

  process.send?.({
    type: 'ready',
    appUrl,
    engine: database.engine === 'pglite' ? 'PGlite (embedded, one connection)' : 'PostgreSQL',
    clientId: client.clientId,
    clientSecret,
  } satisfies OAuthReady);
}

// Forked by oauth.bench.ts (with an IPC channel); imported, it only exports its types.
if (process.send) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
