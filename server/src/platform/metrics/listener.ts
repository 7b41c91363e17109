// The metrics listener (L4): a tiny node:http server of its own, on HAVEN_METRICS_HOST and
// HAVEN_METRICS_PORT, never a route of the public app, so nothing the public port serves (and
// no proxy in front of it) can reach the metrics. It answers GET /metrics and nothing else,
// parses no body and sets no cookies; it binds loopback unless told otherwise, and beyond
// that relies on the network: it must stay on a private network (docs/configuration.md).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { HavenMetrics } from './index.js';

export interface MetricsListener {
  /** The port actually bound (the configured one, or the system's pick for port 0). */
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

const HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

function answer(server: Server, metrics: HavenMetrics, log: Logger): void {
  server.on('request', (request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') {
      response.writeHead(404, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' });
      response.end('Not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { ...HEADERS, allow: 'GET, HEAD' });
      response.end();
      return;
    }
    metrics.scrape().then(
      (body) => {
        response.writeHead(200, { ...HEADERS, 'content-type': metrics.contentType });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        // scrape() does not throw for a database fault; this is a bug, told to the log only.
        log.error({ err: error }, 'metrics: scrape failed');
        response.writeHead(500, { ...HEADERS, 'content-type': 'text/plain; charset=utf-8' });
        response.end('Scrape failed\n');
      },
    );
  });
}

/** Starts serving `metrics` (and turns on the process metrics, which only a served registry needs). */
export async function startMetricsListener(options: {
  readonly metrics: HavenMetrics;
  readonly host: string;
  readonly port: number;
  readonly log: Logger;
}): Promise<MetricsListener> {
  const { metrics, host, log } = options;
  metrics.includeProcessMetrics();
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000 });
  // A scraper keeps its connection; a short idle timeout is enough for one every few seconds.
  server.keepAliveTimeout = 30_000;
  answer(server, metrics, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  log.info({ host, port }, 'metrics listener started');
  return {
    port,
    host,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
