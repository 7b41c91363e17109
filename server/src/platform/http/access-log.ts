// L1: one access line per request, written when the reply has gone out (Fastify's own two
// lines, "incoming request" and "request completed", are switched off in app.ts). The
// serializers in logging.ts pick the safe fields: query values redacted, no headers, no body.
import type { FastifyInstance } from 'fastify';

export function installAccessLog(app: FastifyInstance): void {
  // A synchronous callback hook: an async hook costs a promise and a microtask turn per
  // request, which showed in the profile of a cheap read (issue 9).
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      { req: request, res: reply, responseTimeMs: Math.round(reply.elapsedTime * 10) / 10 },
      'request completed',
    );
    done();
  });
}
