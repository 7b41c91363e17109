// A13: purges identity records nobody can use any more: dead sessions, spent or expired
// refresh tokens and links (reset, invitation, verification, MFA pending), and stale login
// backoff rows. Every step is one conditional DELETE, so two workers running at once simply
// split the rows between them (a row already deleted by the other is skipped) and a rerun
// after a crash deletes nothing twice.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';

/** Revoked sessions, spent tokens and quiet backoff rows are kept this long for investigation. */
export const RETENTION_MS = 24 * 3_600_000;

/**
 * A session past its idle (or absolute) expiry is kept a little longer: an access token issued
 * just before that moment is still checked against the revocation cache, which a node
 * (re)starting now fills from the sessions table; the row must outlive that token (5 min) plus
 * the cache's retention window (6 min).
 */
export const SESSION_EXPIRY_GRACE_MS = 15 * 60_000;

export interface IdentityCleanupCounts {
  readonly sessions: number;
  readonly refreshTokens: number;
  readonly oneTimeTokens: number;
  readonly loginThrottle: number;
}

const count = (result: { numDeletedRows: bigint }): number => Number(result.numDeletedRows);

export async function purgeExpiredIdentityRecords(
  db: Kysely<DatabaseSchema>,
  now: Date,
): Promise<IdentityCleanupCounts> {
  const retained = new Date(now.getTime() - RETENTION_MS);
  const expiredSessions = new Date(now.getTime() - SESSION_EXPIRY_GRACE_MS);

  // Refresh tokens of these sessions go with them (ON DELETE CASCADE). The idle expiry is never
  // later than the absolute one (both are set and moved that way), and nothing extends it once it
  // has passed, so a session idle too long is as dead as one past its absolute expiry.
  const sessions = await db
    .deleteFrom('sessions')
    .where((eb) =>
      eb.or([eb('idle_expires_at', '<', expiredSessions), eb('revoked_at', '<', retained)]),
    )
    .executeTakeFirst();

  // A consumed token is kept for a day so a replay is recognised as reuse (and revokes the
  // session); after that a replay is still refused, only as an unknown token.
  const refreshTokens = await db
    .deleteFrom('refresh_tokens')
    .where((eb) => eb.or([eb('expires_at', '<', now), eb('consumed_at', '<', retained)]))
    .executeTakeFirst();

  const oneTimeTokens = await db
    .deleteFrom('one_time_tokens')
    .where((eb) => eb.or([eb('expires_at', '<', now), eb('used_at', '<', retained)]))
    .executeTakeFirst();

  // Failure counts reset after a quiet day; a row still inside (or just out of) its backoff stays.
  const loginThrottle = await db
    .deleteFrom('login_throttle')
    .where('updated_at', '<', retained)
    .where((eb) => eb.or([eb('backoff_until', 'is', null), eb('backoff_until', '<', retained)]))
    .executeTakeFirst();

  return {
    sessions: count(sessions),
    refreshTokens: count(refreshTokens),
    oneTimeTokens: count(oneTimeTokens),
    loginThrottle: count(loginThrottle),
  };
}
