// How a node stops (SIGTERM, as an orchestrator rolls a deployment) without failing a request.
//
// 1. Draining (`drain.begin`, before `app.close()`): the node takes no new connection (a
//    refused connection carried no request, so a proxy such as Caddy tries another node), and
//    answers every request on the connections it has, each answer saying `Connection: close`;
//    /readyz says 503 on them. A busy keep-alive connection thus closes after its next answer,
//    from the server's side and at a moment the client knows of, instead of being cut while the
//    client is already sending on it: the reset a client cannot tell from a crash, which closing
//    idle connections at once caused. Draining ends when no client connection is left open, or
//    after its grace period (`HAVEN_SHUTDOWN_DRAIN_MS`).
// 2. Closing (`app.close()`): the listener closes, connections still idle are closed, the
//    requests being answered finish. A request read after this point (pipelined behind one in
//    flight) gets the same 503 as any other "not now" answer: problem+json, the security headers
//    and the request id, `Retry-After`, and `Connection: close`, so the client's next attempt
//    opens a connection the load balancer gives to another node. Fastify's own
//    `return503OnClosing` answer is a fixed JSON body without Retry-After, which a client (the
//    SPA's retry rules, Uppy) cannot tell from a failure.
import { Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HavenError } from '../errors.js';

/** Seconds a client waits before sending again: another node is ready to take it. */
export const DRAINING_RETRY_AFTER_SECONDS = 1;

/** How often draining looks whether any client connection is still open. */
const DRAIN_POLL_MS = 20;

export function draining(): HavenError {
  return new HavenError('SERVICE_UNAVAILABLE', 'This server is restarting; try again.', {
    headers: {
      'retry-after': String(DRAINING_RETRY_AFTER_SECONDS),
      connection: 'close',
    },
  });
}

export interface Drain {
  /** True once draining began: readiness says 503 from then on. */
  readonly stopping: boolean;
  /**
   * Begins draining and resolves when no client connection is open any more, or after
   * `graceMs`, whichever comes first. Call it before `app.close()`.
   */
  begin(graceMs: number): Promise<void>;
  /**
   * Drains (while `alongside`, the embedded jobs stopping, runs too: both fit in the time an
   * orchestrator gives between SIGTERM and SIGKILL), then closes the app.
   */
  stop(graceMs: number, alongside?: Promise<unknown>): Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** How this node stops without cutting a connection a client is sending on. */
    drain: Drain;
  }
}

function openConnections(app: FastifyInstance): Promise<number> {
  return new Promise((resolve) => {
    app.server.getConnections((error, count) => resolve(error ? 0 : count));
  });
}

/**
 * Stops accepting connections and leaves the open ones be. `http.Server#close` would also close
 * every connection idle at this instant, the very cut draining avoids; the listener's own close
 * (net.Server's, which http.Server extends) does only the first. `app.close()` later closes the
 * server properly (Fastify takes "not running" as closed), and the connections left idle then.
 */
function stopAccepting(app: FastifyInstance): void {
  if (app.server.listening) NetServer.prototype.close.call(app.server);
}

/**
 * Installs both phases. Install it after the hooks that set the security headers and the
 * request id, so the refusal carries them; the app must be built with `return503OnClosing:
 * false`, or Fastify answers first.
 */
export function installDraining(app: FastifyInstance): void {
  let stopping = false;
  let closing = false;
  // preClose runs as close() begins, before the server stops accepting connections.
  app.addHook('preClose', (done) => {
    stopping = true;
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (closing) {
      done(draining());
      return;
    }
    // Node ends the connection once this answer is sent, and the client reads why.
    if (stopping) reply.header('connection', 'close');
    done();
  });
  const drain: Drain = {
    get stopping() {
      return stopping;
    },
    async begin(graceMs) {
      stopping = true;
      stopAccepting(app);
      const until = performance.now() + graceMs;
      while (performance.now() < until && (await openConnections(app)) > 0) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      }
    },
    async stop(graceMs, alongside) {
      await Promise.all([drain.begin(graceMs), alongside]);
      await app.close();
    },
  };
  app.decorate('drain', drain);
}
