/**
 * Control F5: the malware scanner's client. Every completed upload is streamed to clamd with
 * INSTREAM (over TCP or a Unix socket) and the answer is one of three verdicts: clean, infected
 * (with the signature's name), or an error that says whether trying again may help. Anything that
 * is not a well-formed `stream: OK` is never clean: an unreachable, silent or confused scanner
 * leaves the file undownloadable.
 *
 * Why our own client rather than an npm one: `clamdjs` (and its forks) is TCP-only, unmaintained
 * since 2019, and resolves with clamd's raw reply, leaving every caller to parse it; `clamscan`
 * wraps the binaries as well as the socket, and its socket path has resolved some failures (e.g.
 * the stream size limit) as results instead of errors (kylefarris/clamscan#102), the fail-open
 * shape F5 forbids. The protocol is small (clamd(8): `zINSTREAM\0`, 4-byte big-endian length
 * prefixed chunks, a zero-length terminator, one NUL-terminated reply), so owning it keeps the
 * verdicts typed, the failures fail closed and the memory flat.
 */
import { once } from 'node:events';
import net from 'node:net';

/** Where clamd listens: `TCPSocket`/`TCPAddr`, or `LocalSocket`. */
export type ClamdAddress = { host: string; port: number } | { socketPath: string };

export interface ClamdClientOptions {
  address: ClamdAddress;
  /** Budget for the connection to open. Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * Longest silence on an open connection (nothing written or read) before giving up. clamd
   * answers only once the whole stream is in, so this must cover scanning the largest file after
   * its last byte. Default 60 s.
   */
  idleTimeoutMs?: number;
  /** Silence allowed for PING and VERSION, which clamd answers at once. Default 2 s. */
  probeTimeoutMs?: number;
  /** Largest INSTREAM chunk. Default 64 KiB, clamd's own read size. */
  chunkBytes?: number;
  /**
   * clamd's StreamMaxLength, in bytes. A larger stream is refused here as STREAM_TOO_LARGE (not
   * worth retrying) before clamd hangs up on it, which otherwise often reaches the client as a
   * broken pipe that reads as a retryable lost connection. Unset: clamd alone decides.
   */
  streamMaxBytes?: number;
}

export type ScanFailure =
  /** Nothing listens at the address, or the connection did not open in time. */
  | 'SCANNER_UNREACHABLE'
  /** The connection opened, then went silent for longer than the idle timeout. */
  | 'SCANNER_TIMEOUT'
  /** The connection closed or broke before a complete answer. */
  | 'CONNECTION_LOST'
  /** The stream is larger than clamd's StreamMaxLength: the same file will fail again. */
  | 'STREAM_TOO_LARGE'
  /** clamd stopped at one of its scan limits (MaxScanSize, MaxFileSize, …): not fully scanned. */
  | 'SCAN_LIMIT_EXCEEDED'
  /** clamd answered `… ERROR` (out of memory, a temporary file it could not write, …). */
  | 'SCANNER_ERROR'
  /** An answer this client does not understand. */
  | 'PROTOCOL_ERROR'
  /** Reading the file to scan failed (the storage, not the scanner). */
  | 'SOURCE_FAILED';

export type ScanResult =
  | { readonly verdict: 'clean' }
  | { readonly verdict: 'infected'; readonly signature: string }
  | {
      readonly verdict: 'error';
      readonly reason: ScanFailure;
      /** True when the same file may scan on a later attempt; the caller keeps it pending. */
      readonly retryable: boolean;
      /** For logs and operators; may quote clamd, never the file. */
      readonly detail: string;
    };

export type ClamdProbe =
  | { readonly ok: true; readonly version: string }
  | { readonly ok: false; readonly reason: ScanFailure; readonly detail: string };

export interface ClamdClient {
  /** Streams the bytes to clamd with backpressure; never rejects. */
  scan(source: AsyncIterable<Uint8Array | string>): Promise<ScanResult>;
  /** PING, then VERSION: for /readyz. Never rejects. */
  probe(): Promise<ClamdProbe>;
}

const DEFAULTS = {
  connectTimeoutMs: 5000,
  idleTimeoutMs: 60_000,
  probeTimeoutMs: 2000,
  chunkBytes: 64 * 1024,
};
/** clamd's replies are one short line; anything longer is not clamd. */
const MAX_REPLY_BYTES = 4096;
/** clamd's own INSTREAM chunk ceiling is far above this; the length prefix is 32 bits. */
const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
const TERMINATOR = Buffer.alloc(4);
/**
 * The file's bytes sent per corked write. One batch is on its way to clamd while the next is
 * gathered, so a scan holds about twice this, plus what the socket buffers.
 */
const BATCH_BYTES = 1024 * 1024;
/** The longest a received piece waits in a batch before it is sent anyway. */
const BATCH_MAX_WAIT_MS = 1000;

const RETRYABLE: Record<ScanFailure, boolean> = {
  SCANNER_UNREACHABLE: true,
  SCANNER_TIMEOUT: true,
  CONNECTION_LOST: true,
  STREAM_TOO_LARGE: false,
  SCAN_LIMIT_EXCEEDED: false,
  SCANNER_ERROR: true,
  PROTOCOL_ERROR: true,
  SOURCE_FAILED: true,
};

type ScanError = Extract<ScanResult, { verdict: 'error' }>;

function failure(reason: ScanFailure, detail: string): ScanError {
  return { verdict: 'error', reason, retryable: RETRYABLE[reason], detail };
}

/**
 * `tcp://host:port` or `unix:///path/to/clamd.ctl` (the form configuration uses) → an address.
 * Throws on anything else, so a typo fails at start rather than at the first scan.
 */
export function parseClamdAddress(url: string): ClamdAddress {
  const parsed = new URL(url);
  if (parsed.protocol === 'unix:' && parsed.pathname.startsWith('/') && !parsed.host) {
    return { socketPath: decodeURIComponent(parsed.pathname) };
  }
  const port = Number(parsed.port);
  if (parsed.protocol === 'tcp:' && parsed.hostname && Number.isInteger(port) && port > 0) {
    return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port };
  }
  throw new Error('a clamd address is tcp://host:port or unix:///path/to/socket');
}

/** One reply line of INSTREAM, NUL and trailing whitespace removed, → a verdict. */
export function parseScanReply(reply: string): ScanResult {
  const line = reply.replace(/\0[\s\S]*$/, '').trim();
  if (line === 'stream: OK') return { verdict: 'clean' };
  const found = /^stream: (.+) FOUND$/.exec(line);
  if (found) {
    const signature = found[1]!;
    // AlertExceedsMax reports a limit as a detection; the file was only partly scanned.
    if (signature.startsWith('Heuristics.Limits.Exceeded')) {
      return failure('SCAN_LIMIT_EXCEEDED', `clamd stopped at a scan limit: ${signature}`);
    }
    return { verdict: 'infected', signature };
  }
  if (/^INSTREAM size limit exceeded/.test(line)) {
    return failure('STREAM_TOO_LARGE', 'the file is larger than clamd accepts (StreamMaxLength)');
  }
  if (line.endsWith(' ERROR')) return failure('SCANNER_ERROR', `clamd: ${line.slice(0, 200)}`);
  return failure('PROTOCOL_ERROR', `unexpected clamd reply: ${JSON.stringify(line.slice(0, 200))}`);
}

/** Thrown by a sender that refuses to go on; the exchange ends with its result. */
class Refusal extends Error {
  constructor(readonly result: ScanError) {
    super(result.detail);
  }
}

function socketFailure(error: NodeJS.ErrnoException, connected: boolean): ScanError {
  const code = error.code ?? 'UNKNOWN';
  if (!connected) return failure('SCANNER_UNREACHABLE', `cannot reach clamd (${code})`);
  return failure('CONNECTION_LOST', `the connection to clamd broke (${code})`);
}

interface Exchange<Answer> {
  /** Writes the request on the open socket; resolves once everything is written. */
  send(socket: net.Socket, isDone: () => boolean): Promise<void>;
  /** Longest silence on the open connection. */
  idleTimeoutMs: number;
  /** Turns the complete (NUL-terminated) reply into the answer. */
  parse(reply: string): Answer;
  /** What a reply cut off by a close still proves, if anything. */
  parseCutOff?(reply: string): Answer | ScanError;
}

export function createClamdClient(options: ClamdClientOptions): ClamdClient {
  const settings = { ...DEFAULTS, ...options };
  if (!(settings.chunkBytes >= 1 && settings.chunkBytes <= MAX_CHUNK_BYTES)) {
    throw new RangeError(`chunkBytes must be between 1 and ${MAX_CHUNK_BYTES}`);
  }

  /**
   * One connection, one command, one NUL-terminated reply. Every way it can end (reply, close,
   * socket error, timeout, source error) goes through `finish` once; the socket is destroyed then.
   */
  function exchange<Answer>(request: Exchange<Answer>): Promise<Answer | ScanError> {
    return new Promise((resolve) => {
      const { address } = settings;
      const socket = net.connect(
        'socketPath' in address
          ? { path: address.socketPath }
          : { host: address.host, port: address.port },
      );
      const reply: Buffer[] = [];
      let replyBytes = 0;
      let connected = false;
      let done = false;
      const connectTimer = setTimeout(
        () => finish(failure('SCANNER_UNREACHABLE', 'clamd did not accept the connection in time')),
        settings.connectTimeoutMs,
      );
      const replyText = () => Buffer.concat(reply).toString('utf8');
      const cutOff = (fallback: ScanError) =>
        replyBytes > 0 && request.parseCutOff ? request.parseCutOff(replyText()) : fallback;

      function finish(result: Answer | ScanError): void {
        if (done) return;
        done = true;
        clearTimeout(connectTimer);
        socket.destroy();
        resolve(result);
      }

      socket.once('connect', () => {
        connected = true;
        clearTimeout(connectTimer);
        socket.setTimeout(request.idleTimeoutMs);
        request
          .send(socket, () => done)
          .then(
            () => undefined,
            (cause: unknown) => {
              if (cause instanceof Refusal) {
                finish(cause.result);
                return;
              }
              // A socket error also reaches the 'error' listener below, which ran first.
              const message = cause instanceof Error ? cause.message : String(cause);
              finish(failure('SOURCE_FAILED', `reading the file to scan failed: ${message}`));
            },
          );
      });
      socket.on('data', (chunk: Buffer) => {
        reply.push(chunk);
        replyBytes += chunk.length;
        if (chunk.includes(0)) finish(request.parse(replyText()));
        else if (replyBytes > MAX_REPLY_BYTES) {
          finish(failure('PROTOCOL_ERROR', 'clamd sent an over-long reply'));
        }
      });
      socket.on('timeout', () =>
        finish(failure('SCANNER_TIMEOUT', `clamd was silent for ${request.idleTimeoutMs} ms`)),
      );
      // clamd hangs up after refusing a stream, and a reset may follow: what arrived before the
      // close still counts, but only as far as parseCutOff lets it.
      socket.on('end', () =>
        finish(cutOff(failure('CONNECTION_LOST', 'clamd closed the connection without answering'))),
      );
      socket.on('error', (error: NodeJS.ErrnoException) =>
        finish(cutOff(socketFailure(error, connected))),
      );
      socket.on('close', () =>
        finish(failure('CONNECTION_LOST', 'the connection to clamd closed without an answer')),
      );
    });
  }

  /**
   * Writes `data` as one batch (corked, so the pieces leave in one writev rather than a system
   * call each) and, when the socket's buffer is full, waits for it to drain (or for the end).
   */
  async function write(socket: net.Socket, data: readonly Uint8Array[], isDone: () => boolean) {
    socket.cork();
    let flowing = true;
    for (const piece of data) flowing = socket.write(piece);
    socket.uncork();
    if (flowing || isDone()) return;
    const ended = new AbortController();
    const stop = () => ended.abort();
    socket.once('close', stop);
    try {
      await once(socket, 'drain', { signal: ended.signal });
    } catch (error) {
      if (!ended.signal.aborted) throw error;
    } finally {
      socket.off('close', stop);
    }
  }

  async function sendStream(
    source: AsyncIterable<Uint8Array | string>,
    socket: net.Socket,
    isDone: () => boolean,
  ): Promise<void> {
    await write(socket, [Buffer.from('zINSTREAM\0')], isDone);
    const limit = settings.streamMaxBytes ?? Number.POSITIVE_INFINITY;
    let sent = 0;
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    let lastWrite = performance.now();
    // The batch on its way: the next one is read from storage (and decrypted) while this one
    // drains, where waiting for it first left clamd idle during every read and the reading idle
    // during every drain (scan.bench.ts). Its failure is kept for the next await, not unhandled.
    let sending: Promise<void> = Promise.resolve();
    // Leaving the loop early (isDone) ends the iteration, which destroys a Readable source.
    for await (const item of source) {
      const chunk = typeof item === 'string' ? Buffer.from(item) : item;
      sent += chunk.length;
      if (sent > limit) {
        throw new Refusal(
          failure('STREAM_TOO_LARGE', `the file is larger than clamd accepts (${limit} bytes)`),
        );
      }
      // The INSTREAM chunks (a length, then its bytes) gather until a batch is worth a system
      // call: storage yields 64 KiB pieces, and a write (and a wait for the socket to drain)
      // per piece kept the scan behind clamdscan streaming the same file (scan.bench.ts). The
      // pieces are held until sent, which is safe as streams yield buffers they do not reuse.
      for (let at = 0; at < chunk.length; at += settings.chunkBytes) {
        const piece = chunk.subarray(at, at + settings.chunkBytes);
        const length = Buffer.alloc(4);
        length.writeUInt32BE(piece.length);
        batch.push(length, piece);
        batchBytes += piece.length;
      }
      if (isDone()) return;
      // A slow source (a throttled bucket) still sends at least every BATCH_MAX_WAIT_MS, so clamd
      // and the idle timer see the stream move as they did with a write per piece.
      if (batchBytes >= BATCH_BYTES || performance.now() - lastWrite >= BATCH_MAX_WAIT_MS) {
        await sending;
        if (isDone()) return;
        sending = write(socket, batch, isDone);
        sending.catch(() => undefined);
        batch = [];
        batchBytes = 0;
        lastWrite = performance.now();
      }
    }
    await sending;
    if (!isDone()) await write(socket, [...batch, TERMINATOR], isDone);
  }

  /** A command with a one-line answer (PING, VERSION): the answer's text, or why there is none. */
  function command(name: 'PING' | 'VERSION'): Promise<{ text: string } | ScanError> {
    return exchange({
      send: (socket, isDone) => write(socket, [Buffer.from(`z${name}\0`)], isDone),
      idleTimeoutMs: settings.probeTimeoutMs,
      parse: (reply) => ({ text: reply.replace(/\0[\s\S]*$/, '').trim() }),
    });
  }

  return {
    scan(source) {
      return exchange({
        send: (socket, isDone) => sendStream(source, socket, isDone),
        idleTimeoutMs: settings.idleTimeoutMs,
        parse: parseScanReply,
        // "stream: OK" without its NUL could be the start of "stream: OK.Some.Signature FOUND":
        // a cut-off reply may prove a detection or an error, never a clean file.
        parseCutOff(reply) {
          const result = parseScanReply(reply);
          return result.verdict === 'clean'
            ? failure('CONNECTION_LOST', "clamd's answer was cut off")
            : result;
        },
      });
    },

    async probe() {
      const ping = await command('PING');
      if ('verdict' in ping) return { ok: false, reason: ping.reason, detail: ping.detail };
      if (ping.text !== 'PONG') {
        return { ok: false, reason: 'PROTOCOL_ERROR', detail: 'clamd did not answer PING' };
      }
      const version = await command('VERSION');
      if ('verdict' in version) {
        return { ok: false, reason: version.reason, detail: version.detail };
      }
      return { ok: true, version: version.text.slice(0, 200) };
    },
  };
}
