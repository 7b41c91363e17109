// A3/A9: one count of wrong second-factor codes per account, whichever door they come through:
// the sign-in MFA step (each password sign-in opens a fresh pending state, so a per-state limit
// alone lets whoever holds the password keep guessing) or step-up. It is the login throttle's
// mechanism and policy — backoff from the 5th consecutive failure, doubling up to 15 minutes,
// never a permanent lock, kept in PostgreSQL so every node sees the same count — on a key of
// its own per user. Only a verified second factor clears it; a correct password does not.
import type { Kysely } from 'kysely';
import { recordAudit, type AuditEvent } from '../../../platform/audit/audit.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { admitAttempt, backoffError, clearLoginFailures } from '../sign-in/login-throttle.js';

type Db = Kysely<DatabaseSchema>;

const mfaThrottleKey = (userId: string): string => `mfa:${userId}`;

/**
 * Lets one code be checked for the account, counted as wrong in advance (so concurrent guesses
 * cannot all slip in before the first is counted); call clearMfaFailures once it proves right.
 * While the account backs off, audits `attempt` as denied and throws 429 LOGIN_BACKOFF with
 * Retry-After, as the password step answers a throttled account — before any code is looked
 * at, so a right code is refused too and its step stays unspent. Returns the backoff this
 * attempt starts if its code is wrong (for the failure's audit event).
 */
export async function admitMfaAttempt(
  db: Db,
  userId: string,
  now: Date,
  attempt: Omit<AuditEvent, 'outcome' | 'details'>,
): Promise<number> {
  const admission = await admitAttempt(db, mfaThrottleKey(userId), now);
  if (!admission.admitted) {
    await recordAudit(db, { ...attempt, outcome: 'denied', details: { reason: 'backoff' } });
    throw backoffError(admission.backoffMs);
  }
  return admission.backoffMs;
}

/** After a verified second factor: the account's wrong codes no longer count. */
export async function clearMfaFailures(db: Db, userId: string): Promise<void> {
  await clearLoginFailures(db, mfaThrottleKey(userId));
}
