// A client that writes exactly the bytes it is given, as slowly as it likes, and reports what
// came back and when the server closed the connection: app.inject and node:http cannot send
// half a request, dawdle over the headers or leave a body unfinished. Plain TCP, or TLS for a
// server holding its own certificate (any certificate is accepted: the bytes are the point).
import net from 'node:net';
import tls from 'node:tls';

export interface RawExchange {
  /** Status of the first answer, 0 when none came. */
  readonly status: number;
  /** Header names in lower case; the first value of each. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Milliseconds from connecting until the server closed the connection. */
  readonly closedAfterMs: number;
  /** True when the server had not closed it by `giveUpAfterMs` (the client closed it then). */
  readonly stillOpen: boolean;
}

export interface RawDriver {
  /** Called once connected; may write more later, and returns how to stop doing so. */
  (socket: net.Socket): (() => void) | void;
}

function parse(raw: string): Pick<RawExchange, 'status' | 'headers' | 'body'> {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] ??= line.slice(colon + 1).trim();
  }
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
    headers,
    body: end === -1 ? '' : raw.slice(end + 4),
  };
}

/** Connects, lets `drive` write, and waits for the server to close (or `giveUpAfterMs`). */
export function rawExchange(
  port: number,
  drive: RawDriver | string,
  options: { giveUpAfterMs?: number; tls?: boolean } = {},
): Promise<RawExchange> {
  const giveUpAfterMs = options.giveUpAfterMs ?? 15_000;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = options.tls
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      : net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let stopWriting: (() => void) | void;
    let gaveUp = false;
    const giveUp = setTimeout(() => {
      gaveUp = true;
      socket.destroy();
    }, giveUpAfterMs);
    socket.on(options.tls ? 'secureConnect' : 'connect', () => {
      stopWriting = typeof drive === 'string' ? void socket.write(drive) : drive(socket);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may reset a connection it refuses while the client is still writing.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      clearTimeout(giveUp);
      stopWriting?.();
      resolve({
        ...parse(Buffer.concat(chunks).toString('utf8')),
        closedAfterMs: Date.now() - started,
        stillOpen: gaveUp,
      });
    });
  });
}

/** Writes `lines` one at a time, `everyMs` apart, forever (until stopped). */
export function trickle(socket: net.Socket, first: string, next: () => string, everyMs: number) {
  socket.write(first);
  const timer = setInterval(() => {
    if (socket.writable) socket.write(next());
  }, everyMs);
  return () => clearInterval(timer);
}

/** An HTTP/1.1 request as bytes; `Connection: close` unless headers say otherwise. */
export function httpRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): string {
  const all: Record<string, string> = {
    host: '127.0.0.1',
    connection: 'close',
    ...headers,
    ...(body ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
  };
  const lines = Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${method} ${path} HTTP/1.1\r\n${lines.join('')}\r\n${body}`;
}
