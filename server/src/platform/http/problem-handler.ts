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
import { describeDatabaseFault, isDatabaseUnavailable } from '../db/faults.js';

/** Seconds a caller should wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

/** The answer to every request that meets a database outage: 503 and when to retry. */
export function databaseUnavailable(): HavenError {
  return new HavenError('SERVICE_UNAVAILABLE', 'The database is unavailable; try again shortly.', {
    headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
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

/** Names the offending field without echoing the submitted value. */
function fieldErrors(issues: readonly AjvIssue[], context: string | undefined): FieldError[] {
  return issues.slice(0, 20).map((issue) => {
    const base = `${context ?? 'body'}${(issue.instancePath ?? '').replaceAll('/', '.')}`;
    const extra = issue.params?.additionalProperty ?? issue.params?.missingProperty;
    const field = typeof extra === 'string' ? `${base}.${extra}`.slice(0, 500) : base.slice(0, 500);
    const message =
      issue.keyword === 'additionalProperties'
        ? 'unknown property'
        : (issue.message ?? 'invalid').slice(0, 500);
    return { field, message };
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
  // Before the framework codes: a dropped connection is nobody's bug, and the caller should
  // retry rather than report it (a restart or failover lasts seconds).
  if (isDatabaseUnavailable(error)) return { error: databaseUnavailable(), internal: false };
  const mapped = fastifyError.code ? FRAMEWORK_CODES[fastifyError.code] : undefined;
  if (mapped) return { error: new HavenError(mapped), internal: false };
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { error: new HavenError(STATUS_CODES[status] ?? 'BAD_REQUEST'), internal: false };
  }
  return { error: new HavenError('INTERNAL_ERROR'), internal: true };
}

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  error: HavenError,
): FastifyReply {
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
    else if (safe.code === 'SERVICE_UNAVAILABLE') {
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
