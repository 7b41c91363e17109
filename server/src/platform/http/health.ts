// Liveness and readiness probes: public, cheap, and free of internal detail.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../errors.js';
import { PUBLIC } from './route-contract.js';
import { DATABASE_RETRY_AFTER_SECONDS } from './problem-handler.js';

export interface ReadinessChecks {
  readonly database: () => Promise<void>;
  readonly redis: (() => Promise<void>) | undefined;
  /**
   * The malware scanner (F5). Reported, never a reason to be unready: uploads are still taken
   * while it is away (they wait, undownloadable), and pulling every node out of a load balancer
   * because clamd restarts would stop all work. `not_configured` says uploads cannot be cleared.
   */
  readonly scanner: (() => Promise<void>) | undefined;
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
                { database: CheckState, redis: CheckState, scanner: CheckState },
                { additionalProperties: false },
              ),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async () => {
      const database = await probe(checks.database, 2000);
      const redis = checks.redis ? await probe(checks.redis, 2000) : ('not_configured' as const);
      const scanner = checks.scanner
        ? await probe(checks.scanner, 2000)
        : ('not_configured' as const);
      const failed = [
        database === 'failed' ? 'database' : null,
        redis === 'failed' ? 'redis' : null,
      ].filter(Boolean);
      if (failed.length > 0) {
        throw new HavenError(
          'SERVICE_UNAVAILABLE',
          `Not ready: ${failed.join(', ')} unavailable.`,
          {
            headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
          },
        );
      }
      return { status: 'ready' as const, checks: { database, redis, scanner } };
    },
  );
}
