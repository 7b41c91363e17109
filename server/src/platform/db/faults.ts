// Telling "the database is unreachable" apart from every other failure, so that an outage is
// answered with 503 + Retry-After (the caller should retry) instead of 500 (a bug), and so that
// start-up can wait for the database instead of crashing.

/** Socket-level failures node-postgres passes through from `net`/`dns`. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that mean "not now" rather than "wrong": class 08 (connection exception),
 * 57P01–57P03 (administrator/crash shutdown, cannot connect now: a restart or failover in
 * progress), 53300 (too many connections), and 55P03 / 57014 (lock_timeout / statement_timeout
 * ran out: a table locked elsewhere, a long migration; the pool's bounds, db/database.ts).
 */
const TRANSIENT_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '55P03', '57014']);

/** No room left: the file system (ENOSPC, EDQUOT) or the database's disk (53100 disk_full). */
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', '53100']);

/** True when the error says a disk (the uploads' or the database's) is full. */
export function isStorageFull(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const code = codeOf(error);
  if (code !== undefined && STORAGE_FULL_CODES.has(code)) return true;
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && isStorageFull(cause, depth + 1);
}

/** node-postgres reports a dropped socket with these messages and no code. */
const DROPPED_CONNECTION =
  /^(Connection terminated|Connection ended unexpectedly|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout)/;

function codeOf(error: object): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True when the error says the database could not be reached or went away mid-request. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const code = codeOf(error);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code) || TRANSIENT_SQLSTATES.has(code) || code.startsWith('08')) {
      return true;
    }
  }
  const message = (error as { message?: unknown }).message;
  if (typeof message === 'string' && DROPPED_CONNECTION.test(message)) return true;
  // `localhost` resolving to ::1 and 127.0.0.1 fails as an AggregateError of both attempts.
  if (error instanceof AggregateError) {
    return error.errors.some((inner) => isDatabaseUnavailable(inner, depth + 1));
  }
  const cause = (error as { cause?: unknown }).cause;
  return cause !== undefined && isDatabaseUnavailable(cause, depth + 1);
}

/** A one-line description for logs: the code and message, never a connection string. */
export function describeDatabaseFault(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown error';
  const code = codeOf(error);
  const message = (error as { message?: unknown }).message;
  const text =
    typeof message === 'string' ? message.replace(/postgres(ql)?:\/\/\S+/g, '<url>') : '';
  return [code, text].filter(Boolean).join(': ').slice(0, 300) || 'unknown error';
}

interface FaultLogger {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/**
 * Logs a failed background step (a poll, a job): an outage as one warning line without a
 * stack (it repeats every poll until the database is back), anything else as an error.
 */
export function logBackgroundFailure(log: FaultLogger, error: unknown, message: string): void {
  if (isDatabaseUnavailable(error)) {
    log.warn({ cause: describeDatabaseFault(error) }, `${message}: database unavailable`);
  } else {
    log.error({ err: error }, message);
  }
}
