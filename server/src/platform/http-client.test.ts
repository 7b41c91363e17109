import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Readable } from 'node:stream';
import { Client, type Dispatcher } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createOutboundClient,
  OutboundRequestError,
  type OutboundClient,
  type OutboundClientOptions,
  type ResolvedAddress,
} from './http-client.js';

// A routable public address: connecting to it must never reach our local servers.
const PUBLIC_IP = '93.184.215.14';
// Test-only widening so a real local server on 127.0.0.1 is reachable.
const LOCAL = { allowHttp: true, allowPrivateCidrs: ['127.0.0.1/32'] } as const;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

interface TestServer {
  port: number;
  hits: IncomingMessage[];
  connections: () => number;
}

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const hits: IncomingMessage[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    hits.push(req);
    handler(req, res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return { port: (server.address() as AddressInfo).port, hits, connections: () => connections };
}

const ok =
  (body = 'ok') =>
  (_req: IncomingMessage, res: ServerResponse) =>
    res.end(body);

/** Fake DNS: each name maps to a list of answers, one list per successive call (last repeats). */
function fakeDns(answers: Record<string, string[][]>) {
  const calls: Record<string, number> = {};
  return vi.fn(async (hostname: string): Promise<ResolvedAddress[]> => {
    const seq = answers[hostname];
    if (!seq) throw new Error(`ENOTFOUND ${hostname}`);
    const n = (calls[hostname] = (calls[hostname] ?? 0) + 1);
    const list = seq[Math.min(n, seq.length) - 1] ?? [];
    return list.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  });
}

function client(options: OutboundClientOptions): OutboundClient {
  const c = createOutboundClient(options);
  closers.push(() => c.close());
  return c;
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err: unknown = await promise.then(
    () => new Error('expected the request to be refused'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutboundRequestError);
  expect((err as OutboundRequestError).code).toBe(code);
}

describe('V5: SSRF-safe outbound client', () => {
  it('V5/SSRF: refuses loopback even when the host is allowlisted', async () => {
    const srv = await serve(ok());
    const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
    const c = client({ allowHosts: ['hibp.test'], allowHttp: true, resolve });
    await expectCode(
      c.request(`http://hibp.test:${srv.port}/range/ABCDE`),
      'OUTBOUND_ADDRESS_FORBIDDEN',
    );
    expect(srv.connections()).toBe(0);
  });

  it('V5: reaches a local server only with test widening AND allowHttp; Host header keeps the hostname', async () => {
    const srv = await serve(ok('range-body'));
    const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
    const url = `http://hibp.test:${srv.port}/range/ABCDE`;
    const noHttp = client({
      allowHosts: ['hibp.test'],
      allowPrivateCidrs: ['127.0.0.1/32'],
      resolve,
    });
    await expectCode(noHttp.request(url), 'OUTBOUND_PROTOCOL_FORBIDDEN');
    expect(resolve).not.toHaveBeenCalled();
    expect(srv.connections()).toBe(0);

    const res = await client({ allowHosts: ['hibp.test'], ...LOCAL, resolve }).request(url, {
      headers: { Host: 'evil.test' },
    });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('range-body');
    expect(res.url).toBe(url);
    expect(srv.hits[0]?.headers.host).toBe(`hibp.test:${srv.port}`);
  });

  it('V5/SSRF: refuses a non-allowlisted host before any DNS lookup or connection', async () => {
    const srv = await serve(ok());
    const resolve = fakeDns({ 'evil.test': [['127.0.0.1']], 'pwned.test': [['127.0.0.1']] });
    const c = client({ allowHosts: ['hibp.test', '*.pwned.test'], ...LOCAL, resolve });
    for (const host of ['evil.test', 'pwned.test', 'evilpwned.test', 'hibp.test.evil.test']) {
      await expectCode(c.request(`http://${host}:${srv.port}/`), 'OUTBOUND_HOST_NOT_ALLOWED');
    }
    expect(resolve).not.toHaveBeenCalled();
    expect(srv.connections()).toBe(0);
  });

  it('V5: allowlist is case-insensitive and `*.` entries match subdomains', async () => {
    const srv = await serve(ok());
    const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']], 'api.pwned.test': [['127.0.0.1']] });
    const c = client({ allowHosts: ['HIBP.Test', '*.pwned.test'], ...LOCAL, resolve });
    expect((await c.request(`http://Hibp.TEST:${srv.port}/`)).status).toBe(200);
    expect((await c.request(`http://api.pwned.test:${srv.port}/`)).status).toBe(200);
  });

  it.each([
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '[::1]',
    '[fe80::1]',
    '[fc00::1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[::7f00:1]', // deprecated IPv4-compatible form: 'unicast' to ipaddr.js but not global (2000::/3)
    '[64:ff9b::7f00:1]', // NAT64 embedding 127.0.0.1
    '[2002:7f00:1::]', // 6to4 embedding 127.0.0.1
  ])('V5/SSRF: refuses literal IP %s even when allowlisted, without DNS', async (ip) => {
    const resolve = fakeDns({});
    const c = client({ allowHosts: [ip], allowHttp: true, timeoutMs: 500, resolve });
    await expectCode(c.request(`http://${ip}:9/`), 'OUTBOUND_ADDRESS_FORBIDDEN');
    expect(resolve).not.toHaveBeenCalled();
  });

  it('V5/SSRF: cloud metadata addresses stay refused even inside a widened range', async () => {
    for (const ip of ['169.254.169.254', '[fd00:ec2::254]']) {
      const c = client({
        allowHosts: [ip],
        allowHttp: true,
        allowPrivateCidrs: ['169.254.0.0/16', 'fd00::/8'],
        timeoutMs: 300,
      });
      await expectCode(c.request(`http://${ip}/latest/meta-data/`), 'OUTBOUND_ADDRESS_FORBIDDEN');
    }
  });

  it('V5: IPv4-mapped DNS answers are judged (and dialled) as IPv4', async () => {
    const srv = await serve(ok());
    const resolve = fakeDns({ 'hibp.test': [['::ffff:127.0.0.1']] });
    const c = client({ allowHosts: ['hibp.test'], ...LOCAL, resolve });
    expect((await c.request(`http://hibp.test:${srv.port}/`)).status).toBe(200);
  });

  it('V5/SSRF: refuses when any DNS answer is forbidden (mixed public/private answers)', async () => {
    const srv = await serve(ok());
    for (const answer of [
      [PUBLIC_IP, '10.0.0.1'],
      ['127.0.0.1', '10.0.0.1'],
      ['127.0.0.1', '::1'],
    ]) {
      const resolve = fakeDns({ 'hibp.test': [answer] });
      const c = client({ allowHosts: ['hibp.test'], ...LOCAL, resolve });
      await expectCode(c.request(`http://hibp.test:${srv.port}/`), 'OUTBOUND_ADDRESS_FORBIDDEN');
    }
    expect(srv.connections()).toBe(0);
  });

  it('V5/DNS-rebinding: a second DNS answer cannot redirect the connection (public, then loopback)', async () => {
    const srv = await serve(ok());
    const resolve = fakeDns({ 'hibp.test': [[PUBLIC_IP], ['127.0.0.1']] });
    const c = client({ allowHosts: ['hibp.test'], ...LOCAL, timeoutMs: 500, resolve });
    await expect(c.request(`http://hibp.test:${srv.port}/`)).rejects.toBeInstanceOf(
      OutboundRequestError,
    );
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(srv.connections()).toBe(0);
  });

  it('V5/DNS-rebinding: the connection is pinned to the checked address (checked, then forbidden)', async () => {
    const srv = await serve(ok('pinned'));
    const resolve = fakeDns({ 'hibp.test': [['127.0.0.1'], ['10.0.0.1']] });
    const c = client({ allowHosts: ['hibp.test'], ...LOCAL, timeoutMs: 1000, resolve });
    const res = await c.request(`http://hibp.test:${srv.port}/`);
    expect(res.body.toString()).toBe('pinned');
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(srv.hits).toHaveLength(1);
  });

  it('V5/TLS: a pinned https connection still sends SNI for the hostname and verifies the certificate', async () => {
    const names: string[] = [];
    const tls = createTlsServer({
      SNICallback: (name, cb) => {
        names.push(name);
        cb(new Error('no certificate for test'));
      },
    });
    await new Promise<void>((done) => tls.listen(0, '127.0.0.1', done));
    closers.push(() => new Promise<void>((done) => tls.close(() => done())));
    const port = (tls.address() as AddressInfo).port;
    const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
    const c = client({ allowHosts: ['hibp.test'], allowPrivateCidrs: ['127.0.0.1/32'], resolve });
    await expectCode(c.request(`https://hibp.test:${port}/`), 'OUTBOUND_FAILED');
    expect(names).toEqual(['hibp.test']);
  });

  describe('redirects', () => {
    const redirectTo =
      (location: string, status = 302) =>
      (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(status, { location });
        res.end();
      };

    it('V5/SSRF: follows a redirect to an allowlisted host, re-resolving once per hop', async () => {
      const b = await serve((req, res) => res.end(`auth=${req.headers.authorization ?? 'none'}`));
      const a = await serve(redirectTo(`http://api.hibp.test:${b.port}/final`));
      const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']], 'api.hibp.test': [['127.0.0.1']] });
      const c = client({ allowHosts: ['hibp.test', 'api.hibp.test'], ...LOCAL, resolve });
      const res = await c.request(`http://hibp.test:${a.port}/`, {
        headers: { Authorization: 'Bearer x' },
      });
      expect(res.url).toBe(`http://api.hibp.test:${b.port}/final`);
      expect(res.body.toString()).toBe('auth=none'); // credentials not forwarded cross-origin
      expect(resolve).toHaveBeenCalledTimes(2);
      expect(b.hits[0]?.headers.host).toBe(`api.hibp.test:${b.port}`);
    });

    it('V5/SSRF: refuses a redirect to a non-allowlisted host', async () => {
      const b = await serve(ok());
      const a = await serve(redirectTo(`http://evil.test:${b.port}/`));
      const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']], 'evil.test': [['127.0.0.1']] });
      const c = client({ allowHosts: ['hibp.test'], ...LOCAL, resolve });
      await expectCode(c.request(`http://hibp.test:${a.port}/`), 'OUTBOUND_HOST_NOT_ALLOWED');
      expect(b.connections()).toBe(0);
    });

    it('V5/SSRF: refuses a redirect to an allowlisted host that resolves to a forbidden address', async () => {
      const a = await serve(redirectTo('http://internal.hibp.test/admin'));
      const resolve = fakeDns({
        'hibp.test': [['127.0.0.1']],
        'internal.hibp.test': [['10.0.0.1']],
      });
      const allowHosts = ['hibp.test', '*.hibp.test'];
      const c = client({ allowHosts, ...LOCAL, timeoutMs: 1000, resolve });
      await expectCode(c.request(`http://hibp.test:${a.port}/`), 'OUTBOUND_ADDRESS_FORBIDDEN');
    });

    it('V5/SSRF: refuses a redirect to a literal private IP', async () => {
      const a = await serve(redirectTo('http://169.254.169.254/latest/meta-data/'));
      const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
      const allowHosts = ['hibp.test', '169.254.169.254'];
      const c = client({ allowHosts, ...LOCAL, timeoutMs: 500, resolve });
      await expectCode(c.request(`http://hibp.test:${a.port}/`), 'OUTBOUND_ADDRESS_FORBIDDEN');
    });

    it('V5/SSRF: never follows an https → http downgrade, even with allowHttp', async () => {
      const srv = await serve(ok());
      const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
      const c = client({ allowHosts: ['hibp.test'], ...LOCAL, resolve });
      // No trusted test certificate is available, so the https hop's 302 is simulated; the
      // plain-http hop it points at is a real local server that must never be contacted.
      const fake = {
        statusCode: 302,
        headers: { location: `http://hibp.test:${srv.port}/` },
        body: Readable.from([]),
      } as unknown as Dispatcher.ResponseData;
      const spy = vi.spyOn(Client.prototype, 'request').mockResolvedValueOnce(fake);
      try {
        await expectCode(c.request('https://hibp.test/'), 'OUTBOUND_PROTOCOL_FORBIDDEN');
        expect(spy).toHaveBeenCalledTimes(1);
        expect(srv.connections()).toBe(0);
      } finally {
        spy.mockRestore();
      }
    });

    it('V5: a redirect loop stops at maxRedirects', async () => {
      const a: TestServer = await serve((_req, res) =>
        redirectTo(`http://hibp.test:${a.port}/again`)(_req, res),
      );
      const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
      const c = client({ allowHosts: ['hibp.test'], ...LOCAL, maxRedirects: 3, resolve });
      await expectCode(c.request(`http://hibp.test:${a.port}/`), 'OUTBOUND_TOO_MANY_REDIRECTS');
      expect(a.hits).toHaveLength(4); // the original request plus 3 followed redirects
    });
  });

  describe('size cap', () => {
    const CAP = 64 * 1024;
    /** A capped request to the server is refused as too large, well before its timeout. */
    const refusedAsTooLarge = async (
      srv: TestServer,
      limits: { timeoutMs: number; within: number },
    ) => {
      const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
      const c = client({
        allowHosts: ['hibp.test'],
        ...LOCAL,
        maxResponseBytes: CAP,
        timeoutMs: limits.timeoutMs,
        resolve,
      });
      const started = Date.now();
      await expectCode(c.request(`http://hibp.test:${srv.port}/`), 'OUTBOUND_RESPONSE_TOO_LARGE');
      expect(Date.now() - started).toBeLessThan(limits.within);
    };

    it('V5/DoS: rejects early on a Content-Length over the cap (without waiting for the body)', async () => {
      const srv = await serve((_req, res) => {
        res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) });
        res.write('x'); // then stall: only the declared length can trigger the refusal
      });
      await refusedAsTooLarge(srv, { timeoutMs: 3000, within: 2000 });
    });

    it('V5/DoS: aborts an endless chunked body (no Content-Length) once the cap is exceeded', async () => {
      const srv = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' }); // chunked
        const chunk = Buffer.alloc(16 * 1024, 'a');
        const timer = setInterval(() => res.write(chunk), 2);
        res.on('close', () => clearInterval(timer));
      });
      await refusedAsTooLarge(srv, { timeoutMs: 5000, within: 4000 });
    });

    it('V5: a body of exactly the cap is accepted', async () => {
      const srv = await serve(ok('b'.repeat(CAP)));
      const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
      const c = client({ allowHosts: ['hibp.test'], ...LOCAL, maxResponseBytes: CAP, resolve });
      expect((await c.request(`http://hibp.test:${srv.port}/`)).body.length).toBe(CAP);
    });
  });

  describe('timeouts', () => {
    const within = async (promise: Promise<unknown>, budget: number) => {
      const started = Date.now();
      await expectCode(promise, 'OUTBOUND_TIMEOUT');
      expect(Date.now() - started).toBeGreaterThanOrEqual(budget - 50);
      expect(Date.now() - started).toBeLessThan(budget + 1000);
    };

    it('V5/DoS: a server that never answers times out within the budget', async () => {
      const srv = await serve(() => undefined);
      const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
      const c = client({ allowHosts: ['hibp.test'], ...LOCAL, timeoutMs: 300, resolve });
      await within(c.request(`http://hibp.test:${srv.port}/`), 300);
    });

    it('V5/DoS: a trickling body cannot outlast the overall budget', async () => {
      const srv = await serve((_req, res) => {
        res.writeHead(200);
        const timer = setInterval(() => res.write('.'), 50); // keeps per-chunk idle timers happy
        res.on('close', () => clearInterval(timer));
      });
      const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
      const c = client({ allowHosts: ['hibp.test'], ...LOCAL, timeoutMs: 400, resolve });
      await within(c.request(`http://hibp.test:${srv.port}/`), 400);
    });

    it('V5/DoS: a hanging resolver counts against the budget', async () => {
      const resolve = vi.fn(() => new Promise<ResolvedAddress[]>(() => undefined));
      const c = client({ allowHosts: ['hibp.test'], ...LOCAL, timeoutMs: 300, resolve });
      await within(c.request('http://hibp.test/'), 300);
    });
  });

  it('V5: refuses URLs carrying credentials', async () => {
    const srv = await serve(ok());
    const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
    const c = client({ allowHosts: ['hibp.test'], ...LOCAL, resolve });
    await expectCode(c.request(`http://user:pw@hibp.test:${srv.port}/`), 'OUTBOUND_INVALID_URL');
    expect(srv.connections()).toBe(0);
  });

  it('V5: POST bodies are sent, and a 303 turns into a GET', async () => {
    const seen: string[] = [];
    const srv = await serve((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        if (req.url === '/hook') res.writeHead(303, { location: '/done' }).end();
        else res.end('done');
      });
    });
    const resolve = fakeDns({ 'hibp.test': [['127.0.0.1']] });
    const c = client({ allowHosts: ['hibp.test'], ...LOCAL, resolve });
    const res = await c.request(`http://hibp.test:${srv.port}/hook`, {
      method: 'POST',
      body: '{"a":1}',
    });
    expect(res.body.toString()).toBe('done');
    expect(seen).toEqual(['POST /hook {"a":1}', 'GET /done ']);
  });
});
