// OAuth benchmarks (issue 12 phase 1, A12; informational, not part of npm test). A machine
// client's work against the same read with a Haven session token, measured in this one run on
// this machine, so the machine's speed cancels out:
//   - client-credentials token issuance (POST /oauth/token through oidc-provider) req/s
//   - an audit:read API read with the client's access token req/s (the token verified like a
//     session's, plus clientTokenChecks' one indexed query for disabled client and revocation)
// each divided by GET /api/admin/audit-events/actions (one indexed query) with an
// administrator's session access token. Target ≥ 0.9 for both.
//   node --import tsx bench/oauth.bench.ts        (or: npm run bench)
// BENCH_SECONDS sets each measured phase (default 8). DATABASE_URL selects PostgreSQL (a fresh
// database is created and dropped); otherwise embedded PGlite.
import './allocator.js'; // first: the glibc malloc settings Haven is deployed with
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { load, notes, type LoadOptions } from './load.js';
import type { InjectCost, OAuthReady, SessionToken } from './oauth-server.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARM_UP_SECONDS = 2;
/** Enough connections to keep the server busy, as identity.bench.ts's throughput rows. */
const CONNECTIONS = 10;
/** Alternating rounds per measure; their mean is reported. */
const ROUNDS = 2;
const TARGET = 0.9;
const READ_PATH = '/api/admin/audit-events/actions';
const TOKEN_FORM = 'grant_type=client_credentials&scope=audit%3Aread';

function startServer(): Promise<{ child: ChildProcess; ready: OAuthReady }> {
  // BENCH_SERVER_FLAGS: more Node flags for the server alone, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p".
  const serverFlags = process.env.BENCH_SERVER_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = fork(new URL('./oauth-server.ts', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...serverFlags],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server exited early (code ${code})`)));
    child.on('message', (message: OAuthReady) => {
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

/** A fresh session access token of the bench administrator, minted by the server. */
function sessionAuthorization(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    const listener = (message: SessionToken) => {
      if (message.type !== 'session') return;
      child.off('message', listener);
      resolve(message.authorization);
    };
    child.on('message', listener);
    child.send('session');
  });
}

/** The server's own time per read with each token, through app.inject (see oauth-server.ts). */
async function injectCost(child: ChildProcess, ready: OAuthReady): Promise<InjectCost> {
  const client = await clientAuthorization(ready);
  return new Promise((resolve) => {
    const listener = (message: InjectCost) => {
      if (message.type !== 'inject-cost') return;
      child.off('message', listener);
      resolve(message);
    };
    child.on('message', listener);
    child.send({ type: 'inject-cost', path: READ_PATH, client });
  });
}

const basic = (ready: OAuthReady): string =>
  `Basic ${Buffer.from(`${ready.clientId}:${ready.clientSecret}`).toString('base64')}`;

/** One client-credentials token, as a machine client would fetch it. */
async function clientAuthorization(ready: OAuthReady): Promise<string> {
  const response = await fetch(`${ready.appUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(ready) },
    body: TOKEN_FORM,
  });
  const body = (await response.json()) as { access_token?: string };
  if (response.status !== 200 || !body.access_token) {
    throw new Error(`token request failed: HTTP ${response.status}`);
  }
  return `Bearer ${body.access_token}`;
}

type Measure = 'session read' | 'client read' | 'token issuance';

/** The load of one measure; the tokens are fetched fresh (they live 5 minutes). */
async function optionsFor(
  measure: Measure,
  ready: OAuthReady,
  child: ChildProcess,
  seconds: number,
): Promise<LoadOptions> {
  const base = { seconds, connections: CONNECTIONS };
  if (measure === 'token issuance') {
    return {
      ...base,
      url: `${ready.appUrl}/oauth/token`,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: basic(ready),
      },
      body: TOKEN_FORM,
    };
  }
  const authorization =
    measure === 'session read'
      ? await sessionAuthorization(child)
      : await clientAuthorization(ready);
  return { ...base, url: `${ready.appUrl}${READ_PATH}`, headers: { authorization } };
}

const MEASURES: readonly Measure[] = ['session read', 'client read', 'token issuance'];

async function main(): Promise<void> {
  const { child, ready } = await startServer();
  console.log('Haven OAuth benchmarks (informational; exit code is 0 either way)');
  console.log(
    `  engine: ${ready.engine} · node ${process.version} · ${availableParallelism()} cores · ` +
      `${SECONDS}s phases × ${ROUNDS} rounds · ${CONNECTIONS} connections · load: autocannon, separate process`,
  );
  const loadBefore = loadavg()[0]?.toFixed(2) ?? '?';
  const totals = new Map<Measure, number[]>(MEASURES.map((m) => [m, []]));
  let cost: InjectCost | undefined;
  try {
    for (const measure of MEASURES) {
      await load(`warm-up ${measure}`, await optionsFor(measure, ready, child, WARM_UP_SECONDS));
    }
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const measure of MEASURES) {
        const result = await load(measure, await optionsFor(measure, ready, child, SECONDS));
        totals.get(measure)?.push(result.perSecond);
        process.stdout.write(
          `  · round ${round} ${measure}: ${result.perSecond.toFixed(0)} req/s ` +
            `(p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms)\n`,
        );
      }
    }
    cost = await injectCost(child, ready);
  } finally {
    await stopServer(child);
  }
  const mean = (measure: Measure): number => {
    const values = totals.get(measure) ?? [];
    return values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
  };
  const session = mean('session read');
  console.log(`\nGET ${READ_PATH} with a session token: ${session.toFixed(0)} req/s (baseline)`);
  for (const [measure, label] of [
    ['client read', `GET ${READ_PATH} with a client-credentials token`],
    ['token issuance', 'POST /oauth/token (client credentials, Basic)'],
  ] as const) {
    const ratio = mean(measure) / session;
    console.log(
      `${ratio >= TARGET ? 'PASS' : 'MISS'}  ${label}: ${mean(measure).toFixed(0)} req/s, ` +
        `÷ session read = ${ratio.toFixed(2)} (target ≥ ${TARGET})`,
    );
  }
  if (cost) {
    console.log(
      `info  server time per read through app.inject (median of 7 × 200): session token ` +
        `${cost.sessionMicros.toFixed(0)} µs, client token ${cost.clientMicros.toFixed(0)} µs ` +
        `(difference ${(cost.clientMicros - cost.sessionMicros).toFixed(0)} µs; a client token adds clientTokenChecks, one query per token per 500 ms per node)`,
    );
  }
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
