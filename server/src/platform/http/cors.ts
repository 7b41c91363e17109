// CORS (T5): exact origins from config; preflights validated against method and header
// allowlists; other origins get no CORS headers at all. Written here rather than with
// @fastify/cors because that plugin answers any preflight instead of refusing ones that
// ask for methods or headers outside the allowlist.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../errors.js';
import { PUBLIC } from './route-contract.js';

export const CORS_ALLOWED_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const CORS_ALLOWED_HEADERS = [
  'content-type',
  'x-csrf-token',
  'x-request-id',
  'authorization',
] as const;
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/** The header names a preflight asks for, lower-cased. */
export function requestedHeaders(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
}

export function installCors(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  const allowed = new Set(allowedOrigins);
  // A callback hook: it never waits, and an async hook costs a promise per request (issue 9).
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin !== undefined && allowed.has(origin)) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-allow-credentials', 'true');
      reply.header('vary', 'Origin');
    }
    done();
  });
  app.route({
    method: 'OPTIONS',
    url: '/*',
    config: { access: PUBLIC, rateClass: 'public' },
    schema: {
      response: { 204: Type.Null() },
    },
    handler: async (request, reply) => {
      const origin = request.headers.origin;
      const method = request.headers['access-control-request-method'];
      if (origin === undefined || typeof method !== 'string') {
        throw new HavenError('CORS_REJECTED', 'Only CORS preflight requests are answered.');
      }
      const headers = requestedHeaders(request.headers['access-control-request-headers']);
      const refused =
        !allowed.has(origin) ||
        !(CORS_ALLOWED_METHODS as readonly string[]).includes(method) ||
        headers.some((h) => !(CORS_ALLOWED_HEADERS as readonly string[]).includes(h));
      if (refused) {
        reply.removeHeader('access-control-allow-origin');
        reply.removeHeader('access-control-allow-credentials');
        throw new HavenError('CORS_REJECTED');
      }
      reply.header('access-control-allow-methods', CORS_ALLOWED_METHODS.join(', '));
      reply.header('access-control-allow-headers', CORS_ALLOWED_HEADERS.join(', '));
      reply.header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS));
      return reply.code(204).send();
    },
  });
}
