// Per-account login backoff (A3): from the 5th consecutive failure the next attempt must
// wait, doubling each time up to 15 minutes — never a permanent lock. Keyed by the hash of
// the normalized email whether or not an account exists, so the backoff reveals nothing,
// and kept in PostgreSQL so every node sees the same count. Second-factor guesses (the MFA
// step and step-up) count on a key of their own per user: mfa/mfa-throttle.ts.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import { sha256Hex } from '../../../platform/crypto.js';
import { normalizeEmail } from '../users.js';
import {
  deleteLoginThrottle,
  incrementLoginFailures,
  lockLoginThrottle,
  readLoginThrottle,
  setBackoffUntil,
  storeLoginFailures,
} from './repo.js';

export const BACKOFF_FROM_FAILURE = 5;
const FIRST_DELAY_MS = 1_000;
export const MAX_BACKOFF_MS = 15 * 60_000;

type Db = Kysely<DatabaseSchema>;

export function backoffDelayMs(failures: number): number {
  if (failures < BACKOFF_FROM_FAILURE) return 0;
  return Math.min(FIRST_DELAY_MS * 2 ** (failures - BACKOFF_FROM_FAILURE), MAX_BACKOFF_MS);
}

function keyFor(email: string): string {
  return sha256Hex(`login:${normalizeEmail(email)}`);
}

/** 429 LOGIN_BACKOFF with the wait in seconds (also as Retry-After). */
export function backoffError(backoffMs: number): HavenError {
  const seconds = Math.ceil(backoffMs / 1000);
  return new HavenError('LOGIN_BACKOFF', `Try again in ${seconds} seconds.`, {
    headers: { 'retry-after': String(seconds) },
  });
}

export interface LoginThrottleState {
  /** Milliseconds the caller must still wait before another attempt (0 = go). */
  readonly backoffMs: number;
  /** Consecutive failures counted so far (0: nothing to clear after a success). */
  readonly failures: number;
}

/** The email's backoff and failure count, in one read. */
export async function loginThrottleState(
  db: Db,
  email: string,
  now: Date,
): Promise<LoginThrottleState> {
  const row = await readLoginThrottle(db, keyFor(email));
  return {
    backoffMs: row?.backoff_until ? Math.max(0, row.backoff_until.getTime() - now.getTime()) : 0,
    failures: row?.failures ?? 0,
  };
}

/** Throws LOGIN_BACKOFF while the email must still wait. */
export async function assertNoBackoff(db: Db, email: string, now: Date): Promise<void> {
  const { backoffMs } = await loginThrottleState(db, email, now);
  if (backoffMs > 0) throw backoffError(backoffMs);
}

/** Counts a failure atomically (concurrent failures on several nodes all count). */
export async function recordLoginFailure(
  db: Db,
  email: string,
  now: Date,
): Promise<{ failures: number; backoffMs: number }> {
  const key = keyFor(email);
  const failures = await incrementLoginFailures(db, key, now);
  const backoffMs = backoffDelayMs(failures);
  if (backoffMs > 0) await setBackoffUntil(db, key, new Date(now.getTime() + backoffMs));
  return { failures, backoffMs };
}

export type AttemptAdmission =
  /** Go ahead: the attempt already counts as a failure; `backoffMs` is the wait it started. */
  | { readonly admitted: true; readonly backoffMs: number }
  | { readonly admitted: false; readonly backoffMs: number };

/**
 * Admits one attempt on a key unless it must still wait, counting it as a failure before the
 * caller checks anything (a success clears the count afterwards). Checking first and counting
 * after would let a burst of concurrent attempts all pass the check before any is counted;
 * here the row lock admits them one by one, on every node, so each backoff lets one through.
 * For cheap guesses (6-digit codes); the password step checks then counts, its guesses each
 * costing an argon2id verify.
 */
export async function admitAttempt(db: Db, name: string, now: Date): Promise<AttemptAdmission> {
  const key = keyFor(name);
  return db.transaction().execute(async (trx) => {
    const row = await lockLoginThrottle(trx, key, now);
    const waitMs = row.backoff_until ? row.backoff_until.getTime() - now.getTime() : 0;
    if (waitMs > 0) return { admitted: false, backoffMs: waitMs };
    const failures = row.failures + 1;
    const backoffMs = backoffDelayMs(failures);
    const until = backoffMs > 0 ? new Date(now.getTime() + backoffMs) : undefined;
    await storeLoginFailures(trx, key, failures, until, now);
    return { admitted: true, backoffMs };
  });
}

export async function clearLoginFailures(db: Db, email: string): Promise<void> {
  await deleteLoginThrottle(db, keyFor(email));
}
