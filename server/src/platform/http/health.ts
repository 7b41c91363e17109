// Liveness and readiness probes: public, cheap, and free of internal detail.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../errors.js';
import { PUBLIC } from './route-contract.js';
import { DATABASE_RETRY_AFTER_SECONDS } from './problem-handler.js';
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

export function registerHealthRoutes(app: FastifyInstance, checks: ReadinessChecks): void {
  const clockCheck =
    checks.database.engine === 'postgres'
      ? clockReadinessCheck(checks.database.db, app.log)
      : undefined;
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
      const database = await probe(() => checks.database.ping(), 2000);
      const redis = checks.redis ? await probe(checks.redis, 2000) : ('not_configured' as const);
      const scanner = checks.scanner
        ? await probe(checks.scanner, 2000)
        : ('not_configured' as const);
      const { storage } = checks;
      const local =
        storage.kind === 'filesystem' ? await probe(() => storage.headBucket(), 2000) : undefined;
      // Only with the database reachable: an unreachable one already says why.
      const clock = clockCheck && database === 'ok' ? await probe(clockCheck, 2000) : undefined;
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
