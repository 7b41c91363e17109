// A stopping node (SIGTERM, `app.close()`) finishes the requests it has and refuses new ones
// that still reach it on an open keep-alive connection with the same 503 as any other "not now"
// answer: problem+json, the security headers and the request id, `Retry-After`, and
// `Connection: close` so the client's next attempt opens a connection that the load balancer
// sends to another node. Fastify's own `return503OnClosing` answer is a fixed JSON body without
// Retry-After, which a client (the SPA's retry rules, Uppy) cannot tell from a failure.
import type { FastifyInstance } from 'fastify';
import { HavenError } from '../errors.js';

/** Seconds a client waits before sending again: another node is ready to take it. */
export const DRAINING_RETRY_AFTER_SECONDS = 1;

export function draining(): HavenError {
  return new HavenError('SERVICE_UNAVAILABLE', 'This server is restarting; try again.', {
    headers: {
      'retry-after': String(DRAINING_RETRY_AFTER_SECONDS),
      connection: 'close',
    },
  });
}

/**
 * Refuses requests that arrive once the app began closing. Install it after the hooks that set
 * the security headers and the request id, so the refusal carries them; the app must be built
 * with `return503OnClosing: false`, or Fastify answers first.
 */
export function installDrainRefusal(app: FastifyInstance): void {
  let closing = false;
  // preClose runs as close() begins, before the server stops accepting connections.
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, _reply, done) => {
    done(closing ? draining() : undefined);
  });
}
