// Redis holds the shared rate-limit counters (R1). When it is away the limiter refuses rather
// than let requests through uncounted: 503 + Retry-After, probes excepted, and service resumes by
// itself when Redis is back. A Redis that stops answering without closing its connection (a hung
// or paused server, a path that drops packets) must be refused just as promptly: before the
// commands had a deadline, every request waited for the request timeout and lost its socket.
// Real processes: a private redis-server this file starts and pauses, and two `haven serve` nodes
// on a private PostgreSQL. Runs in the PostgreSQL and Redis pass (DATABASE_URL and REDIS_URL set).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, privatePostgresUnavailable } from './private-servers.js';
import { useFaultLab } from './fault-lab.js';

function redisServerMissing(): string | undefined {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'no redis-server binary';
  }
}

const skipReason =
  !process.env.DATABASE_URL || !process.env.REDIS_URL
    ? 'Redis fault tests run in the PostgreSQL and Redis pass (set DATABASE_URL and REDIS_URL)'
    : (privatePostgresUnavailable() ?? redisServerMissing());

interface PrivateRedis {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
}

async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      for (let i = 0; i < 100; i++) {
        try {
          execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'ignore' });
          return;
        } catch {
          await sleep(50);
        }
      }
      throw new Error('redis-server did not start');
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      await exited;
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
  await server.start();
  return server;
}

interface Outcome {
  status: number | 'cut';
  retryAfter: string | null;
  code?: string;
  ms: number;
}

async function ask(port: number, pathname: string): Promise<Outcome> {
  const started = Date.now();
  try {
    const response = await fetch(`http://127.0.0.1:${port}${pathname}`, {
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await response.json().catch(() => ({}))) as { code?: string };
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      ...(body.code !== undefined && { code: body.code }),
      ms: Date.now() - started,
    };
  } catch {
    return { status: 'cut', retryAfter: null, ms: Date.now() - started };
  }
}

describe.skipIf(skipReason !== undefined)('Redis faults on real processes', () => {
  const lab = useFaultLab({ postgres: true });
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await privateRedis();
    lab.onTeardown(async () => {
      redis.resume();
      await redis.stop();
    });
  }, 60_000);

  it('R1/store away: Redis stopped or paused makes rate-limited requests 503 + Retry-After within seconds (never a hang, a cut socket or a 500), probes answer, and both nodes resume by themselves', async () => {
    const env = lab.env({ REDIS_URL: redis.url });
    const ports = [await freePort(), await freePort()];
    const nodes = ports.map((port) => lab.spawn(['serve'], { ...env, PORT: String(port) }));
    await Promise.all(nodes.map((node) => node.waitFor('Haven is listening')));
    // A rate-limited route that needs nothing else: without credentials it answers 401.
    const limited = (port: number) => ask(port, '/api/auth/me');
    for (const port of ports) expect((await limited(port)).status).toBe(401);

    const expectRefused = (answers: Outcome[], within: number) => {
      for (const answer of answers) {
        expect(answer).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
        expect(answer.retryAfter).toMatch(/^\d+$/);
        expect(answer.ms).toBeLessThan(within);
      }
    };

    // Paused: the connection stays open and nothing answers.
    redis.pause();
    try {
      const paused = await Promise.all(ports.flatMap((port) => [limited(port), limited(port)]));
      expectRefused(paused, 5_000);
      for (const port of ports) expect((await ask(port, '/healthz')).status).toBe(200);
    } finally {
      redis.resume();
    }
    await sleep(200);
    for (const port of ports) expect((await limited(port)).status).toBe(401);

    // Stopped: the connection is refused.
    await redis.stop();
    const stopped = await Promise.all(ports.map((port) => limited(port)));
    expectRefused(stopped, 5_000);
    const ready = await Promise.all(ports.map((port) => ask(port, '/readyz')));
    expect(ready.map((r) => r.status)).toEqual([503, 503]);
    await redis.start();
    const backAt = Date.now();
    for (const port of ports) {
      while ((await limited(port)).status !== 401) {
        expect(Date.now() - backAt).toBeLessThan(15_000);
        await sleep(100);
      }
    }
    expect(
      nodes.map((node) => node.exited()),
      nodes.map((node) => node.output()).join('\n'),
    ).toEqual([false, false]);
  }, 180_000);
});
