// A node told to stop (SIGTERM, as an orchestrator rolls a deployment) fails no request. It
// first drains: it takes no new connection (a proxy sends that one to another node), answers what
// arrives on the connections it has with `Connection: close`, and says 503 on /readyz, so a busy
// keep-alive connection closes after an answer instead of being cut while the client sends on it.
// Then it closes, and anything read after that (pipelined behind a request in flight) gets a 503
// a client knows how to handle: problem+json with Retry-After and `Connection: close`.
// A real `haven serve` process on its embedded database: runs in every pass of the suite.
import http from 'node:http';
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

/** A raw connection and everything that came back on it. */
async function rawConnection(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    closed,
    answers: () => parseAnswers(received),
    received: () => received,
    /** Resolves once the whole of `count` answers arrived. */
    async answered(count: number): Promise<RawAnswer[]> {
      const by = Date.now() + 15_000;
      while (parseAnswers(received).length < count && Date.now() < by) await sleep(20);
      return parseAnswers(received);
    },
  };
}

describe('a node draining (SIGTERM), on a real process', () => {
  const lab = useFaultLab({ postgres: false });

  it('draining: a request on an open connection after SIGTERM is answered and its connection closes; /readyz says 503; the request in flight gets its answer; one read once the node closes gets 503 problem+json with Retry-After', async () => {
    const port = await freePort();
    const node = lab.spawn(
      ['serve'],
      lab.env({
        HAVEN_PUBLIC_URL: 'http://127.0.0.1',
        PORT: String(port),
        HAVEN_SHUTDOWN_DRAIN_MS: '1500',
      }),
    );
    await node.waitFor('Haven is listening');

    // A: a sign-in whose body is half sent when the node is told to stop (in flight throughout).
    const body = JSON.stringify({ email: 'nobody@example.org', password: 'not the password 123' });
    const inFlight = await rawConnection(port);
    inFlight.socket.write(
      'POST /api/auth/session HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\n' +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n` +
        body.slice(0, 10),
    );
    // B, C and D: keep-alive connections that answered once and are idle at SIGTERM. D stays
    // idle: the node closes it only once it closes itself.
    const idle = [await rawConnection(port), await rawConnection(port), await rawConnection(port)];
    for (const connection of idle) {
      connection.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      expect((await connection.answered(1))[0]?.status).toBe(200);
    }
    // Time for the node to take the sign-in in (its event loop also runs the embedded worker).
    await sleep(1_000);
    node.child.kill('SIGTERM');
    // Draining has begun once the node takes no new connection.
    const drainBy = Date.now() + 10_000;
    while ((await connects(port)) && Date.now() < drainBy) await sleep(20);

    // While draining, requests on the open connections are answered, each closing its connection.
    const [readiness, work, untouched] = idle as [
      Awaited<ReturnType<typeof rawConnection>>,
      Awaited<ReturnType<typeof rawConnection>>,
      Awaited<ReturnType<typeof rawConnection>>,
    ];
    readiness.socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    work.socket.write('GET /api/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await Promise.race([Promise.all([readiness.closed, work.closed]), sleep(15_000)]);
    const notReady = readiness.answers()[1];
    expect(notReady?.status, readiness.received()).toBe(503);
    expect(JSON.parse(notReady?.body ?? '{}')).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(notReady?.body).toContain('stopping');
    expect(notReady?.headers.connection).toBe('close');
    const answered = work.answers()[1];
    // Answered as without the stop (no session: 401), on a connection that then closes.
    expect(answered?.status, work.received()).toBe(401);
    expect(answered?.headers.connection).toBe('close');
    // Draining cut nothing: the connection nobody sent on is still open.
    expect(untouched.socket.destroyed).toBe(false);

    // The node closes once the grace is over: the idle connection goes then.
    await Promise.race([untouched.closed, sleep(15_000)]);
    expect(untouched.socket.destroyed).toBe(true);
    expect(untouched.answers()).toHaveLength(1);
    inFlight.socket.write(
      `${body.slice(10)}GET /api/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`,
    );
    await Promise.race([inFlight.closed, sleep(15_000)]);
    inFlight.socket.destroy();
    const answers = inFlight.answers();

    // The sign-in in flight was answered as without the stop: an unknown account, 401.
    expect(answers[0]?.status, inFlight.received()).toBe(401);
    // The request read while closing: a problem a client retries, on a connection that closes.
    const refused = answers[1];
    expect(refused?.status, inFlight.received()).toBe(503);
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

  it('draining under load: keep-alive clients sending without pause see no reset while the node stops; what is refused is a new connection, which a proxy sends to another node', async () => {
    const port = await freePort();
    const node = lab.spawn(
      ['serve'],
      lab.env({ HAVEN_PUBLIC_URL: 'http://127.0.0.1', PORT: String(port) }),
    );
    await node.waitFor('Haven is listening');
    const exited = new Promise<void>((resolve) => {
      if (node.exited()) resolve();
      else node.child.once('exit', () => resolve());
    });
    let stopped = false;
    void exited.then(() => (stopped = true));

    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const statuses = new Map<string, number>();
    const failures: string[] = [];
    let refusedConnections = 0;
    let signalled = false;
    const count = (key: string) => statuses.set(key, (statuses.get(key) ?? 0) + 1);
    const ask = () =>
      new Promise<void>((resolve) => {
        const request = http.get(
          { host: '127.0.0.1', port, path: '/readyz', agent },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('end', () => {
              const phase = signalled ? 'after' : 'before';
              const why = /stopping|restarting/.exec(text)?.[0] ?? '';
              count(`${phase} ${response.statusCode} ${response.headers.connection ?? ''} ${why}`);
              resolve();
            });
            response.on('error', (error: NodeJS.ErrnoException) => {
              failures.push(`${error.code ?? error.message} (mid-answer)`);
              resolve();
            });
          },
        );
        request.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'ECONNREFUSED') refusedConnections += 1;
          else failures.push(error.code ?? error.message);
          resolve();
        });
      });
    const loops = Array.from({ length: 16 }, async () => {
      while (!stopped) {
        const before = refusedConnections;
        await ask();
        if (refusedConnections > before) await sleep(10);
      }
    });
    // Load first, then the stop in the middle of it.
    await sleep(1_500);
    signalled = true;
    node.child.kill('SIGTERM');
    await Promise.race([exited, sleep(30_000)]);
    stopped = true;
    await Promise.all(loops);
    agent.destroy();

    const seen = JSON.stringify(Object.fromEntries(statuses));
    expect(node.child.exitCode, node.output()).toBe(0);
    expect(failures, seen).toEqual([]);
    // Served before the stop; after it, the connections still open were told the node is not
    // ready and closed; then new connections were refused.
    expect(statuses.get('before 200 keep-alive ') ?? 0, seen).toBeGreaterThan(50);
    expect(statuses.get('after 503 close stopping') ?? 0, seen).toBeGreaterThan(0);
    expect(refusedConnections, seen).toBeGreaterThan(0);
  }, 90_000);
});
