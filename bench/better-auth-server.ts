// Server side of better-auth.bench.ts, run as a forked child: better-auth (email and
// password, its own Kysely PostgreSQL adapter over a pg Pool) on node:http, in a fresh
// database beside DATABASE_URL's, with password hashing set to Haven's argon2id at
// MINIMUM_HASHING (Haven's own hashPassword/verifyPassword, so the same cost and the same
// one-job-per-core limit). Seeds one user and reports over IPC.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Client as PgClient, Pool as PgPool } from 'pg';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import {
  MINIMUM_HASHING,
  hashPassword,
  verifyPassword,
} from '../server/src/modules/identity/index.js';

/** What the child tells the parent once it listens. */
export interface BetterAuthReady {
  readonly type: 'ready';
  readonly url: string;
  readonly origin: string;
  readonly email: string;
  readonly password: string;
  readonly version: string;
}

// pg is CommonJS; loaded this way it stays typed under every setting bench files are linted with.
const pg = createRequire(import.meta.url)('pg') as { Client: typeof PgClient; Pool: typeof PgPool };

const EMAIL = 'bench.patient@example.org';
const PASSWORD = 'correct horse battery staple 42';
/** Clock ticks per second in /proc/<pid>/stat (Linux USER_HZ). */
const CLOCK_TICKS_PER_SECOND = 100;

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Last CPU reading (ticks) of every backend seen: a closed pool connection keeps its share. */
const backendTicks = new Map<number, number>();

/** CPU time (µs) of the PostgreSQL backends serving this pool's database, from /proc. */
async function databaseCpu(pool: PgPool): Promise<number> {
  const { rows } = await pool.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database()',
  );
  for (const { pid } of rows) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
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

async function main(): Promise<void> {
  const baseUrl = process.env.DATABASE_URL;
  if (!process.send || !baseUrl) {
    throw new Error('better-auth-server.ts runs as a child of better-auth.bench.ts');
  }
  const name = `better_auth_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(baseUrl, `CREATE DATABASE ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  // The same pool size as Haven's (platform/db/database.ts).
  const pool = new pg.Pool({ connectionString: url.toString(), max: 10 });

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = betterAuth({
    database: pool,
    baseURL: origin,
    trustedOrigins: [origin],
    secret: randomBytes(32).toString('base64'),
    emailAndPassword: {
      enabled: true,
      password: {
        hash: (password) => hashPassword(password, MINIMUM_HASHING),
        verify: ({ hash, password }) => verifyPassword(hash, password),
      },
    },
    // Like Haven's bench: every request counted by the limiter, none refused (sign-in has a
    // built-in stricter rule, 3 per 10 s, lifted the same way).
    rateLimit: {
      enabled: true,
      window: 60,
      max: 9_999_999,
      customRules: { '/sign-in/*': { window: 60, max: 9_999_999 } },
    },
    telemetry: { enabled: false },
    logger: { level: 'error' },
  });
  const { runMigrations } = await getMigrations(auth.options);
  await runMigrations();
  await auth.api.signUpEmail({ body: { email: EMAIL, password: PASSWORD, name: 'Bench Patient' } });
  const handle = toNodeHandler(auth);
  let inFlight = 0;
  server.on('request', (request, response) => {
    inFlight += 1;
    void handle(request, response).finally(() => (inFlight -= 1));
  });

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    // Handlers still running (their sockets are gone) finish before the pool closes.
    for (let waited = 0; inFlight > 0 && waited < 5_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await pool.end();
    await adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      void databaseCpu(pool).then((dbMicros) =>
        process.send?.({ type: 'cpu', micros: user + system, dbMicros }),
      );
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
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));

  const packageJson = JSON.parse(
    readFileSync(new URL('../node_modules/better-auth/package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  const ready: BetterAuthReady = {
    type: 'ready',
    url: origin,
    origin,
    email: EMAIL,
    password: PASSWORD,
    version: packageJson.version,
  };
  process.send(ready);
}

if (process.send) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
