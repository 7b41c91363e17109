// Per-account login backoff (A3): from the 5th consecutive failure the next attempt must
// wait, doubling each time up to 15 minutes — never a permanent lock. Keyed by the hash of
// the normalized email whether or not an account exists, so the backoff reveals nothing,
// and kept in PostgreSQL so every node sees the same count.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { sha256Hex } from '../../platform/crypto.js';

export const BACKOFF_FROM_FAILURE = 5;
const FIRST_DELAY_MS = 1_000;
export const MAX_BACKOFF_MS = 15 * 60_000;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function backoffDelayMs(failures: number): number {
  if (failures < BACKOFF_FROM_FAILURE) return 0;
  return Math.min(FIRST_DELAY_MS * 2 ** (failures - BACKOFF_FROM_FAILURE), MAX_BACKOFF_MS);
}

function keyFor(email: string): string {
  return sha256Hex(`login:${normalizeEmail(email)}`);
}

export interface LoginThrottleState {
  /** Milliseconds the caller must still wait before another attempt (0 = go). */
  readonly backoffMs: number;
  /** Consecutive failures counted so far (0: nothing to clear after a success). */
  readonly failures: number;
}

/** The email's backoff and failure count, in one read. */
export async function loginThrottleState(
  db: Kysely<DatabaseSchema>,
  email: string,
  now: Date,
): Promise<LoginThrottleState> {
  const row = await db
    .selectFrom('login_throttle')
    .select(['backoff_until', 'failures'])
    .where('email_hash', '=', keyFor(email))
    .executeTakeFirst();
  return {
    backoffMs: row?.backoff_until ? Math.max(0, row.backoff_until.getTime() - now.getTime()) : 0,
    failures: row?.failures ?? 0,
  };
}

/** Milliseconds the caller must still wait before another attempt for this email (0 = go). */
export async function remainingBackoffMs(
  db: Kysely<DatabaseSchema>,
  email: string,
  now: Date,
): Promise<number> {
  return (await loginThrottleState(db, email, now)).backoffMs;
}

/** Counts a failure atomically (concurrent failures on several nodes all count). */
export async function recordLoginFailure(
  db: Kysely<DatabaseSchema>,
  email: string,
  now: Date,
): Promise<{ failures: number; backoffMs: number }> {
  const row = await db
    .insertInto('login_throttle')
    .values({ email_hash: keyFor(email), failures: 1, updated_at: now })
    .onConflict((oc) =>
      oc
        .column('email_hash')
        .doUpdateSet({ failures: sql`login_throttle.failures + 1`, updated_at: now }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  const backoffMs = backoffDelayMs(row.failures);
  if (backoffMs > 0) {
    await db
      .updateTable('login_throttle')
      .set({ backoff_until: new Date(now.getTime() + backoffMs) })
      .where('email_hash', '=', keyFor(email))
      .execute();
  }
  return { failures: row.failures, backoffMs };
}

export async function clearLoginFailures(db: Kysely<DatabaseSchema>, email: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('email_hash', '=', keyFor(email)).execute();
}
