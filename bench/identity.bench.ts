// Identity performance benchmarks (informational; not part of npm test). Every ratio is
// measured within this one run on this machine, so the machines' speed cancels out.
//   node --import tsx bench/identity.bench.ts        (or: npm run bench)
// BENCH_SECONDS sets the length of each measured phase (default 8). DATABASE_URL selects
// PostgreSQL (a fresh database is created and dropped); otherwise embedded PGlite.
import { mallocSettings } from './allocator.js'; // first: the glibc malloc settings Haven is deployed with
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import type { ServerReady } from './identity-server.js';
import {
  accessCookie,
  argon2VerifiesPerSecond,
  load,
  loginOptions,
  notes,
  type LoadOptions,
  type LoadResult,
  type Target,
} from './load.js';
import {
  accessTokenVerifyCost,
  logLineCost,
  rateLimitHookCost,
  revocationCheckCost,
} from './micro.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const POOL = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
/** Latency probe: a steady, modest rate so p99 shows waiting, not the probe's own queue. */
const PROBE = { connections: 4, overallRate: 200 } as const;
/** Throughput runs: enough connections to keep the server busy. */
const THROUGHPUT_CONNECTIONS = 10;
/**
 * Alternating /me and bare rounds per pairing (BENCH_ROUNDS, default 2). More rounds of the same
 * total length let a burst of other work on the machine fall on both routes alike.
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 2));
/** BENCH_ONLY=login,flood,throughput,micro runs just those rows (default: all). */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'login,flood,throughput,micro').split(','));

interface Row {
  readonly measure: string;
  readonly target: string;
  readonly measured: string;
  /** Undefined for informational rows without a target. */
  readonly pass: boolean | undefined;
}

function startServer(): Promise<{ child: ChildProcess; ready: ServerReady }> {
  const child = fork(new URL('./identity-server.ts', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited early (code ${code})`)));
    child.on('message', (message: ServerReady) => {
      if (message.type === 'ready') resolve({ child, ready: message });
    });
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.removeAllListeners('exit');
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send('stop');
  });
}

const fixed = (value: number, digits = 2): string => value.toFixed(digits);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
function step(text: string): void {
  process.stdout.write(`  · ${text}\n`);
}

async function meRun(target: Target, extra: Partial<{ overallRate: number }>, seconds: number) {
  const cookie = await accessCookie(target); // access tokens live 5 minutes: fetch a fresh one
  return load('GET /api/auth/me', {
    url: `${target.appUrl}/api/auth/me`,
    seconds,
    connections: extra.overallRate ? PROBE.connections : THROUGHPUT_CONNECTIONS,
    headers: { cookie },
    ...extra,
  });
}

interface CpuReading {
  /** The bench server process (every thread: the event loop, libuv's pool with argon2). */
  readonly server: number;
  /** The PostgreSQL backends serving the bench database (NaN on PGlite). */
  readonly database: number;
  /** This process: autocannon. */
  readonly loadGenerator: number;
}

/** CPU time (µs) used so far by the server, its database backends and this process. */
function cpuNow(child: ChildProcess): Promise<CpuReading> {
  return new Promise((resolve) => {
    const listener = (message: { type: string; micros?: number; dbMicros?: number }): void => {
      if (message.type !== 'cpu') return;
      child.off('message', listener);
      const own = process.cpuUsage();
      resolve({
        server: message.micros ?? Number.NaN,
        database: message.dbMicros ?? Number.NaN,
        loadGenerator: own.user + own.system,
      });
    };
    child.on('message', listener);
    child.send('cpu');
  });
}

function cpuSince(before: CpuReading, after: CpuReading, count: number): CpuReading {
  return {
    server: (after.server - before.server) / count,
    database: (after.database - before.database) / count,
    loadGenerator: (after.loadGenerator - before.loadGenerator) / count,
  };
}

async function loginVsArgon2(target: Target, child: ChildProcess): Promise<Row[]> {
  step(`raw argon2.verify, ${POOL} in flight, ${SECONDS}s`);
  const raw = await argon2VerifiesPerSecond(POOL, SECONDS);
  step(`POST /api/auth/session, ${POOL} connections, warm-up 2s + ${SECONDS}s`);
  await load('login warm-up', loginOptions(target, 2, POOL));
  const before = await cpuNow(child);
  const login = await load('POST /api/auth/session', loginOptions(target, SECONDS, POOL));
  const cpu = cpuSince(before, await cpuNow(child), login.requests);
  const ratio = login.perSecond / raw.perSecond;
  // Where a login's CPU goes, in ms: the hash (as priced by the raw run), the rest of the
  // server's work, the database's, the load generator's. On 2 cores every ms of it is taken
  // from argon2, so argon2's share of the total is the ratio a CPU-bound login could reach.
  const ms = (micros: number): string => fixed(micros / 1000, 2);
  const argon2 = raw.cpuMicrosPerVerify;
  const rest = cpu.server - argon2;
  const database = Number.isNaN(cpu.database) ? 0 : cpu.database;
  const share = argon2 / (argon2 + rest + database + cpu.loadGenerator);
  return [
    {
      measure: `Login req/s ÷ argon2id verify/s (concurrency ${POOL})`,
      target: '≥ 0.90',
      measured: `${fixed(ratio)}  (${fixed(login.perSecond, 1)} vs ${fixed(raw.perSecond, 1)}/s)`,
      pass: ratio >= 0.9,
    },
    {
      measure: '(info) CPU per login: argon2 share',
      target: '—',
      measured:
        `${fixed(share)}  (ms: argon2 ${ms(argon2)}, rest of server ${ms(rest)}, ` +
        `${Number.isNaN(cpu.database) ? 'database in-process' : `PostgreSQL ${ms(database)}`}, ` +
        `autocannon ${ms(cpu.loadGenerator)})`,
      pass: undefined,
    },
  ];
}

async function meLatencyUnderFlood(target: Target): Promise<Row> {
  const rate = { overallRate: PROBE.overallRate };
  step(`GET /api/auth/me alone at ${PROBE.overallRate} req/s, ${SECONDS}s`);
  const alone = await meRun(target, rate, SECONDS);
  step(`GET /api/auth/me at ${PROBE.overallRate} req/s during a login flood (${POOL} conns)`);
  const cookie = await accessCookie(target);
  const flood = load('login flood', loginOptions(target, SECONDS + 2, POOL));
  await sleep(1_000); // let the flood fill the thread pool first
  const during: LoadResult = await load('GET /api/auth/me during flood', {
    url: `${target.appUrl}/api/auth/me`,
    seconds: SECONDS,
    connections: PROBE.connections,
    headers: { cookie },
    overallRate: PROBE.overallRate,
  });
  const floodResult = await flood;
  return {
    measure: 'p99 GET /api/auth/me during login flood',
    target: '< 50 ms',
    measured:
      `${fixed(during.p99Ms, 1)} ms  (p50 ${fixed(during.p50Ms, 1)}; alone p99 ` +
      `${fixed(alone.p99Ms, 1)}; flood ${fixed(floodResult.perSecond, 1)} logins/s)`,
    pass: during.p99Ms < 50,
  };
}

/**
 * Sets the app's log level and the bare route's (its per-request loggers follow at once);
 * the bare route stays silent unless asked.
 */
function setLogLevel(child: ChildProcess, level: string, bareLevel = 'silent'): Promise<void> {
  return new Promise((resolve) => {
    const listener = (message: { type: string }): void => {
      if (message.type !== 'log-level-set') return;
      child.off('message', listener);
      resolve();
    };
    child.on('message', listener);
    child.send({ type: 'log-level', level, bareLevel });
  });
}

/** One pairing of log levels: the app's and the bare route's. */
interface LogPairing {
  readonly app: string;
  readonly bare: string;
  readonly label: string;
}

/**
 * /me against the bare route in three pairings: the app at 'info' (production's default: one
 * masked access line per request) against the bare route without a logger; both writing that
 * same access line, so the pair differs by the security stack alone; and both silent, as the
 * issue first measured it. BENCH_LOG_LEVEL=<level> runs just the app at that level against
 * a silent bare route.
 */
const LOG_PAIRINGS: readonly LogPairing[] = process.env.BENCH_LOG_LEVEL
  ? [
      {
        app: process.env.BENCH_LOG_LEVEL,
        bare: 'silent',
        label: `app logs at ${process.env.BENCH_LOG_LEVEL}`,
      },
    ]
  : [
      { app: 'info', bare: 'silent', label: 'request logs at info, bare route without' },
      { app: 'info', bare: 'info', label: 'the same access line on both' },
      { app: 'silent', bare: 'silent', label: 'no request logs' },
    ];

async function stackVsBare(
  target: Target,
  child: ChildProcess,
  serverLevel: string,
): Promise<Row[]> {
  const bareOptions = (seconds: number): LoadOptions => ({
    url: `${target.bareUrl}/bare`,
    seconds,
    connections: THROUGHPUT_CONNECTIONS,
  });
  const meOptions = async (seconds: number): Promise<LoadOptions> => ({
    url: `${target.appUrl}/api/auth/me`,
    seconds,
    connections: THROUGHPUT_CONNECTIONS,
    // Access tokens live 5 minutes: a fresh one per run, fetched before the CPU is read.
    headers: { cookie: await accessCookie(target) },
  });
  const rows: Row[] = [];
  for (const pairing of LOG_PAIRINGS) {
    await setLogLevel(child, pairing.app, pairing.bare);
    step(
      `throughput, ${pairing.label}, ${THROUGHPUT_CONNECTIONS} connections: ` +
        `warm-up 2s each, then ${ROUNDS} rounds`,
    );
    await load('GET /api/auth/me', await meOptions(2));
    await load('GET /bare', bareOptions(2));
    const totals = {
      me: { rates: [] as number[], cpu: 0, requests: 0 },
      bare: { rates: [] as number[], cpu: 0, requests: 0 },
    };
    // Each route gets SECONDS in all, split over the rounds.
    const roundSeconds = Math.max(1, Math.round(SECONDS / ROUNDS));
    const measure = async (kind: 'me' | 'bare', options: LoadOptions): Promise<void> => {
      const before = await cpuNow(child);
      const result = await load(kind === 'me' ? 'GET /api/auth/me' : 'GET /bare', options);
      totals[kind].cpu += (await cpuNow(child)).server - before.server;
      totals[kind].requests += result.requests;
      totals[kind].rates.push(result.perSecond);
    };
    for (let round = 0; round < ROUNDS; round += 1) {
      await measure('me', await meOptions(roundSeconds));
      await measure('bare', bareOptions(roundSeconds));
    }
    const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    const ratio = mean(totals.me.rates) / mean(totals.bare.rates);
    const cpuMe = totals.me.cpu / totals.me.requests;
    const cpuBare = totals.bare.cpu / totals.bare.requests;
    const logs = pairing.label;
    rows.push(
      {
        measure: `GET /api/auth/me req/s ÷ bare route req/s (${logs})`,
        target: '≥ 0.85',
        measured: `${fixed(ratio)}  (${fixed(mean(totals.me.rates), 0)} vs ${fixed(mean(totals.bare.rates), 0)}/s)`,
        pass: ratio >= 0.85,
      },
      {
        // Server CPU time per request is far less sensitive to other load on the machine than
        // req/s: it says what the stack costs when the load generator's share is taken out.
        measure: `  (info) server CPU per request, bare ÷ /me (${logs})`,
        target: '—',
        measured: `${fixed(cpuBare / cpuMe)}  (${fixed(cpuMe, 0)} vs ${fixed(cpuBare, 0)} µs)`,
        pass: undefined,
      },
    );
  }
  await setLogLevel(child, serverLevel);
  return rows;
}

async function perRequestChecks(): Promise<Row[]> {
  step('micro-benchmarks: revocation check, rate-limit hook, access-token verify, log line');
  const revocation = await revocationCheckCost();
  const rateLimit = await rateLimitHookCost();
  const jwt = await accessTokenVerifyCost();
  const logLine = await logLineCost();
  const total = revocation.microseconds + rateLimit.microseconds;
  const us = (value: number): string => `${fixed(value, 3)} µs`;
  return [
    {
      measure: '  revocation check per request',
      target: '(part of)',
      measured: `${us(revocation.microseconds)}  (${revocation.detail})`,
      pass: revocation.microseconds < 100,
    },
    {
      measure: '  rate-limit hook per request',
      target: '(part of)',
      measured: `${us(rateLimit.microseconds)}  (${rateLimit.detail})`,
      pass: rateLimit.microseconds < 100,
    },
    {
      measure: 'Revocation + rate limit per request',
      target: '< 100 µs',
      measured: us(total),
      pass: total < 100,
    },
    {
      measure: '(info) access-token verify per request',
      target: '—',
      measured: `${us(jwt.microseconds)}  (${jwt.detail})`,
      pass: undefined,
    },
    {
      measure: '(info) masked log line (createLogger)',
      target: '—',
      measured: `${fixed(logLine.microseconds, 1)} µs  (${logLine.detail})`,
      pass: undefined,
    },
  ];
}

function printTable(rows: readonly Row[]): void {
  const header: Row = { measure: 'Measure', target: 'Target', measured: 'Measured', pass: true };
  const width = (pick: (row: Row) => string): number =>
    Math.max(...[header, ...rows].map((row) => pick(row).length));
  const [w1, w2, w3] = [width((r) => r.measure), width((r) => r.target), width((r) => r.measured)];
  const line = (row: Row, verdict: string): string =>
    `${row.measure.padEnd(w1)} | ${row.target.padEnd(w2)} | ${row.measured.padEnd(w3)} | ${verdict}`;
  console.log(`\n${line(header, 'Result')}`);
  console.log('-'.repeat(w1 + w2 + w3 + 16));
  const verdict = (row: Row): string =>
    row.pass === undefined ? 'info' : row.pass ? 'PASS' : 'MISS';
  for (const row of rows) console.log(line(row, verdict(row)));
}

async function main(): Promise<void> {
  const { child, ready } = await startServer();
  const target: Target = ready;
  console.log('Haven identity benchmarks (informational; exit code is 0 either way)');
  console.log(
    `  engine: ${ready.engine} · node ${process.version} · ${availableParallelism()} cores · ${mallocSettings} · ` +
      `UV_THREADPOOL_SIZE ${POOL} · ${ready.argon2} · ${SECONDS}s phases · ` +
      `log level ${ready.logLevel}`,
  );
  console.log(`  app ${ready.appUrl} · bare ${ready.bareUrl} · load: autocannon, separate process`);
  const loadBefore = loadavg()[0]?.toFixed(2) ?? '?';
  const rows: Row[] = [];
  try {
    if (ONLY.has('login')) rows.push(...(await loginVsArgon2(target, child)));
    if (ONLY.has('flood')) rows.push(await meLatencyUnderFlood(target));
    if (ONLY.has('throughput')) rows.push(...(await stackVsBare(target, child, ready.logLevel)));
  } finally {
    await stopServer(child);
  }
  if (ONLY.has('micro')) rows.push(...(await perRequestChecks()));
  printTable(rows);
  console.log(`\nMachine load average (1 min) before the run: ${loadBefore}.`);
  if (Number(loadBefore) > availableParallelism() / 2) {
    notes.push('the machine was already busy before the run: figures are pessimistic');
  }
  if (notes.length > 0) {
    console.log('\nWarnings (figures built on failed requests are suspect):');
    for (const note of notes) console.log(`  - ${note}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
