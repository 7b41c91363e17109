// Haven side by side with better-auth (informational; not part of npm test). Needs
// PostgreSQL: without DATABASE_URL it prints "skipped" and exits 0.
//   DATABASE_URL=postgres://user@127.0.0.1/postgres node --import tsx bench/better-auth.bench.ts
// Both servers run at once as forked children, each on its own fresh database on the same
// PostgreSQL server, and the routes are measured in alternating rounds with the same
// autocannon settings, so both see the same machine load. Password hashing is the same on
// both sides: Haven's argon2id at MINIMUM_HASHING (better-auth is configured with Haven's
// hashPassword/verifyPassword). BENCH_SECONDS sets each phase (default 8).
import './allocator.js'; // first: the glibc malloc settings Haven is deployed with
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import type { BetterAuthReady } from './better-auth-server.js';
import type { ServerReady } from './identity-server.js';
import { accessCookie, load, loginOptions, notes, type LoadOptions } from './load.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const POOL = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
const READ_CONNECTIONS = 10;
const ROUNDS = 2;

interface Row {
  readonly measure: string;
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean | undefined;
}

interface Cpu {
  readonly server: number;
  readonly database: number;
}

function start<T extends { type: string }>(
  script: string,
): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(new URL(script, import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited early (code ${code})`)));
    child.on('message', (message: T) => {
      if (message.type === 'ready') resolve({ child, ready: message });
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
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

/** CPU µs used so far by a server process (every thread) and its database backends. */
function cpuOf(child: ChildProcess): Promise<Cpu> {
  return new Promise((resolve) => {
    const listener = (message: { type: string; micros?: number; dbMicros?: number }): void => {
      if (message.type !== 'cpu') return;
      child.off('message', listener);
      resolve({ server: message.micros ?? Number.NaN, database: message.dbMicros ?? Number.NaN });
    };
    child.on('message', listener);
    child.send('cpu');
  });
}

/** A better-auth session cookie from one sign-in. */
async function betterAuthCookie(ready: BetterAuthReady): Promise<string> {
  const response = await fetch(`${ready.url}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: ready.origin },
    body: JSON.stringify({ email: ready.email, password: ready.password }),
  });
  await response.arrayBuffer();
  const cookie = response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0] ?? '')
    .find((pair) => pair.startsWith('better-auth.session_token='));
  if (response.status !== 200 || !cookie) {
    throw new Error(`better-auth sign-in failed: HTTP ${response.status}`);
  }
  return cookie;
}

/** The body a route answers, after checking it is a signed-in answer for our user. */
async function bodyOf(url: string, cookie: string, email: string): Promise<string> {
  const response = await fetch(url, { headers: { cookie } });
  const body = await response.text();
  if (response.status !== 200 || !body.includes(email)) {
    throw new Error(`${url} did not answer with the session: HTTP ${response.status} ${body}`);
  }
  return body;
}

interface Side {
  readonly name: string;
  readonly child: ChildProcess;
  /** Fresh options for one run (a fresh session cookie for reads). */
  readonly options: () => Promise<LoadOptions>;
}

interface Measured {
  readonly perSecond: number;
  readonly cpu: Cpu;
}

/** Alternating rounds of a and b after a warm-up each; mean req/s and CPU per request. */
async function sideBySide(label: string, a: Side, b: Side): Promise<[Measured, Measured]> {
  const sides = [a, b];
  const totals = sides.map(() => ({ rates: [] as number[], server: 0, database: 0, requests: 0 }));
  for (const side of sides) {
    await load(`${side.name} ${label} warm-up`, { ...(await side.options()), seconds: 2 });
  }
  for (let round = 0; round < ROUNDS; round += 1) {
    for (let index = 0; index < sides.length; index += 1) {
      const side = sides[index] ?? a;
      const total = totals[index] ?? { rates: [], server: 0, database: 0, requests: 0 };
      const options = await side.options();
      const before = await cpuOf(side.child);
      const result = await load(`${side.name} ${label}`, options);
      const after = await cpuOf(side.child);
      total.rates.push(result.perSecond);
      total.server += after.server - before.server;
      total.database += after.database - before.database;
      total.requests += result.requests;
    }
  }
  const summary = (index: number): Measured => {
    const total = totals[index] ?? { rates: [Number.NaN], server: 0, database: 0, requests: 1 };
    return {
      perSecond: total.rates.reduce((x, y) => x + y, 0) / total.rates.length,
      cpu: { server: total.server / total.requests, database: total.database / total.requests },
    };
  };
  return [summary(0), summary(1)];
}

const fixed = (value: number, digits = 2): string => value.toFixed(digits);
const cpuText = (cpu: Cpu, unit: 'µs' | 'ms'): string => {
  const scale = unit === 'ms' ? 1000 : 1;
  const digits = unit === 'ms' ? 2 : 0;
  return `${fixed(cpu.server / scale, digits)} + ${fixed(cpu.database / scale, digits)} ${unit}`;
};

function printTable(rows: readonly Row[]): void {
  const header: Row = { measure: 'Measure', target: 'Target', measured: 'Measured', pass: true };
  const width = (pick: (row: Row) => string): number =>
    Math.max(...[header, ...rows].map((row) => pick(row).length));
  const [w1, w2, w3] = [width((r) => r.measure), width((r) => r.target), width((r) => r.measured)];
  const line = (row: Row, verdict: string): string =>
    `${row.measure.padEnd(w1)} | ${row.target.padEnd(w2)} | ${row.measured.padEnd(w3)} | ${verdict}`;
  console.log(`\n${line(header, 'Result')}`);
  console.log('-'.repeat(w1 + w2 + w3 + 16));
  for (const row of rows) {
    console.log(line(row, row.pass === undefined ? 'info' : row.pass ? 'PASS' : 'MISS'));
  }
}

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) {
    console.log(
      'better-auth comparison: skipped (needs DATABASE_URL: better-auth runs on PostgreSQL)',
    );
    return;
  }
  const loadBefore = loadavg()[0]?.toFixed(2) ?? '?';
  const haven = await start<ServerReady>('./identity-server.ts');
  const better = await start<BetterAuthReady>('./better-auth-server.ts');
  const rows: Row[] = [];
  try {
    console.log('Haven vs better-auth (informational; exit code is 0 either way)');
    console.log(
      `  PostgreSQL, a fresh database each · better-auth ${better.ready.version} · node ` +
        `${process.version} · ${availableParallelism()} cores · ${haven.ready.argon2} on both · ` +
        `Haven log level ${haven.ready.logLevel} · ${SECONDS}s phases, ${ROUNDS} alternating rounds`,
    );
    const havenRead: Side = {
      name: 'Haven',
      child: haven.child,
      options: async () => {
        const cookie = await accessCookie(haven.ready);
        const url = `${haven.ready.appUrl}/api/auth/me`;
        const expectBody = await bodyOf(url, cookie, haven.ready.email);
        return {
          url,
          seconds: SECONDS,
          connections: READ_CONNECTIONS,
          headers: { cookie },
          expectBody,
        };
      },
    };
    const betterRead: Side = {
      name: 'better-auth',
      child: better.child,
      options: async () => {
        const cookie = await betterAuthCookie(better.ready);
        const url = `${better.ready.url}/api/auth/get-session`;
        const expectBody = await bodyOf(url, cookie, better.ready.email);
        return {
          url,
          seconds: SECONDS,
          connections: READ_CONNECTIONS,
          headers: { cookie },
          expectBody,
        };
      },
    };
    process.stdout.write(`  · session-checked reads, ${READ_CONNECTIONS} connections\n`);
    const [havenMe, betterSession] = await sideBySide('read', havenRead, betterRead);
    const readRatio = havenMe.perSecond / betterSession.perSecond;
    rows.push({
      measure:
        'Session-checked read: Haven GET /api/auth/me ÷ better-auth GET /api/auth/get-session',
      target: '≥ 1.5',
      measured: `${fixed(readRatio)}  (${fixed(havenMe.perSecond, 0)} vs ${fixed(betterSession.perSecond, 0)}/s)`,
      pass: readRatio >= 1.5,
    });
    rows.push({
      measure: '(info) CPU per read, server + PostgreSQL: Haven vs better-auth',
      target: '—',
      measured: `${cpuText(havenMe.cpu, 'µs')} vs ${cpuText(betterSession.cpu, 'µs')}`,
      pass: undefined,
    });

    const havenLogin: Side = {
      name: 'Haven',
      child: haven.child,
      options: async () => loginOptions(haven.ready, SECONDS, POOL),
    };
    const betterLogin: Side = {
      name: 'better-auth',
      child: better.child,
      options: async () => ({
        url: `${better.ready.url}/api/auth/sign-in/email`,
        seconds: SECONDS,
        connections: POOL,
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: better.ready.origin },
        body: JSON.stringify({ email: better.ready.email, password: better.ready.password }),
      }),
    };
    process.stdout.write(`  · sign-ins, ${POOL} connections\n`);
    const [havenSignIn, betterSignIn] = await sideBySide('sign-in', havenLogin, betterLogin);
    const loginRatio = havenSignIn.perSecond / betterSignIn.perSecond;
    rows.push({
      measure: 'Sign-in: Haven POST /api/auth/session ÷ better-auth POST /api/auth/sign-in/email',
      target: '≥ 1.0',
      measured: `${fixed(loginRatio)}  (${fixed(havenSignIn.perSecond, 1)} vs ${fixed(betterSignIn.perSecond, 1)}/s)`,
      pass: loginRatio >= 1,
    });
    rows.push({
      measure: '(info) CPU per sign-in, server + PostgreSQL: Haven vs better-auth',
      target: '—',
      measured: `${cpuText(havenSignIn.cpu, 'ms')} vs ${cpuText(betterSignIn.cpu, 'ms')}`,
      pass: undefined,
    });
  } finally {
    await Promise.all([stop(haven.child), stop(better.child)]);
  }
  printTable(rows);
  console.log(`\nMachine load average (1 min) before the run: ${loadBefore}.`);
  if (Number(loadBefore) > availableParallelism() / 2) {
    notes.push('the machine was already busy before the run: figures are noisy');
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
