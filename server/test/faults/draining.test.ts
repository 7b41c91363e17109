// A node told to stop (SIGTERM, as an orchestrator rolls a deployment) finishes what it is
// answering and turns away what still reaches it with a 503 a client knows how to handle: a
// problem+json with Retry-After and `Connection: close`, so the retry opens a connection the
// load balancer gives to another node. Fastify's own answer while closing was a fixed JSON body
// without Retry-After, which the SPA's retry rules and Uppy cannot tell from a failure.
// A real `haven serve` process on its embedded database: runs in every pass of the suite.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { freePort } from './private-servers.js';
import { useFaultLab } from './fault-lab.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits what came back on one connection into its HTTP/1.1 answers (Content-Length bodies). */
function parseAnswers(raw: string): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    const bodyStart = end + 4;
    answers.push({
      status: Number(statusLine.split(' ')[1]),
      headers,
      body: Buffer.from(rest.slice(bodyStart)).subarray(0, length).toString('utf8'),
    });
    rest = Buffer.from(rest.slice(bodyStart)).subarray(length).toString('utf8');
  }
  return answers;
}

/** Whether a new connection to the port is taken. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(port, '127.0.0.1');
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

describe('a node draining (SIGTERM), on a real process', () => {
  const lab = useFaultLab({ postgres: false });

  it('draining: the request in flight at SIGTERM gets its answer; one that reaches the stopping node after it gets 503 problem+json with Retry-After and Connection: close', async () => {
    const port = await freePort();
    const node = lab.spawn(
      ['serve'],
      lab.env({ HAVEN_PUBLIC_URL: 'http://127.0.0.1', PORT: String(port) }),
    );
    await node.waitFor('Haven is listening');

    // One connection: a sign-in whose body is half sent when the node is told to stop, and,
    // pipelined behind it, a request that the node reads only once it is draining.
    const body = JSON.stringify({ email: 'nobody@example.org', password: 'not the password 123' });
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      'POST /api/auth/session HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n' +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n` +
        body.slice(0, 10),
    );
    // Time for the node to take the request in (its event loop also runs the embedded worker).
    await sleep(1_000);
    node.child.kill('SIGTERM');
    // Draining has begun once the node takes no new connection (it closes its listener then).
    const drainBy = Date.now() + 10_000;
    while ((await connects(port)) && Date.now() < drainBy) await sleep(50);
    socket.write(
      `${body.slice(10)}GET /api/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`,
    );
    await Promise.race([closed, sleep(15_000)]);
    socket.destroy();
    const answers = parseAnswers(received);

    // The sign-in in flight was answered as without the stop: an unknown account, 401.
    expect(answers[0]?.status, received).toBe(401);
    // The request read while draining: a problem a client retries, on a connection that closes.
    const refused = answers[1];
    expect(refused?.status, received).toBe(503);
    expect(refused?.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused?.headers['content-type']).toContain('application/problem+json');
    expect(refused?.headers.connection).toBe('close');
    expect(refused?.headers['x-request-id']).toBeTruthy();
    expect(JSON.parse(refused?.body ?? '{}')).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    // The node then stops by itself, cleanly.
    await new Promise<void>((resolve) => {
      if (node.exited()) resolve();
      else node.child.once('exit', () => resolve());
    });
    expect(node.child.exitCode, node.output()).toBe(0);
  }, 90_000);
});
