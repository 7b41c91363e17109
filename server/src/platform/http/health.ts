// Liveness and readiness probes: public, cheap, and free of internal detail.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../errors.js';
import { PUBLIC } from './route-contract.js';
import { DATABASE_RETRY_AFTER_SECONDS } from './problem-handler.js';
import { DRAINING_RETRY_AFTER_SECONDS } from './draining.js';
import type { ObjectStorage } from '../storage/storage.js';
import type { Database } from '../db/database.js';
import { clockReadinessCheck } from '../db/clock-agreement.js';

export interface ReadinessChecks {
  /**
   * Reachable, and where nodes share a database server (PostgreSQL), agreeing with this node's
   * clock (platform/db/clock-agreement.ts): a drifted clock is this node's own fault and makes
   * it judge tokens and links differently from the others, so it is a reason to be unready.
   * Embedded PGlite runs on the node's own clock.
   */
  readonly database: Pick<Database, 'ping' | 'engine' | 'db'>;
  readonly redis: (() => Promise<void>) | undefined;
  /**
   * The malware scanner (F5). Reported, never a reason to be unready: uploads are still taken
   * while it is away (they wait, undownloadable), and pulling every node out of a load balancer
   * because clamd restarts would stop all work. `not_configured` says uploads cannot be cleared.
   */
  readonly scanner: (() => Promise<void>) | undefined;
  /**
   * The default storage. Reported for the embedded filesystem store (`failed`: its folder is not
   * writable or is full), never a reason to be unready: the folder is shared by every node, so a
   * full disk would take all of them out of the load balancer at once and turn a refused upload
   * (503 with Retry-After 60, platform/http/problem-handler.ts) into a proxy error for every
   * request, records and sign-in included, which do not need it. S3 is not probed here.
   */
  readonly storage: Pick<ObjectStorage, 'kind' | 'headBucket'>;
}

const CheckState = Type.Union([
  Type.Literal('ok'),
  Type.Literal('failed'),
  Type.Literal('not_configured'),
]);

async function probe(check: () => Promise<void>, timeoutMs: number): Promise<'ok' | 'failed'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'failed'>((resolve) => {
    timer = setTimeout(() => resolve('failed'), timeoutMs);
  });
  try {
    return await Promise.race([check().then(() => 'ok' as const), timeout]);
  } catch {
    return 'failed';
  } finally {
    clearTimeout(timer);
  }
}

/** How long /readyz waits for a check that decides readiness (database, Redis, clock). */
const READINESS_PROBE_MS = 2000;
/**
 * How long it waits for a check it only reports (scanner, storage). Load balancers commonly give
 * a readiness probe one second; a hung clamd (it takes the connection and never answers) must
 * not make a healthy node miss that and be taken out.
 */
export const REPORTED_PROBE_MS = 750;
/**
 * A scanner probe is shared this long: /readyz is public, and each probe is a connection to
 * clamd, so concurrent and repeated requests reuse one probe instead of opening one each.
 */
export const SCANNER_PROBE_REUSE_MS = 1000;

/** `check` probed at most once per `reuseMs` (monotonic clock); callers meanwhile share it. */
function sharedProbe(
  check: () => Promise<void>,
  timeoutMs: number,
  reuseMs: number,
): () => Promise<'ok' | 'failed'> {
  let last: { startedAt: number; result: Promise<'ok' | 'failed'> } | undefined;
  return () => {
    const now = performance.now();
    if (!last || now - last.startedAt >= reuseMs) {
      last = { startedAt: now, result: probe(check, timeoutMs) };
    }
    return last.result;
  };
}

export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessChecks): void {
  const clockCheck =
    checks.database.engine === 'postgres'
      ? clockReadinessCheck(checks.database.db, app.log)
      : undefined;
  const scannerCheck =
    checks.scanner && sharedProbe(checks.scanner, REPORTED_PROBE_MS, SCANNER_PROBE_REUSE_MS);
  const { storage } = checks;
  app.get(
    '/healthz',
    {
      config: { access: PUBLIC, rateClass: 'public', rateLimitFailOpen: true },
      schema: {
        response: {
          200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false }),
        },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { access: PUBLIC, rateClass: 'public', rateLimitFailOpen: true },
      schema: {
        response: {
          200: Type.Object(
            {
              status: Type.Literal('ready'),
              checks: Type.Object(
                {
                  database: CheckState,
                  redis: CheckState,
                  scanner: CheckState,
                  storage: Type.Optional(CheckState),
                  clock: Type.Optional(CheckState),
                },
                { additionalProperties: false },
              ),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async () => {
      // A stopping node takes no new work, whatever its checks say (platform/http/draining.ts).
      if (app.drain.stopping) {
        throw new HavenError('SERVICE_UNAVAILABLE', 'Not ready: this server is stopping.', {
          headers: { 'retry-after': String(DRAINING_RETRY_AFTER_SECONDS) },
        });
      }
      // All at once: the answer takes as long as the slowest check, not as long as all of them.
      const [{ database, clock }, redis, scanner, local] = await Promise.all([
        probe(() => checks.database.ping(), READINESS_PROBE_MS).then(async (database) => ({
          database,
          // Only with the database reachable: an unreachable one already says why.
          clock:
            clockCheck && database === 'ok'
              ? await probe(clockCheck, READINESS_PROBE_MS)
              : undefined,
        })),
        checks.redis ? probe(checks.redis, READINESS_PROBE_MS) : ('not_configured' as const),
        scannerCheck ? scannerCheck() : ('not_configured' as const),
        storage.kind === 'filesystem'
          ? probe(() => storage.headBucket(), REPORTED_PROBE_MS)
          : undefined,
      ]);
      const failed = [
        database === 'failed' ? 'database' : null,
        redis === 'failed' ? 'redis' : null,
      ].filter(Boolean);
      const reasons = [
        ...(failed.length > 0 ? [`${failed.join(', ')} unavailable`] : []),
        ...(clock === 'failed' ? ["this server's clock is out of step with the database's"] : []),
      ];
      if (reasons.length > 0) {
        throw new HavenError('SERVICE_UNAVAILABLE', `Not ready: ${reasons.join('; ')}.`, {
          headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
        });
      }
      return {
        status: 'ready' as const,
        checks: {
          database,
          redis,
          scanner,
          ...(local && { storage: local }),
          ...(clock && { clock }),
        },
      };
    },
  );
}
