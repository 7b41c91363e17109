// Test harness only: fauxqs answers no CORS, and browsers PUT upload parts to storage from
// Haven's origin, so they need a preflight answer and `Access-Control-Expose-Headers: ETag` to
// read each part's ETag (what a real bucket's CORS rules give). This proxy on 127.0.0.1 adds
// them in front of fauxqs, logs the part PUTs it sees, and can hold one part in the network so a
// test can pause or reload while it is under way. It can also stop exposing ETag, as a bucket
// whose CORS rules forgot it does: the part is stored, but the browser cannot read its ETag.
import { createServer, request as forward, type IncomingMessage } from 'node:http';

export interface PartRequest {
  readonly partNumber: number;
  readonly uploadId: string;
}

export interface CorsProxy {
  /** `http://127.0.0.1:<port>`: the origin browsers send parts to. */
  readonly origin: string;
  /** Part PUTs that reached storage, in order of arrival. */
  readonly parts: PartRequest[];
  /** Keeps the next PUT of this part from reaching storage; `drop` ends it with a reset. */
  hold(partNumber: number): { held: Promise<void>; drop: () => void };
  /**
   * Until the returned function is called, answers leave ETag out of
   * `Access-Control-Expose-Headers` (the proxy serves one Haven server, whose presigned URLs name
   * its origin, so this is a switch rather than a second proxy).
   */
  hideETag(): () => void;
  close(): Promise<void>;
}

const CORS = {
  'access-control-allow-methods': 'GET, PUT, HEAD',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '600',
};
/** What a bucket must expose for browsers to read a part's ETag. */
const EXPOSE_ETAG = { 'access-control-expose-headers': 'ETag' };

function partOf(request: IncomingMessage): PartRequest | null {
  const url = new URL(request.url ?? '/', 'http://proxy');
  const partNumber = Number(url.searchParams.get('partNumber'));
  const uploadId = url.searchParams.get('uploadId');
  return request.method === 'PUT' && partNumber > 0 && uploadId ? { partNumber, uploadId } : null;
}

export async function startCorsProxy(target: string): Promise<CorsProxy> {
  const upstream = new URL(target);
  const parts: PartRequest[] = [];
  let holding: { partNumber: number; arrived: () => void; request?: IncomingMessage } | null = null;
  let exposeETag = true;
  const server = createServer((request, response) => {
    const origin = request.headers.origin;
    const rules = exposeETag ? { ...CORS, ...EXPOSE_ETAG } : CORS;
    const cors = origin ? { ...rules, 'access-control-allow-origin': origin, vary: 'Origin' } : {};
    if (request.method === 'OPTIONS') {
      response.writeHead(204, cors).end();
      return;
    }
    const part = partOf(request);
    if (part && holding && !holding.request && holding.partNumber === part.partNumber) {
      holding.request = request;
      holding.arrived();
      return;
    }
    if (part) parts.push(part);
    const proxied = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, host: upstream.host },
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...cors });
        answer.pipe(response);
      },
    );
    proxied.on('error', () => response.destroy());
    request.pipe(proxied);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    parts,
    hold(partNumber) {
      let arrived: () => void = () => undefined;
      const held = new Promise<void>((resolve) => (arrived = resolve));
      holding = { partNumber, arrived };
      return {
        held,
        drop() {
          holding?.request?.socket.destroy();
          holding = null;
        },
      };
    },
    hideETag() {
      exposeETag = false;
      return () => {
        exposeETag = true;
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
