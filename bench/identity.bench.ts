// Identity performance benchmarks (informational; not part of npm test). Every ratio is
// measured within this one run on this machine, so the machines' speed cancels out.
//   node --import tsx bench/identity.bench.ts        (or: npm run bench)
// BENCH_SECONDS sets the length of each measured phase (default 8). DATABASE_URL selects
// PostgreSQL (a fresh database is created and dropped); otherwise embedded PGlite.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import type { ServerReady } from './identity-server.js';
import {
  accessCookie,
  argon2VerifiesPerSecond,
  load,
  loginOptions,
  notes,
  type LoadResult,
  type Target,
} from './load.js';
import { accessTokenVerifyCost, rateLimitHookCost, revocationCheckCost } from './micro.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const POOL = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
/** Latency probe: a steady, modest rate so p99 shows waiting, not the probe's own queue. */
const PROBE = { connections: 4, overallRate: 200 } as const;
/** Throughput runs: enough connections to keep the server busy. */
const THROUGHPUT_CONNECTIONS = 10;

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

async function loginVsArgon2(target: Target): Promise<Row> {
  step(`raw argon2.verify, ${POOL} in flight, ${SECONDS}s`);
  const raw = await argon2VerifiesPerSecond(POOL, SECONDS);
  step(`POST /api/auth/session, ${POOL} connections, warm-up 2s + ${SECONDS}s`);
  await load('login warm-up', loginOptions(target, 2, POOL));
  const login = await load('POST /api/auth/session', loginOptions(target, SECONDS, POOL));
  const ratio = login.perSecond / raw;
  return {
    measure: `Login req/s ÷ argon2id verify/s (concurrency ${POOL})`,
    target: '≥ 0.90',
    measured: `${fixed(ratio)}  (${fixed(login.perSecond, 1)} vs ${fixed(raw, 1)}/s)`,
    pass: ratio >= 0.9,
  };
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

async function stackVsBare(target: Target): Promise<Row> {
  const bare = (seconds: number): Promise<LoadResult> =>
    load('GET /bare', {
      url: `${target.bareUrl}/bare`,
      seconds,
      connections: THROUGHPUT_CONNECTIONS,
    });
  step(`throughput, ${THROUGHPUT_CONNECTIONS} connections: warm-up 2s each, then 2 rounds`);
  await meRun(target, {}, 2);
  await bare(2);
  const me: number[] = [];
  const plain: number[] = [];
  const half = Math.max(2, Math.round(SECONDS / 2));
  for (let round = 0; round < 2; round += 1) {
    me.push((await meRun(target, {}, half)).perSecond);
    plain.push((await bare(half)).perSecond);
  }
  const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  const ratio = mean(me) / mean(plain);
  return {
    measure: 'GET /api/auth/me req/s ÷ bare route req/s',
    target: '≥ 0.85',
    measured: `${fixed(ratio)}  (${fixed(mean(me), 0)} vs ${fixed(mean(plain), 0)}/s)`,
    pass: ratio >= 0.85,
  };
}

async function perRequestChecks(): Promise<Row[]> {
  step('micro-benchmarks: revocation check, rate-limit hook, access-token verify');
  const revocation = await revocationCheckCost();
  const rateLimit = await rateLimitHookCost();
  const jwt = await accessTokenVerifyCost();
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
    `  engine: ${ready.engine} · node ${process.version} · ${availableParallelism()} cores · ` +
      `UV_THREADPOOL_SIZE ${POOL} · ${ready.argon2} · ${SECONDS}s phases`,
  );
  console.log(`  app ${ready.appUrl} · bare ${ready.bareUrl} · load: autocannon, separate process`);
  const loadBefore = loadavg()[0]?.toFixed(2) ?? '?';
  const rows: Row[] = [];
  try {
    rows.push(await loginVsArgon2(target));
    rows.push(await meLatencyUnderFlood(target));
    rows.push(await stackVsBare(target));
  } finally {
    await stopServer(child);
  }
  rows.push(...(await perRequestChecks()));
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
