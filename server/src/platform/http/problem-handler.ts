// Renders every error (thrown, framework, validation, unknown) as problem+json with the
// request id (V4). Only catalog titles and details written for callers leave the server;
// anything else becomes INTERNAL_ERROR and its details go to the log.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import {
  ERROR_CATALOG,
  HavenError,
  toProblem,
  type ErrorCode,
  type FieldError,
} from '../errors.js';
import { describeDatabaseFault, isDatabaseUnavailable, isStorageFull } from '../db/faults.js';
import { StorageError } from '../storage/storage.js';

/** Seconds a caller should wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

/** The answer to every request that meets a database outage: 503 and when to retry. */
export function databaseUnavailable(): HavenError {
  return new HavenError('SERVICE_UNAVAILABLE', 'The database is unavailable; try again shortly.', {
    headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
}

/**
 * Seconds a client waits before retrying when storage is full or a bucket refuses Haven: an
 * operator or the bucket's owner must act first.
 */
const STORAGE_NEEDS_A_PERSON_RETRY_AFTER_SECONDS = 60;

/** A full disk: nothing the caller did wrong, and nothing a quick retry fixes. */
export function storageFull(): HavenError {
  return new HavenError('SERVICE_UNAVAILABLE', 'Storage is full; try again later.', {
    headers: { 'retry-after': String(STORAGE_NEEDS_A_PERSON_RETRY_AFTER_SECONDS) },
  });
}

/** Seconds a client waits before retrying when the object store did not answer at all. */
const STORAGE_UNREACHABLE_RETRY_AFTER_SECONDS = 5;

/**
 * What the object store said, for the caller: storage that did not answer, or that refused Haven
 * (a bucket's owner changed its keys or removed it at the provider), is a 503 with the reason,
 * not an internal error. Anything else storage reports (integrity, a malformed request) stays
 * internal: it is a fault to look into, not something the caller can act on.
 */
function storageProblem(error: unknown): HavenError | undefined {
  if (!(error instanceof StorageError)) return undefined;
  if (error.code === 'STORAGE_UNAVAILABLE') {
    return new HavenError(
      'SERVICE_UNAVAILABLE',
      'File storage did not answer; try again shortly.',
      {
        headers: { 'retry-after': String(STORAGE_UNREACHABLE_RETRY_AFTER_SECONDS) },
      },
    );
  }
  if (error.code === 'STORAGE_ACCESS_DENIED' || error.code === 'STORAGE_BUCKET_NOT_FOUND') {
    return new HavenError(
      'SERVICE_UNAVAILABLE',
      "The storage bucket refused Haven's request: its keys or the bucket itself changed at the provider, and its owner must update the bucket in Haven.",
      { headers: { 'retry-after': String(STORAGE_NEEDS_A_PERSON_RETRY_AFTER_SECONDS) } },
    );
  }
  return undefined;
}

const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_BAD_URL: 'PATH_INVALID',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST',
  FST_ERR_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

interface AjvIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

/** How each ajv `format` is asked for, in words (issue 14: no schema text reaches a person). */
const FORMAT_SENTENCES: Record<string, string> = {
  email: 'Enter an email address like name@example.org.',
  uuid: 'This is not a valid identifier.',
  date: 'Enter a date like 2026-03-14.',
  'date-time': 'Enter a date and time like 2026-03-14T09:30:00Z.',
  time: 'Enter a time like 09:30.',
  uri: 'Enter a web address like https://example.org.',
  url: 'Enter a web address like https://example.org.',
  hostname: 'Enter a host name like example.org.',
  ipv4: 'Enter an IPv4 address like 192.0.2.10.',
  ipv6: 'Enter an IPv6 address.',
};

const TYPE_SENTENCES: Record<string, string> = {
  integer: 'Enter a whole number.',
  number: 'Enter a number.',
  boolean: 'Choose yes or no.',
  string: 'Enter text here.',
};

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/**
 * One ajv issue as a field error: a machine code with its limit or format, and a sentence a
 * person can act on. The submitted value is never echoed.
 */
function describeIssue(issue: AjvIssue): Omit<FieldError, 'field'> {
  const params = issue.params ?? {};
  const limit = typeof params.limit === 'number' ? params.limit : undefined;
  switch (issue.keyword) {
    case 'required':
      return { code: 'required', message: 'This field is required.' };
    case 'additionalProperties':
      return { code: 'unknown_property', message: 'This field is not accepted here.' };
    case 'format': {
      const format = typeof params.format === 'string' ? params.format : '';
      return {
        code: 'format',
        format,
        message: FORMAT_SENTENCES[format] ?? 'This value is not in the expected form.',
      };
    }
    case 'minLength':
      return limit === undefined
        ? { code: 'too_short', message: 'This is too short.' }
        : {
            code: 'too_short',
            limit,
            message:
              limit <= 1
                ? 'This field is required.'
                : `Use at least ${plural(limit, 'character', 'characters')}.`,
          };
    case 'maxLength':
      return limit === undefined
        ? { code: 'too_long', message: 'This is too long.' }
        : {
            code: 'too_long',
            limit,
            message: `Use at most ${plural(limit, 'character', 'characters')}.`,
          };
    case 'minimum':
    case 'exclusiveMinimum':
      return limit === undefined
        ? { code: 'too_small', message: 'This number is too small.' }
        : { code: 'too_small', limit, message: `Enter a number of at least ${limit}.` };
    case 'maximum':
    case 'exclusiveMaximum':
      return limit === undefined
        ? { code: 'too_large', message: 'This number is too large.' }
        : { code: 'too_large', limit, message: `Enter a number of at most ${limit}.` };
    case 'minItems':
      return limit === undefined
        ? { code: 'too_few', message: 'Add more entries.' }
        : { code: 'too_few', limit, message: `Add at least ${plural(limit, 'entry', 'entries')}.` };
    case 'maxItems':
      return limit === undefined
        ? { code: 'too_many', message: 'There are too many entries.' }
        : {
            code: 'too_many',
            limit,
            message: `Keep it to at most ${plural(limit, 'entry', 'entries')}.`,
          };
    case 'pattern':
      return { code: 'pattern', message: 'This contains characters that are not allowed here.' };
    case 'enum':
    case 'const':
      return { code: 'choice', message: 'Choose one of the offered options.' };
    case 'type': {
      const expected = typeof params.type === 'string' ? params.type : '';
      return {
        code: 'type',
        expected,
        message: TYPE_SENTENCES[expected] ?? 'This value has the wrong form.',
      };
    }
    default:
      return { code: 'invalid', message: 'This value is not accepted.' };
  }
}

/** Names the offending field without echoing the submitted value. */
function fieldErrors(issues: readonly AjvIssue[], context: string | undefined): FieldError[] {
  return issues.slice(0, 20).map((issue) => {
    const base = `${context ?? 'body'}${(issue.instancePath ?? '').replaceAll('/', '.')}`;
    const extra = issue.params?.additionalProperty ?? issue.params?.missingProperty;
    const field = typeof extra === 'string' ? `${base}.${extra}`.slice(0, 500) : base.slice(0, 500);
    return { field, ...describeIssue(issue) };
  });
}

/** Maps anything thrown to a HavenError that is safe to show. */
export function toHavenError(error: unknown): { error: HavenError; internal: boolean } {
  if (error instanceof HavenError) return { error, internal: false };
  const fastifyError = error as Partial<FastifyError> & { validation?: AjvIssue[] };
  if (Array.isArray(fastifyError.validation)) {
    const errors = fieldErrors(fastifyError.validation, fastifyError.validationContext);
    const first = errors[0];
    return {
      error: new HavenError(
        'VALIDATION_FAILED',
        first ? `${first.field}: ${first.message}` : undefined,
        { errors },
      ),
      internal: false,
    };
  }
  // Object storage first: a refused connection in its cause (ECONNREFUSED) is not the database's.
  const fromStorage = storageProblem(error);
  if (fromStorage) return { error: fromStorage, internal: false };
  // Before the framework codes: a dropped connection is nobody's bug, and the caller should
  // retry rather than report it (a restart or failover lasts seconds).
  if (isDatabaseUnavailable(error)) return { error: databaseUnavailable(), internal: false };
  if (isStorageFull(error)) return { error: storageFull(), internal: false };
  const mapped = fastifyError.code ? FRAMEWORK_CODES[fastifyError.code] : undefined;
  if (mapped) return { error: new HavenError(mapped), internal: false };
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { error: new HavenError(STATUS_CODES[status] ?? 'BAD_REQUEST'), internal: false };
  }
  return { error: new HavenError('INTERNAL_ERROR'), internal: true };
}

// The catalog code of each problem answered, for the error counter (platform/metrics): every
// problem leaves through sendProblem, so this is the one place that knows it.
const problemCodes = new WeakMap<FastifyRequest, ErrorCode>();

/** The catalog code of the problem a request was answered with, if it was. */
export function problemCodeOf(request: FastifyRequest): ErrorCode | undefined {
  return problemCodes.get(request);
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  error: HavenError,
): FastifyReply {
  problemCodes.set(request, error.code);
  // A problem is never cacheable, whatever the path asked for: a 404 or 429 on a content-hashed
  // asset path (a node without a new build's asset during a rolling deploy) would otherwise be
  // kept for a year by browsers and shared caches under the asset's final URL (T3).
  reply.header('cache-control', 'no-store');
  for (const [name, value] of Object.entries(error.extra.headers ?? {})) reply.header(name, value);
  return reply
    .code(ERROR_CATALOG[error.code].status)
    .type('application/problem+json; charset=utf-8')
    .send(JSON.stringify(toProblem(error, request.id)));
}

const ALL_METHODS: HTTPMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Installs the error and not-found handlers. The not-found route is rate limited like every
 * other: the limiter is a global onRequest hook (app.ts), which Fastify runs for it too.
 */
export function installProblemHandlers(app: FastifyInstance): void {
  // A shadow router of declared routes, to tell 405 (path exists, other method) from 404.
  const shadow = FindMyWay({ ignoreTrailingSlash: false });
  app.addHook('onRoute', (route) => {
    if (route.config?.spaFallback || route.method === 'OPTIONS') return;
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (!shadow.hasRoute(method as HTTPMethod, route.url)) {
        shadow.on(method as HTTPMethod, route.url, () => undefined);
      }
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const { error: safe, internal } = toHavenError(error);
    if (internal) request.log.error({ err: error }, 'unhandled error');
    else if (isStorageFull(error)) {
      // The operator must free space: loud, but one line without a stack.
      request.log.error({ code: safe.code, cause: describeDatabaseFault(error) }, 'storage full');
    } else if (safe.code === 'SERVICE_UNAVAILABLE') {
      request.log.warn(
        { code: safe.code, cause: describeDatabaseFault(error) },
        'service unavailable',
      );
    } else if (safe.statusCode >= 400) request.log.info({ code: safe.code }, 'request refused');
    return sendProblem(reply, request, safe);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?', 1)[0] ?? '/';
    const allowed = ALL_METHODS.filter((method) => shadow.find(method, path) !== null);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(reply, request, new HavenError('METHOD_NOT_ALLOWED'));
    }
    return sendProblem(reply, request, new HavenError('NOT_FOUND'));
  });
}
