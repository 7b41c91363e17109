// Server side of identity.bench.ts, run as a forked child so the load generator does not
// share the server's event loop. Starts the real Haven app and a bare Fastify route on
// 127.0.0.1 over one database handle, seeds a patient (no MFA) and reports over IPC.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session, type Profiler } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { pino, type DestinationStream, type Logger } from 'pino';
import { buildApp } from '../server/src/app.js';
import { loadConfig, RATE_CLASSES, type HavenConfig } from '../server/src/config.js';
import { openDatabase, type Database } from '../server/src/platform/db/database.js';
import { bufferedLogDestination, createLogger } from '../server/src/platform/logging.js';
import { installAccessLog } from '../server/src/platform/http/access-log.js';
import { migrateToLatest } from '../server/src/platform/db/migrate.js';
import { hashPassword, MINIMUM_HASHING } from '../server/src/modules/identity/index.js';

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
  readonly logLevel: string;
}

const BENCH_EMAIL = 'bench.patient@example.org';
const BENCH_PASSWORD = 'correct horse battery staple 42';
/** Huge limits: the benchmark measures the limiter's cost, not its refusals. */
const UNLIMITED = '9999999/60';
/**
 * Production's default level, so every request pays for its log line (app.ts's "request
 * completed") and its masking, as it would in production. The lines go to /dev/null through
 * the real createLogger. identity.bench.ts
 * switches the level at run time (message { type: 'log-level' }) to measure without them too.
 */
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

interface LogLevelMessage {
  readonly type: 'log-level';
  /** The app's level. */
  readonly level: string;
  /** The bare route's level: 'silent' (no logger, as the issue measured) or the app's. */
  readonly bareLevel?: string;
}

function isLogLevelMessage(message: unknown): message is LogLevelMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'log-level' &&
    typeof (message as { level?: unknown }).level === 'string'
  );
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Last CPU reading (ticks) of every backend seen: a closed pool connection keeps its share. */
const backendTicks = new Map<number, number>();

/**
 * CPU time (µs) the PostgreSQL backends connected to this database have used, from
 * /proc/<pid>/stat (the server runs on this machine); NaN on PGlite or without /proc.
 */
async function databaseCpu(database: Database): Promise<number> {
  if (database.engine !== 'postgres') return Number.NaN;
  const { rows } = await sql<{ pid: number }>`
    select pid from pg_stat_activity where datname = current_database()`.execute(database.db);
  for (const { pid } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after "(comm) ": state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      backendTicks.set(pid, Number(fields[11]) + Number(fields[12]));
    } catch {
      return Number.NaN;
    }
  }
  let ticks = 0;
  backendTicks.forEach((value) => (ticks += value));
  return (ticks * 1e6) / CLOCK_TICKS_PER_SECOND;
}

/**
 * The same indexed query as GET /api/auth/me, with no hooks, plugins or schemas around it but,
 * when its logger's level allows, the same access line the app writes (installAccessLog through
 * the real createLogger): the pair then differs by the security stack alone.
 */
function buildBareApp(database: Database, userId: string, logger: Logger): FastifyInstance {
  const bare = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  installAccessLog(bare);
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

/** tsx compiles each file to one line: point our frames back at the TypeScript source. */
function originalPositions(profile: Profiler.Profile): void {
  for (const node of profile.nodes) {
    const frame = node.callFrame;
    if (!frame.url.startsWith('file://') || frame.url.includes('/node_modules/')) continue;
    const entry = findSourceMap(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
    if (entry && 'originalLine' in entry) {
      frame.lineNumber = entry.originalLine;
      frame.columnNumber = entry.originalColumn;
    }
  }
}

export interface BenchServers {
  readonly app: FastifyInstance;
  readonly bare: FastifyInstance;
  readonly database: Database;
  readonly config: HavenConfig;
  readonly logger: Logger;
  readonly bareLogger: Logger;
  readonly close: () => Promise<void>;
}

/** The real app and the bare route over one fresh database, not listening yet. */
export async function createBenchServers(): Promise<BenchServers> {
  const dataDir = mkdtempSync(join(tmpdir(), 'haven-bench-'));
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
  const userId = await seedPatient(database);
  // Written the way production writes: `haven serve` logs through bufferedLogDestination (lines
  // gathered into one write of about 4 KiB, or after 100 ms). BENCH_LOG_SYNC=1 writes every
  // line with its own synchronous write(2), as earlier runs did.
  const destination = (dest: string): DestinationStream =>
    process.env.BENCH_LOG_SYNC === '1'
      ? pino.destination({ dest, sync: true })
      : bufferedLogDestination(dest);
  const logger = createLogger({
    level: LOG_LEVEL,
    destination: destination(process.env.BENCH_LOG_FILE ?? '/dev/null'),
  });
  const app = await buildApp(config, { database, logger });
  // Its own logger, silent unless identity.bench.ts asks for the access line on both.
  const bareLogger = createLogger({ level: 'silent', destination: destination('/dev/null') });
  const bare = buildBareApp(database, userId, bareLogger);
  const close = async (): Promise<void> => {
    await bare.close();
    await app.close();
    await database.close();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { app, bare, database, config, logger, bareLogger, close };
}

async function main(): Promise<void> {
  const { app, bare, database, config, logger, bareLogger, close } = await createBenchServers();
  const appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await close();
  };
  // profile.ts: a CPU profile of just the load phase (not start-up or seeding).
  let profiler: Session | undefined;
  process.on('message', (message: unknown) => {
    if (isLogLevelMessage(message)) {
      // Request loggers are children made per request, so they take the new level at once.
      logger.level = message.level;
      bareLogger.level = message.bareLevel ?? 'silent';
      process.send?.({ type: 'log-level-set', level: logger.level });
      return;
    }
    if (message === 'cpu') {
      // identity.bench.ts: CPU time this process used (every thread) and the database's
      // backends used, to price a request.
      const { user, system } = process.cpuUsage();
      void databaseCpu(database).then((dbMicros) =>
        process.send?.({ type: 'cpu', micros: user + system, dbMicros }),
      );
      return;
    }
    if (message === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      void profiler
        .post('Profiler.enable')
        .then(() => profiler?.post('Profiler.setSamplingInterval', { interval: 100 }))
        .then(() => profiler?.post('Profiler.start'))
        .then(() => process.send?.({ type: 'profiling' }));
      return;
    }
    if (message === 'profile-stop' && profiler) {
      const session = profiler;
      void session.post('Profiler.stop').then(({ profile }) => {
        session.disconnect();
        originalPositions(profile);
        process.send?.({ type: 'profile', profile: JSON.stringify(profile) });
      });
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
    logLevel: LOG_LEVEL,
  };
  process.send?.(ready);
}

// Forked by identity.bench.ts / profile.ts (with an IPC channel); imported, it only exports.
if (process.send) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
