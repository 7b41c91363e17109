// The stack's own CPU cost per request, without sockets or a load generator: builds the same
// app and bare route as identity-server.ts, then calls GET /api/auth/me and GET /bare through
// app.inject() in alternating blocks, timing each block's CPU (process.cpuUsage, every thread)
// and printing the median µs per request of each and their difference. Sockets and the client
// cost both routes the same and are left out, and the median of many short alternating blocks
// holds steady on a machine others are using, where the req/s of identity.bench.ts does not
// (for measuring one change to the request path against the next; not a benchmark target).
//   node --import tsx bench/overhead.ts             (DATABASE_URL=… for PostgreSQL)
// OVERHEAD_BLOCKS (default 40) blocks of OVERHEAD_REQUESTS (default 300) requests per route
// and log level; BENCH_LOG_LEVEL picks one level (default: info, then silent).
import './allocator.js'; // first: the glibc malloc settings Haven is deployed with
import { createBenchServers } from './identity-server.js';

const BLOCKS = Number(process.env.OVERHEAD_BLOCKS ?? 40);
const REQUESTS = Number(process.env.OVERHEAD_REQUESTS ?? 300);
/** Requests in flight at once, as the 10 connections of the throughput rows. */
const IN_FLIGHT = 10;

type Call = () => Promise<void>;

async function block(call: Call): Promise<number> {
  const start = process.cpuUsage();
  let left = REQUESTS;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (left-- > 0) await call();
    }),
  );
  const used = process.cpuUsage(start);
  return (used.user + used.system) / REQUESTS;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function main(): Promise<void> {
  const servers = await createBenchServers();
  const { app, bare, logger, config } = servers;
  try {
    await app.ready();
    await bare.ready();
    const signIn = await app.inject({
      method: 'POST',
      url: '/api/auth/session',
      headers: { 'content-type': 'application/json', origin: config.publicOrigin },
      payload: { email: 'bench.patient@example.org', password: 'correct horse battery staple 42' },
    });
    const cookie = signIn.cookies.find((c) => c.name === '__Host-haven_at');
    if (signIn.statusCode !== 200 || !cookie) throw new Error(`login: HTTP ${signIn.statusCode}`);
    const expectOk = (statusCode: number): void => {
      if (statusCode !== 200) throw new Error(`a request answered ${statusCode}`);
    };
    const me: Call = async () =>
      expectOk(
        (
          await app.inject({
            method: 'GET',
            url: '/api/auth/me',
            headers: { cookie: `__Host-haven_at=${cookie.value}` },
          })
        ).statusCode,
      );
    const bareRoute: Call = async () =>
      expectOk((await bare.inject({ method: 'GET', url: '/bare' })).statusCode);

    const levels = process.env.BENCH_LOG_LEVEL ? [process.env.BENCH_LOG_LEVEL] : ['info', 'silent'];
    console.log(
      `engine ${servers.database.engine}; ${BLOCKS} alternating blocks of ${REQUESTS} requests, ${IN_FLIGHT} in flight; CPU µs per request (median)`,
    );
    for (const level of levels) {
      logger.level = level;
      for (let i = 0; i < 5; i++) await Promise.all([block(me), block(bareRoute)]); // warm-up
      const meRuns: number[] = [];
      const bareRuns: number[] = [];
      for (let i = 0; i < BLOCKS; i++) {
        meRuns.push(await block(me));
        bareRuns.push(await block(bareRoute));
      }
      const m = median(meRuns);
      const b = median(bareRuns);
      console.log(
        `logs ${level.padEnd(6)}  /me ${m.toFixed(1)}  bare ${b.toFixed(1)}  difference ${(m - b).toFixed(1)}  bare ÷ /me ${(b / m).toFixed(2)}`,
      );
    }
  } finally {
    await servers.close();
  }
}

await main();
