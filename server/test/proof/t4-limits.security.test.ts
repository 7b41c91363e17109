// T4 limits on real routes over a real socket: the sign-in route's own body limit (not the
// global 1 MiB behind it), the header size cap, and the idle, request and keep-alive timeouts.
// The configured timeout is short (2 s), so a connection the server fails to cut shows up within
// seconds: the bounds leave a loaded machine 8 s of slack and the client gives up after 15 s,
// where Node's and Fastify's defaults keep a connection 30–90 s (headers or body still
// arriving), 72 s (keep-alive) or forever (idle). With TLS at Haven the server is an HTTPS one,
// which Fastify builds from other options: the header cap and the deadlines are proven there too.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app-harness.js';
import { GENEROUS_RATE_LIMITS } from '../actors.js';
import { describeEachEngine } from '../databases.js';
import { httpRequest, rawExchange, trickle, type RawExchange } from './raw-socket.js';

const TIMEOUT_MS = 2_000;
const HEADER_CAP = 4_096;
/** The sign-in route's own bodyLimit (modules/identity/sign-in/routes.ts). */
const SIGN_IN_BODY_LIMIT = 4_096;
/** Node checks request deadlines every second (app.ts); the rest is a loaded machine's slack. */
const CUT_OFF_WITHIN_MS = TIMEOUT_MS + 1_000 + 8_000;
/** app.ts keeps an idle keep-alive connection this long. */
const KEEP_ALIVE_MS = 5_000;

/** A refusal answered on the socket: problem+json with its request id and security headers. */
function expectSocketProblem(answer: RawExchange, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(answer.body) as { code: string; status: number; requestId: string };
  expect(problem).toMatchObject({ code, status });
  expect(problem.requestId).toBe(answer.headers['x-request-id']);
  expect(answer.headers['content-security-policy']).toContain("default-src 'self'");
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
}

/** Sign-in credentials padded with JSON whitespace to exactly `bytes`. */
function credentialsOf(bytes: number): string {
  const json = JSON.stringify({ email: 'nobody@example.org', password: 'not the password' });
  return `${json.slice(0, -1)}${' '.repeat(bytes - json.length)}}`;
}

function signInBytes(origin: string, body: string, extra: Record<string, string> = {}): string {
  const headers = { origin, 'content-type': 'application/json', ...extra };
  return httpRequest('POST', '/api/auth/session', headers, body);
}

/** A sign-in request whose header section is `bytes` long (padded with a cookie). */
function signInWithHeadersOf(origin: string, bytes: number): string {
  const body = credentialsOf(100);
  const headerBytes = signInBytes(origin, body, { cookie: '' }).length - body.length;
  return signInBytes(origin, body, { cookie: `pad=${'a'.repeat(bytes - headerBytes - 4)}` });
}

/** A sign-in whose headers are complete and whose body trickles in and never ends. */
function slowSignInBody(origin: string) {
  const head = signInBytes(origin, '').replace('\r\n\r\n', '\r\ncontent-length: 3000\r\n\r\n{');
  return (socket: Parameters<typeof trickle>[0]) => trickle(socket, head, () => ' ', 200);
}

const LIMITS_ENV = {
  ...GENEROUS_RATE_LIMITS,
  HAVEN_REQUEST_TIMEOUT_MS: String(TIMEOUT_MS),
  HAVEN_HEADER_LIMIT_BYTES: String(HEADER_CAP),
};

describeEachEngine('T4 limits on a real socket', (engine) => {
  let t: TestApp;
  let port: number;
  let origin: string;

  beforeAll(async () => {
    t = await createTestApp(engine, { env: LIMITS_ENV });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
    origin = t.config.publicOrigin;
  });
  afterAll(() => t.close());

  const signInRequest = (body: string, extra: Record<string, string> = {}) =>
    signInBytes(origin, body, extra);

  it("T4/oversized sign-in: a body one byte over the sign-in route's own 4 KiB limit, far below the global 1 MiB, answers 413 problem+json", async () => {
    // The global limit stays at its default: only the route's own limit can refuse 4 KiB.
    expect(t.config.limits.bodyBytes).toBe(1_048_576);
    const atLimit = await rawExchange(port, signInRequest(credentialsOf(SIGN_IN_BODY_LIMIT)));
    expect(atLimit.status).toBe(401);
    expect(JSON.parse(atLimit.body)).toMatchObject({ code: 'INVALID_CREDENTIALS' });

    const over = await rawExchange(port, signInRequest(credentialsOf(SIGN_IN_BODY_LIMIT + 1)));
    expect(over.status).toBe(413);
    expect(over.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(over.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
  });

  it('T4/header flood: headers just over HAVEN_HEADER_LIMIT_BYTES answer 431 problem+json on the sign-in route; just under, the route answers', async () => {
    const under = await rawExchange(port, signInWithHeadersOf(origin, HEADER_CAP - 256));
    expect(under.status).toBe(401);
    // Node's default cap is 16 KiB: only the configured 4 KiB refuses this.
    const over = await rawExchange(port, signInWithHeadersOf(origin, HEADER_CAP + 64));
    expectSocketProblem(over, 431, 'HEADERS_TOO_LARGE');
  });

  it('V4/T4: bytes that are not HTTP are answered 400 problem+json on the socket, with the security headers', async () => {
    expectSocketProblem(await rawExchange(port, 'HELLO THERE\r\n\r\n'), 400, 'BAD_REQUEST');
  });

  it('T4/idle connection: a socket that connects and sends nothing is closed after the configured timeout', async () => {
    const idle = await rawExchange(port, () => undefined);
    expect(idle.stillOpen).toBe(false);
    expect(idle.closedAfterMs).toBeLessThan(CUT_OFF_WITHIN_MS);
    // Closed silently by the idle timeout itself, not left to the request deadline (a 408).
    expect(idle.status).toBe(0);
  });

  it('T4/slowloris: sign-in headers sent a line at a time and never finished are cut off with 408 problem+json within the request timeout', async () => {
    let line = 0;
    const slow = await rawExchange(port, (socket) =>
      // Each line comes well inside the idle timeout, so only the request deadline can cut it.
      trickle(socket, 'POST /api/auth/session HTTP/1.1\r\n', () => `x-slow-${++line}: 1\r\n`, 200),
    );
    expect(slow.stillOpen).toBe(false);
    expect(slow.closedAfterMs).toBeLessThan(CUT_OFF_WITHIN_MS);
    expectSocketProblem(slow, 408, 'REQUEST_TIMEOUT');
    // Node looks for expired requests on a timer, 30 s apart unless told: that gap would be
    // added to every deadline (whether a test sees it depends on where the tick falls).
    const server = t.app.server as typeof t.app.server & { connectionsCheckingInterval: number };
    expect(server.connectionsCheckingInterval).toBeLessThanOrEqual(1_000);
  });

  it('T4/slow body: a sign-in body that trickles in and never finishes is cut off with 408 problem+json within the request timeout', async () => {
    const slow = await rawExchange(port, slowSignInBody(origin));
    expect(slow.stillOpen).toBe(false);
    expect(slow.closedAfterMs).toBeLessThan(CUT_OFF_WITHIN_MS);
    expectSocketProblem(slow, 408, 'REQUEST_TIMEOUT');
  });

  it('T4: the longest configurable timeout (600 s) starts and governs both deadlines', async () => {
    // Node refuses at construction a headers deadline above the request deadline (300 s unless
    // told), so a long configured timeout must reach both, or the server would not start.
    const long = await createTestApp(engine, {
      database: t.database,
      env: { HAVEN_REQUEST_TIMEOUT_MS: '600000' },
    });
    try {
      expect(long.app.server.requestTimeout).toBe(600_000);
      expect(long.app.server.headersTimeout).toBe(600_000);
    } finally {
      await long.close();
    }
  });

  it('T4/idle keep-alive: a connection left open after its answer is closed after 5 s', async () => {
    const kept = await rawExchange(
      port,
      httpRequest('GET', '/healthz', { connection: 'keep-alive' }),
    );
    expect(kept.status).toBe(200);
    expect(kept.stillOpen).toBe(false);
    expect(kept.closedAfterMs).toBeLessThan(KEEP_ALIVE_MS + 8_000);
  });
});

describe('T4 limits over TLS at Haven', () => {
  let t: TestApp;
  let port: number;
  let certDir: string;

  beforeAll(async () => {
    // A throwaway self-signed certificate: the client below accepts any.
    certDir = mkdtempSync(path.join(tmpdir(), 'haven-tls-'));
    const keyFile = path.join(certDir, 'key.pem');
    const certFile = path.join(certDir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
        ...['-nodes', '-days', '1', '-subj', '/CN=127.0.0.1'],
        ...['-keyout', keyFile, '-out', certFile],
      ],
      { stdio: 'ignore' },
    );
    t = await createTestApp('pglite', {
      env: { ...LIMITS_ENV, HAVEN_TLS_CERT_FILE: certFile, HAVEN_TLS_KEY_FILE: keyFile },
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await t?.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  it('T4/header flood over TLS: headers just over the cap answer 431 problem+json; just under, the route answers', async () => {
    const origin = t.config.publicOrigin;
    const under = await rawExchange(port, signInWithHeadersOf(origin, HEADER_CAP - 256), {
      tls: true,
    });
    expect(under.status).toBe(401);
    const over = await rawExchange(port, signInWithHeadersOf(origin, HEADER_CAP + 64), {
      tls: true,
    });
    expectSocketProblem(over, 431, 'HEADERS_TOO_LARGE');
  });

  it('T4/slow body over TLS: a sign-in body that never finishes is cut off with 408 problem+json within the request timeout', async () => {
    const slow = await rawExchange(port, slowSignInBody(t.config.publicOrigin), { tls: true });
    expect(slow.stillOpen).toBe(false);
    expect(slow.closedAfterMs).toBeLessThan(CUT_OFF_WITHIN_MS);
    expectSocketProblem(slow, 408, 'REQUEST_TIMEOUT');
  });
});
