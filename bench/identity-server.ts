// Server side of identity.bench.ts, run as a forked child so the load generator does not
// share the server's event loop. Starts the real Haven app and a bare Fastify route on
// 127.0.0.1 over one database handle, seeds a patient (no MFA) and reports over IPC.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../server/src/app.js';
import { loadConfig, RATE_CLASSES } from '../server/src/config.js';
import { openDatabase, type Database } from '../server/src/platform/db/database.js';
import { migrateToLatest } from '../server/src/platform/db/migrate.js';
import { hashPassword, MINIMUM_HASHING } from '../server/src/modules/identity/passwords.js';

/** What the child tells the parent once both servers listen. */
export interface ServerReady {
  readonly type: 'ready';
  readonly appUrl: string;
  readonly bareUrl: string;
  readonly origin: string;
  readonly engine: string;
  readonly email: string;
  readonly password: string;
  readonly argon2: string;
}

const BENCH_EMAIL = 'bench.patient@example.org';
const BENCH_PASSWORD = 'correct horse battery staple 42';
/** Huge limits: the benchmark measures the limiter's cost, not its refusals. */
const UNLIMITED = '9999999/60';

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

async function seedPatient(database: Database): Promise<string> {
  const row = await database.db
    .insertInto('users')
    .values({
      email: BENCH_EMAIL,
      email_normalized: BENCH_EMAIL,
      display_name: 'Bench Patient',
      status: 'active',
      roles: ['patient'],
      password_hash: await hashPassword(BENCH_PASSWORD, MINIMUM_HASHING),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The same indexed query as GET /api/auth/me, with no hooks, plugins or schemas around it. */
function buildBareApp(database: Database, userId: string): FastifyInstance {
  const bare = Fastify({ logger: false });
  bare.get('/bare', async () => {
    const user = await database.db
      .selectFrom('users')
      .select(['id', 'email', 'display_name', 'roles'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!user) throw new Error('bench user missing');
    return { user };
  });
  return bare;
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('identity-server.ts runs as a child of identity.bench.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'haven-bench-'));
  const rates = Object.fromEntries(
    RATE_CLASSES.map((rateClass) => [`HAVEN_RATE_${rateClass.toUpperCase()}`, UNLIMITED]),
  );
  const config = loadConfig({
    HAVEN_ENV: 'test',
    HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
    HAVEN_LOG_LEVEL: 'silent',
    HAVEN_DATA_DIR: dataDir,
    HAVEN_WEB_DIR: join(tmpdir(), 'haven-no-web'),
    HAVEN_EMBEDDED_WORKER: 'false',
    DATABASE_URL: process.env.DATABASE_URL,
    ...rates,
  });
  const { database, drop } = await openBenchDatabase(dataDir);
  const userId = await seedPatient(database);
  const app = await buildApp(config, { database });
  const bare = buildBareApp(database, userId);
  const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await bare.close();
    await app.close();
    await database.close();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on('message', (message) => {
    if (message !== 'stop') return;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
  // If the parent dies, do not linger holding ports and temp files.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));

  const { argon2MemoryKib, argon2TimeCost } = config.identity;
  const ready: ServerReady = {
    type: 'ready',
    appUrl,
    bareUrl,
    origin: config.publicOrigin,
    engine: database.engine === 'pglite' ? 'PGlite (embedded, one connection)' : 'PostgreSQL',
    email: BENCH_EMAIL,
    password: BENCH_PASSWORD,
    argon2: `argon2id m=${argon2MemoryKib} KiB, t=${argon2TimeCost}, p=${MINIMUM_HASHING.parallelism}`,
  };
  process.send?.(ready);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
