// A13: purges what the authorization server can no longer use: expired artifacts (codes, refresh
// tokens, grants, interactions, sessions; the adapter already treats them as absent) and revoked
// access-token ids whose tokens have expired (a token past `exp` fails verification anyway). One
// conditional DELETE each, so two workers running at once split the rows and a rerun after a
// crash deletes nothing twice.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';

/**
 * Past its expiry an artifact is kept this long: a refresh token replayed just after it expired
 * is then still recognised (and refused) as the provider's own rather than as an unknown one.
 */
export const OAUTH_EXPIRY_GRACE_MS = 60 * 60_000;

export interface OAuthCleanupCounts {
  readonly artifacts: number;
  readonly revokedTokens: number;
}

export async function purgeExpiredOAuthRecords(
  db: Kysely<DatabaseSchema>,
  now: Date,
): Promise<OAuthCleanupCounts> {
  const expired = new Date(now.getTime() - OAUTH_EXPIRY_GRACE_MS);
  const artifacts = await db
    .deleteFrom('oauth_payloads')
    .where('expires_at', '<', expired)
    .executeTakeFirst();
  const revokedTokens = await db
    .deleteFrom('oauth_revoked_access_tokens')
    .where('expires_at', '<', expired)
    .executeTakeFirst();
  return {
    artifacts: Number(artifacts.numDeletedRows),
    revokedTokens: Number(revokedTokens.numDeletedRows),
  };
}
