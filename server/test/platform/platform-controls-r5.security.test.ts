// Platform controls whose removal no test noticed (round 5): every DNS answer of an outbound
// request classified, and the connection dialled to the checked address rather than a second
// lookup (V5); the elements of request arrays held to the schema rules (V1); the metrics
// listener on loopback unless told otherwise (L4); and haven audit failing an app that answers
// unlisted origins' preflights or serves production over plain HTTP (D3).
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { Type } from 'typebox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import {
  createOutboundClient,
  OutboundRequestError,
  type OutboundClient,
  type OutboundClientOptions,
  type ResolvedAddress,
} from '../../src/platform/http-client.js';
import { requireScopes, routeViolations } from '../../src/platform/http/route-contract.js';
import { runSelfAudit, type AuditReport } from '../../src/platform/self-audit/index.js';
import { createTestApp, testEnv, type TestApp } from '../app-harness.js';
import { createTestDatabase, describeEachEngine, type TestDatabase } from '../databases.js';

describe('V5 outbound client (round 5)', () => {
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()));
  });

  /** A local server on `host` answering `body`; its requests and connections counted. */
  async function serve(host: string, body: string) {
    const hits: IncomingMessage[] = [];
    let connections = 0;
    const server: Server = createServer((req, res) => {
      hits.push(req);
      res.end(body);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((done) => server.listen(0, host, done));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    });
    const { port } = server.address() as AddressInfo;
    return { port, hits, connections: () => connections };
  }

  /** A resolver that always answers `addresses` for `name` (and nothing else). */
  const fakeDns = (name: string, addresses: readonly string[]) => {
    const calls: string[] = [];
    const resolve = (hostname: string): Promise<ResolvedAddress[]> => {
      calls.push(hostname);
      if (hostname !== name) return Promise.reject(new Error(`ENOTFOUND ${hostname}`));
      return Promise.resolve(
        addresses.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 })),
      );
    };
    return { resolve, calls };
  };

  const client = (options: OutboundClientOptions): OutboundClient => {
    const made = createOutboundClient(options);
    closers.push(() => made.close());
    return made;
  };

  const codeOf = (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(
      () => 'answered',
      (error: unknown) => (error instanceof OutboundRequestError ? error.code : error),
    );

  it('V5/every-dns-answer: a forbidden address after an allowed first answer refuses the request (SSRF)', async () => {
    const srv = await serve('127.0.0.1', 'reached');
    // The first answer is inside the test-only widening; the others must still be judged.
    for (const second of ['10.0.0.1', '169.254.169.254', '::1']) {
      const { resolve } = fakeDns('hibp.test', ['127.0.0.1', second]);
      const c = client({
        allowHosts: ['hibp.test'],
        allowHttp: true,
        allowPrivateCidrs: ['127.0.0.1/32'],
        resolve,
      });
      expect(await codeOf(c.request(`http://hibp.test:${srv.port}/`)), second).toBe(
        'OUTBOUND_ADDRESS_FORBIDDEN',
      );
    }
    expect(srv.connections()).toBe(0);
  });

  it('V5/connection-pinned: the connection dials the address the guard checked, never a lookup of its own (DNS rebinding)', async () => {
    // Our resolver says `localhost` is 127.0.0.2, where the server listens; the system's
    // resolver would say 127.0.0.1 or ::1, where nothing listens on that port. Only a
    // connection pinned to the checked answer reaches the server.
    const srv = await serve('127.0.0.2', 'pinned');
    const { resolve, calls } = fakeDns('localhost', ['127.0.0.2']);
    const c = client({
      allowHosts: ['localhost'],
      allowHttp: true,
      allowPrivateCidrs: ['127.0.0.2/32'],
      resolve,
    });
    const response = await c.request(`http://localhost:${srv.port}/range`);
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('pinned');
    expect(calls).toEqual(['localhost']);
    expect(srv.hits).toHaveLength(1);
    expect(srv.hits[0]?.headers.host).toBe(`localhost:${srv.port}`);
  });
});

describe('V1 request schemas (round 5)', () => {
  it('V1/array-items-walked: strings and objects inside arrays are held to maxLength and closed objects (unbounded input)', () => {
    const problems = routeViolations({
      method: 'POST',
      url: '/api/items',
      handler: async () => null,
      config: { access: requireScopes(['items:write']), rateClass: 'write' },
      schema: {
        body: Type.Object(
          {
            names: Type.Array(Type.String(), { maxItems: 10 }),
            rows: Type.Array(Type.Object({ id: Type.String({ maxLength: 36 }) }), {
              maxItems: 10,
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({}, { additionalProperties: false }) },
      },
    } as never);
    expect(problems).toEqual([
      'POST /api/items: body.names[]: string without maxLength',
      'POST /api/items: body.rows[]: object must set additionalProperties: false',
    ]);
  });
});

describe('L4 metrics listener (round 5)', () => {
  it('L4/metrics-host-loopback: with only a port set, the unauthenticated metrics listener binds loopback (public exposure)', () => {
    const config = loadConfig(testEnv({ HAVEN_METRICS_PORT: '9464' }));
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9464 });
    const widened = loadConfig(
      testEnv({ HAVEN_METRICS_PORT: '9464', HAVEN_METRICS_HOST: '10.0.0.5' }),
    );
    expect(widened.metrics?.host).toBe('10.0.0.5');
  });
});

describeEachEngine('D3 haven audit of the live app (round 5)', (engine) => {
  let database: TestDatabase;
  let plain: TestApp;
  let permissive: TestApp;
  beforeAll(async () => {
    database = await createTestDatabase(engine);
    plain = await createTestApp(engine, { database });
    permissive = await createTestApp(engine, {
      database,
      env: { HAVEN_CORS_ORIGINS: 'https://not-allowed.invalid' },
    });
  });
  afterAll(async () => {
    await permissive?.close();
    await plain?.close();
    await database?.close();
  });

  const verdictOf = (report: AuditReport, check: string) =>
    report.findings.find((item) => item.check === check)?.verdict;

  it('D3/unlisted-origin-verdict: an app answering the probe origin’s CORS preflight is a FAIL (exit 1)', async () => {
    const strict = await runSelfAudit(plain.config, plain.app, plain.database);
    expect(verdictOf(strict, 'unlisted origin')).toBe('PASS');
    const open = await runSelfAudit(permissive.config, permissive.app, permissive.database);
    expect(verdictOf(open, 'unlisted origin')).toBe('FAIL');
    expect(open.exitCode).toBe(1);
  });

  it('D3/plain-http-verdict: judged as production, an app serving the API over plain HTTP is a FAIL', async () => {
    // The test app answers plain HTTP (no redirect, writes accepted for checking): exactly
    // what a production deployment must never do.
    const asProduction = { ...plain.config, env: 'production' } as typeof plain.config;
    const report = await runSelfAudit(asProduction, plain.app, plain.database);
    const finding = report.findings.find((item) => item.check === 'plain HTTP refused');
    expect(finding?.verdict).toBe('FAIL');
    expect(finding?.evidence).toContain('GET /api/auth/me over HTTP → 401');
    expect(report.exitCode).toBe(1);
  });
});
