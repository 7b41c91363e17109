// L1/L2: the only way Haven builds a logger. Every line is re-sanitized as the final step before
// the stream (hooks.streamWrite), so child loggers, Fastify's request logger, custom serializers,
// child formatter overrides and message interpolation cannot bypass masking (masking.ts).
import { pino, stdSerializers } from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';
import {
  LIMITS,
  REDACTED,
  SERIALIZED_KEYS,
  isRecord,
  keyCache,
  maskKey,
  maskPii,
  sanitize,
} from './masking.js';

export { maskPii, maskText, maskTextExhaustive } from './masking.js';

/**
 * True when the early pass could not change what the final pass writes: at most LIMITS.keys
 * keys, each one that masking leaves unchanged (so it classifies the same in both passes) and
 * not `code` (whose treatment depends on the keys around it), and values that are short
 * strings, numbers, booleans, null or undefined, or go to the serializers. Such an object
 * (Fastify's request lines, `{ reqId }` bindings) is small, and the final pass masks each of
 * its values as the early pass would have.
 */
function needsNoEarlyPass(obj: Record<string, unknown>): boolean {
  let keys = 0;
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    if (++keys > LIMITS.keys || key === 'code') return false;
    const value = obj[key];
    if (SERIALIZED_KEYS.has(key)) continue;
    if (typeof value === 'string') {
      if (value.length > LIMITS.chars) return false;
    } else if (value !== null && value !== undefined && typeof value !== 'number') {
      if (typeof value !== 'boolean') return false;
    }
    if (!keyCache.has(key) && maskKey(key) !== key) return false;
  }
  return true;
}

// Early pass on the merging object: bounds size before pino stringifies it. `req`/`res`/`err` go
// to the serializers below untouched so they can pick fields from the live objects.
function sanitizeLogObject(obj: Record<string, unknown>): Record<string, unknown> {
  if (needsNoEarlyPass(obj)) return obj;
  const rest: Record<string, unknown> = {};
  const passthrough: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    (SERIALIZED_KEYS.has(key) ? passthrough : rest)[key] = value;
  }
  const clean = maskPii(rest);
  return { ...(isRecord(clean) ? clean : {}), ...passthrough };
}

// Final pass on the exact bytes about to be written; fails closed if the line is not JSON.
function sanitizeLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return `${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg: 'log line dropped: not JSON' })}\n`;
  }
  // The line also holds pino's fields and child bindings: let them through beyond the object's key limit.
  return `${JSON.stringify(sanitize(parsed, 3 * LIMITS.keys))}\n`;
}

// Query values can carry reset/invitation tokens, OAuth codes or emails; keep only parameter names.
function redactQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q + 1) + url.slice(q + 1).replace(/=[^&#]*/g, `=${REDACTED}`);
}

/** Fastify/pino serializers: whitelisted fields only; headers (Authorization, Cookie) and bodies never. */
export const requestSerializers = {
  req(req: unknown): unknown {
    if (!isRecord(req)) return undefined;
    const socket = req.socket;
    // No `id`: the request logger's `reqId` binding already names the request on every line.
    return {
      method: req.method,
      url: typeof req.url === 'string' ? redactQuery(req.url) : undefined,
      remoteAddress: req.ip ?? (isRecord(socket) ? socket.remoteAddress : undefined),
    };
  },
  res(res: unknown): unknown {
    return { statusCode: isRecord(res) ? res.statusCode : undefined };
  },
  err(err: unknown): unknown {
    return maskPii(err instanceof Error ? stdSerializers.err(err) : err);
  },
};

/**
 * Bytes of log lines gathered before one write(2), and the longest a line waits when fewer
 * arrive. pino's default stdout destination writes each line by itself: under load that
 * write and its completion cost an authenticated read more than its masking (issue 9). A
 * gathered line reaches the stream within LOG_FLUSH_MS, and pino flushes what is left
 * synchronously when the process exits (normally, by signal handler or uncaught error);
 * only a SIGKILL can lose the last LOG_FLUSH_MS of access lines (audit events are in the
 * database, never here).
 */
export const LOG_BUFFER_BYTES = 4096;
export const LOG_FLUSH_MS = 100;

/** The destination of the long-running processes (`haven serve`, `haven worker`): fd or path. */
export function bufferedLogDestination(dest: number | string): DestinationStream {
  return pino.destination({
    dest,
    sync: false,
    minLength: LOG_BUFFER_BYTES,
    periodicFlush: LOG_FLUSH_MS,
  });
}

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: requestSerializers,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: sanitizeLogObject,
      log: sanitizeLogObject,
    },
    hooks: { streamWrite: sanitizeLine },
  };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}
