// Gauges read from the database when Prometheus scrapes (L4): the job queue and the audit
// chain's backlog are shared by every node, so any node's listener reports the same values.
// A scrape must survive the database being away: each reading is bounded in time, and one that
// fails or times out leaves its gauges out of that scrape and counts
// haven_metrics_collect_errors_total{collector}, instead of failing the whole scrape (which
// would also hide the process metrics that explain the outage).
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Gauge, Registry } from 'prom-client';
import type { DatabaseSchema } from '../db/schema.js';
import { describeDatabaseFault } from '../db/faults.js';
import type { MetricSet } from './registry.js';

/** Well inside Prometheus' default 10 s scrape timeout, and far beyond an indexed count. */
export const COLLECT_TIMEOUT_MS = 2_000;

type Db = Kysely<DatabaseSchema>;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Due jobs per queue and status, and how long the oldest due pending job has waited. */
async function readJobQueues(db: Db, metrics: MetricSet): Promise<void> {
  // Scheduled jobs wait for their run time by design (the sealer's next run is always pending a
  // second ahead): only jobs already due count as depth, and age is measured from run_at.
  // The database clock, as the worker's own comparisons use it.
  const rows = await sql<{ queue: string; status: string; jobs: number; oldest: number | null }>`
    select queue, status, count(*)::int as jobs,
           extract(epoch from (now() - min(run_at)))::float8 as oldest
    from jobs
    where (status = 'pending' and run_at <= now()) or status = 'running'
    group by queue, status`.execute(db);
  metrics.queueDepth.reset();
  metrics.queueOldestAge.reset();
  for (const row of rows.rows) {
    metrics.queueDepth.set({ queue: row.queue, status: row.status }, Number(row.jobs));
    if (row.status === 'pending') {
      metrics.queueOldestAge.set({ queue: row.queue }, Math.max(0, Number(row.oldest ?? 0)));
    }
  }
}

/**
 * Events after the chain's tail in the sealer's (xid, seq) order (platform/audit/seal.ts), which
 * the index audit_events_xid_idx answers without reading the sealed part of the log.
 */
async function readAuditBacklog(db: Db, metrics: MetricSet): Promise<void> {
  const tail = await db
    .selectFrom('audit_seals')
    .select([sql<string | null>`xid::text`.as('xid'), 'seq'])
    .orderBy('chain_position', 'desc')
    .limit(1)
    .executeTakeFirst();
  // Two statements, as the sealer reads them: the tail's bounds go in as values, so the count
  // is a range scan of the index from the tail on, however long the sealed log is.
  const after =
    tail === undefined || tail.xid === null
      ? sql<boolean>`true`
      : sql<boolean>`(e.xid, e.seq) > (${tail.xid}::xid8, ${String(tail.seq)}::bigint)`;
  const result = await sql<{ unsealed: number; oldest: number | null }>`
    select count(*)::int as unsealed,
           extract(epoch from (now() - min(e.inserted_at)))::float8 as oldest
    from audit_events e
    where e.xid is not null and ${after}`.execute(db);
  const row = result.rows[0];
  metrics.auditUnsealed.set(Number(row?.unsealed ?? 0));
  metrics.auditOldestUnsealedAge.set(Math.max(0, Number(row?.oldest ?? 0)));
}

type Gauges = Readonly<Record<string, Gauge>>;

/** Each reading with the gauges it sets, by metric name (names as registry.ts declares them). */
const COLLECTORS: Record<string, { read: typeof readJobQueues; gauges: (m: MetricSet) => Gauges }> =
  {
    jobs: {
      read: readJobQueues,
      gauges: (m) => ({
        haven_job_queue_depth: m.queueDepth,
        haven_job_queue_oldest_age_seconds: m.queueOldestAge,
      }),
    },
    audit_chain: {
      read: readAuditBacklog,
      gauges: (m) => ({
        haven_audit_unsealed_events: m.auditUnsealed,
        haven_audit_oldest_unsealed_age_seconds: m.auditOldestUnsealedAge,
      }),
    },
  };

/**
 * Refreshes every database gauge; never throws. A gauge that could not be read is taken off the
 * registry for this scrape, so it is absent rather than stale or zero (prom-client shows an
 * unlabelled gauge as 0 even after a reset, and "0 unsealed events" would read as healthy),
 * and put back by the next reading that succeeds.
 */
export async function collectDatabaseGauges(
  db: Db,
  metrics: MetricSet,
  registry: Registry,
  log: Logger,
  timeoutMs = COLLECT_TIMEOUT_MS,
): Promise<void> {
  await Promise.all(
    Object.entries(COLLECTORS).map(async ([collector, { read, gauges }]) => {
      const owned = Object.entries(gauges(metrics));
      try {
        await within(read(db, metrics), timeoutMs);
        for (const [name, gauge] of owned) {
          if (!registry.getSingleMetric(name)) registry.registerMetric(gauge);
        }
      } catch (error) {
        for (const [name, gauge] of owned) {
          gauge.reset();
          registry.removeSingleMetric(name);
        }
        metrics.collectErrors.inc({ collector });
        log.warn({ collector, cause: describeDatabaseFault(error) }, 'metrics: gauge not read');
      }
    }),
  );
}
