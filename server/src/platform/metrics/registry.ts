// The metrics of one Haven process (L4), on a prom-client Registry of its own rather than the
// library's global one: tests build several apps in one process, and two registrations of one
// name on the global registry would throw. Every name and label is declared here, so the set of
// series is visible in one place; labels hold only closed sets (methods, route patterns, status
// classes, catalog codes, rate classes, audit actions, queue names), never ids, emails or
// addresses.
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client';

/** Seconds; from a cached read (a few ms) to the request timeout's order of magnitude. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function defineMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requestDuration: new Histogram({
      name: 'haven_http_request_duration_seconds',
      help: 'Time from request to response, by method, route pattern and status class.',
      labelNames: ['method', 'route', 'status_class'] as const,
      buckets: DURATION_BUCKETS,
      registers,
    }),
    errors: new Counter({
      name: 'haven_http_errors_total',
      help: 'Problem answers (RFC 9457) by catalog code.',
      labelNames: ['code'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: 'haven_rate_limit_hits_total',
      help: 'Requests refused with 429 by the rate limiter, by rate class.',
      labelNames: ['rate_class'] as const,
      registers,
    }),
    auditEvents: new Counter({
      name: 'haven_audit_events_total',
      help: 'Audit events written by this process, by action and outcome.',
      labelNames: ['action', 'outcome'] as const,
      registers,
    }),
    authFailures: new Counter({
      name: 'haven_auth_failures_total',
      help: 'Refused sign-in, MFA and step-up attempts (wrong secret or backoff), by action and outcome.',
      labelNames: ['action', 'outcome'] as const,
      registers,
    }),
    lockouts: new Counter({
      name: 'haven_auth_lockouts_total',
      help: 'Attempts refused because the account or address was backing off, by action.',
      labelNames: ['action'] as const,
      registers,
    }),
    refreshReuse: new Counter({
      name: 'haven_auth_refresh_reuse_total',
      help: 'Reuses of a consumed refresh token (the session is revoked).',
      registers,
    }),
    breakGlassGrants: new Counter({
      name: 'haven_breakglass_grants_total',
      help: 'Break-glass grants given.',
      registers,
    }),
    fileScans: new Counter({
      name: 'haven_file_scans_total',
      help: 'Uploads settled by the scan job: clean, infected, error (clamd could not scan it) or rejected (a type, storage or encryption check).',
      labelNames: ['result'] as const,
      registers,
    }),
    jobsFinished: new Counter({
      name: 'haven_jobs_finished_total',
      help: 'Job runs by queue and outcome: done, retry (failed, tried again later) or failed (gave up).',
      labelNames: ['queue', 'outcome'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'haven_job_queue_depth',
      help: 'Jobs due now and waiting (pending) or being run (running), by queue; read from the database at scrape time.',
      labelNames: ['queue', 'status'] as const,
      registers,
    }),
    queueOldestAge: new Gauge({
      name: 'haven_job_queue_oldest_age_seconds',
      help: 'How long the longest-waiting due job has waited past its run time, by queue.',
      labelNames: ['queue'] as const,
      registers,
    }),
    auditUnsealed: new Gauge({
      name: 'haven_audit_unsealed_events',
      help: 'Committed audit events the sealer has not linked into the hash chain yet.',
      registers,
    }),
    auditOldestUnsealedAge: new Gauge({
      name: 'haven_audit_oldest_unsealed_age_seconds',
      help: 'Age of the oldest audit event not yet in the hash chain (0 when none).',
      registers,
    }),
    collectErrors: new Counter({
      name: 'haven_metrics_collect_errors_total',
      help: 'Scrapes whose database gauges could not be read (the gauges are left out of that scrape).',
      labelNames: ['collector'] as const,
      registers,
    }),
  };
}

export type MetricSet = ReturnType<typeof defineMetrics>;

/**
 * Node's process metrics (CPU, memory, event-loop lag, GC, handles), added once per registry and
 * only by a process that serves them: collectDefaultMetrics starts an event-loop monitor and a
 * GC observer that live as long as the process, which tests building many apps should not pile up.
 */
export function addProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}
