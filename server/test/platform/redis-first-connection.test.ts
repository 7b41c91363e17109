// R1: a node reports ready only with a working Redis connection. Its first connection's ready
// check can time out when start-up work holds the event loop past the 1 s command deadline (a
// busy machine); ioredis reconnects at once, and the node must wait for that reconnect rather
// than report ready while the limiter's only connection is down (its first requests got 503).
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { firstConnectionSettled, openRedis } from '../../src/platform/redis.js';

/**
 * A stand-in Redis on a private port. Its first connection takes commands and never answers
 * (the stalled ready check); later ones answer INFO and PING as a ready server does. It speaks
 * just enough RESP for ioredis's connect sequence; the real server is covered by the
 * rate-limit and fault tests.
 */
async function redisThatStallsTheFirstReadyCheck(): Promise<{
  url: string;
  connections: () => number;
  close: () => Promise<void>;
}> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (connections === 1) return; // reads, never answers
    let pending = '';
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let command = takeCommand(); command; command = takeCommand()) {
        const name = command[0]?.toLowerCase();
        if (name === 'info') {
          const body = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n';
          socket.write(`$${body.length}\r\n${body}\r\n`);
        } else {
          socket.write(name === 'ping' ? '+PONG\r\n' : '+OK\r\n');
        }
      }
    });
    /** The next whole RESP array of bulk strings in `pending`, or undefined if none is whole. */
    function takeCommand(): string[] | undefined {
      const lines = pending.split('\r\n');
      const count = Number(lines[0]?.slice(1));
      if (!lines[0]?.startsWith('*') || lines.length < 1 + 2 * count + 1) return undefined;
      const args = Array.from({ length: count }, (_, i) => lines[2 + 2 * i] ?? '');
      pending = lines.slice(1 + 2 * count).join('\r\n');
      return args;
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    connections: () => connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('R1: the first Redis connection', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('R1/fail-closed at start: a ready check that timed out is waited out, so the node is ready only with a working connection', async () => {
    const fake = await redisThatStallsTheFirstReadyCheck();
    closers.push(() => fake.close());
    const redis = openRedis(fake.url, pino({ level: 'silent' }));
    closers.push(async () => redis.disconnect());

    await firstConnectionSettled(redis, 10_000);

    expect(fake.connections()).toBeGreaterThanOrEqual(2); // the stalled check was retried
    expect(redis.status).toBe('ready');
    await expect(redis.ping()).resolves.toBe('PONG');
  });

  it('R1: a Redis that is not there at all settles at once rather than holding start-up', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve())); // nothing listens now
    const redis = openRedis(`redis://127.0.0.1:${port}`, pino({ level: 'silent' }));
    closers.push(async () => redis.disconnect());

    const started = Date.now();
    await firstConnectionSettled(redis, 10_000);

    expect(redis.status).not.toBe('ready');
    expect(Date.now() - started).toBeLessThan(9_000); // settled on the refusal, not the timeout
  });
});
