// Request metrics (L4): one synchronous onResponse hook times every answer and counts problem
// answers by catalog code. The route label is the declared pattern (`/api/patients/:patientId`),
// never the URL: ids and query strings would make a series per record, and leak them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { problemCodeOf } from '../http/problem-handler.js';
import type { MetricSet } from './registry.js';

/** The route label of requests no route matched (404s, 405s, refused paths). */
export const UNMATCHED_ROUTE = 'unmatched';

function routeLabel(request: FastifyRequest): string {
  // Unset for the not-found handler; the router's own pattern otherwise.
  return request.routeOptions.url ?? UNMATCHED_ROUTE;
}

function statusClass(statusCode: number): string {
  return `${Math.floor(statusCode / 100)}xx`;
}

export function installHttpMetrics(app: FastifyInstance, metrics: MetricSet): void {
  // Synchronous, as the access log's: an async hook costs a promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.requestDuration.observe(
      {
        method: request.method,
        route: routeLabel(request),
        status_class: statusClass(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    const code = problemCodeOf(request);
    if (code !== undefined) metrics.errors.inc({ code });
    done();
  });
}
