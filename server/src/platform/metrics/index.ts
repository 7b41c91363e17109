// Prometheus metrics (L4): the front door. One HavenMetrics per app (buildApp) or worker process
// (`haven worker`): its own registry, the request metrics (http.ts), the security counters
// derived from audit events (audit-counters.ts), the rate-limit and job counters their
// platform pieces report to, and the database gauges read at scrape time (database-gauges.ts).
// Served only by the separate listener (listener.ts), never by the public app.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { observeAuditEvents } from '../audit/audit.js';
import type { DatabaseSchema } from '../db/schema.js';
import type { RateClass } from '../../config.js';
import { countAuditEvent } from './audit-counters.js';
import { collectDatabaseGauges } from './database-gauges.js';
import { addProcessMetrics, defineMetrics, type MetricSet } from './registry.js';

export { installHttpMetrics, UNMATCHED_ROUTE } from './http.js';
export { startMetricsListener, type MetricsListener } from './listener.js';
export { COLLECT_TIMEOUT_MS } from './database-gauges.js';

export interface HavenMetrics {
  readonly registry: Registry;
  readonly set: MetricSet;
  /** Content type of what scrape() returns (Prometheus text format 0.0.4). */
  readonly contentType: string;
  /** Reads the database gauges, then renders every metric; never throws for a database fault. */
  scrape(): Promise<string>;
  /** For the rate limiter: one request refused with 429. */
  readonly rateLimited: (rateClass: RateClass) => void;
  /** For the job worker: one job run ended. */
  readonly jobFinished: (queue: string, outcome: 'done' | 'retry' | 'failed') => void;
  /** Adds Node's process metrics (once); the listener calls it. */
  includeProcessMetrics(): void;
  /** Stops counting audit events (the app or worker is closing). */
  close(): void;
}

export function createMetrics(options: {
  readonly db: Kysely<DatabaseSchema>;
  readonly log: Logger;
}): HavenMetrics {
  const registry = new Registry();
  const set = defineMetrics(registry);
  const stopObserving = observeAuditEvents(options.db, (event) => countAuditEvent(set, event));
  let processMetrics = false;
  const log = options.log.child({ component: 'metrics' });
  return {
    registry,
    set,
    contentType: registry.contentType,
    async scrape() {
      await collectDatabaseGauges(options.db, set, registry, log);
      return registry.metrics();
    },
    rateLimited: (rateClass) => set.rateLimited.inc({ rate_class: rateClass }),
    jobFinished: (queue, outcome) => set.jobsFinished.inc({ queue, outcome }),
    includeProcessMetrics() {
      if (processMetrics) return;
      processMetrics = true;
      addProcessMetrics(registry);
    },
    close: stopObserving,
  };
}
