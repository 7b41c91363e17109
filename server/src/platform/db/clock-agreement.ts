// A node's wall clock against the database's. Tokens and signed links carry times that one node
// writes and another checks (exp, iat, a download link's expiry), each against its own clock with
// a few seconds' tolerance; a node whose clock is minutes behind accepts a token that expired
// minutes ago, one minutes ahead refuses every fresh token. NTP keeps real nodes within
// milliseconds, so a node that drifted is a node-local fault, and readiness is where such a fault
// belongs: /readyz fails and the load balancer stops sending it requests until its clock is right.
// PostgreSQL's clock is the reference because every node already shares it: revocation and the job
// queue run on it.
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DatabaseSchema } from './schema.js';

/**
 * The largest difference a node may have from the database's clock. Two nodes each within it
 * differ by at most twice that, still inside the access-token verifier's 5 s tolerance
 * (platform/auth/jwt-authenticator.ts), so a token one node issues is judged the same by another.
 */
export const CLOCK_SKEW_LIMIT_MS = 2_000;

export class ClockSkewError extends Error {
  constructor(readonly skewMs: number) {
    super(`this node's clock differs from the database's by ${Math.round(skewMs)} ms`);
    this.name = 'ClockSkewError';
  }
}

/**
 * The node's clock minus the database's, in ms, and how sure that is: the database read its clock
 * somewhere inside the round trip, so the figure is off by at most half of it.
 */
export async function measureClockSkew(
  db: Kysely<DatabaseSchema>,
  wallClock: () => number = () => Date.now(),
): Promise<{ skewMs: number; uncertaintyMs: number }> {
  const sent = wallClock();
  const { rows } = await sql<{
    ms: string;
  }>`select (extract(epoch from clock_timestamp()) * 1000)::text as ms`.execute(db);
  const received = wallClock();
  const databaseMs = Number(rows[0]?.ms);
  return { skewMs: (sent + received) / 2 - databaseMs, uncertaintyMs: (received - sent) / 2 };
}

/**
 * The database's clock now: for decisions that must not depend on which node makes them (a
 * background job deciding what has expired runs on whichever worker claims it).
 */
export async function databaseNow(db: Kysely<DatabaseSchema>): Promise<Date> {
  const { rows } = await sql<{ now: Date | string }>`select clock_timestamp() as now`.execute(db);
  return new Date(rows[0]!.now);
}

/** Throws ClockSkewError when the node's clock is surely more than the limit away. */
export async function assertClockAgrees(
  db: Kysely<DatabaseSchema>,
  wallClock: () => number = () => Date.now(),
  limitMs = CLOCK_SKEW_LIMIT_MS,
): Promise<void> {
  const { skewMs, uncertaintyMs } = await measureClockSkew(db, wallClock);
  if (Math.abs(skewMs) - uncertaintyMs > limitMs) throw new ClockSkewError(skewMs);
}

/**
 * The readiness check (platform/http/health.ts): says once when this node's clock drifts past
 * the limit and once when it is back, not at every probe.
 */
export function clockReadinessCheck(
  db: Kysely<DatabaseSchema>,
  log: Pick<Logger, 'error' | 'info'>,
  wallClock: () => number = () => Date.now(),
): () => Promise<void> {
  let skewed = false;
  return async () => {
    try {
      await assertClockAgrees(db, wallClock);
    } catch (error) {
      if (error instanceof ClockSkewError && !skewed) {
        skewed = true;
        log.error(
          { skewMs: Math.round(error.skewMs), limitMs: CLOCK_SKEW_LIMIT_MS },
          "clock out of step with the database's: not ready until it is set right (NTP)",
        );
      }
      throw error;
    }
    if (skewed) {
      skewed = false;
      log.info('clock back in step with the database');
    }
  };
}
