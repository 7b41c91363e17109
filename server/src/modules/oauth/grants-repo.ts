// Kysely only (V2): people's grants to apps (A12), kept by oidc-provider as `Grant` artifacts in
// `oauth_payloads` with the person in `account_id`: a person's connected apps, the grant a new
// consent extends, and the one-query check every request of an app's token makes.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema, Role } from '../../platform/db/schema.js';
import { grantClientId, liveAt } from './repo.js';

type Db = Kysely<DatabaseSchema>;

export interface GrantRow {
  readonly id: string;
  readonly payload: Record<string, unknown>;
  readonly client_id: string;
  readonly client_name: string;
}

/** A person's live grants to enabled apps, newest first. */
export function listGrantsOf(db: Db, accountId: string, now: Date, limit: number) {
  return db
    .selectFrom('oauth_payloads')
    .innerJoin('oauth_clients', (join) =>
      join.on((eb) => eb(grantClientId, '=', eb.ref('oauth_clients.client_id'))),
    )
    .select([
      'oauth_payloads.id',
      'oauth_payloads.payload',
      'oauth_clients.client_id',
      'oauth_clients.name as client_name',
    ])
    .where('oauth_payloads.model', '=', 'Grant')
    .where('oauth_payloads.account_id', '=', accountId)
    .where('oauth_clients.disabled_at', 'is', null)
    .where(liveAt(now))
    .orderBy(sql`payload->>'iat'`, 'desc')
    .orderBy('oauth_payloads.id')
    .limit(limit)
    .execute() as Promise<GrantRow[]>;
}

/** The id of the person's newest live grant to one app, if any. */
export async function latestGrantOf(
  db: Db,
  accountId: string,
  clientId: string,
  now: Date,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('oauth_payloads')
    .select('id')
    .where('model', '=', 'Grant')
    .where('account_id', '=', accountId)
    .where(grantClientId, '=', clientId)
    .where(liveAt(now))
    .orderBy(sql`payload->>'iat'`, 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id;
}

/** One person's live grant; undefined for another person's or an unknown one. */
export function findGrantOf(
  db: Db,
  accountId: string,
  grantId: string,
  now: Date,
): Promise<{ id: string; client_id: string } | undefined> {
  return db
    .selectFrom('oauth_payloads')
    .select(['id', grantClientId.as('client_id')])
    .where('model', '=', 'Grant')
    .where('id', '=', grantId)
    .where('account_id', '=', accountId)
    .where(liveAt(now))
    .executeTakeFirst();
}

/**
 * Whether an app's access token for a person still counts, read in one query on every request
 * it makes (A12): undefined when the grant was revoked or expired (on disconnect, or when a used
 * refresh token came back), the app was disabled, the token was revoked, or the person's account
 * is no longer active. Otherwise the person's current roles, so the token's scopes can be
 * narrowed to what the person still holds.
 */
export async function delegatedTokenState(
  db: Db,
  grant: { grantId: string; clientId: string; accountId: string; jti: string },
  now: Date,
): Promise<Role[] | undefined> {
  if (!UUID.test(grant.accountId)) return undefined;
  const row = await db
    .selectFrom('users as u')
    .select((eb) => [
      'u.roles',
      'u.status',
      eb
        .exists(
          eb
            .selectFrom('oauth_payloads as g')
            .select('g.id')
            .where('g.model', '=', 'Grant')
            .where('g.id', '=', grant.grantId)
            .where('g.account_id', '=', grant.accountId)
            .where(sql<string>`g.payload->>'clientId'`, '=', grant.clientId)
            .where((inner) =>
              inner.or([inner('g.expires_at', 'is', null), inner('g.expires_at', '>', now)]),
            ),
        )
        .as('granted'),
      eb
        .exists(
          eb
            .selectFrom('oauth_clients as c')
            .select('c.client_id')
            .where('c.client_id', '=', grant.clientId)
            .where('c.kind', '=', 'app')
            .where('c.disabled_at', 'is', null),
        )
        .as('client_enabled'),
      eb
        .exists(
          eb
            .selectFrom('oauth_revoked_access_tokens as r')
            .select('r.jti')
            .where('r.jti', '=', grant.jti)
            .where('r.client_id', '=', grant.clientId),
        )
        .as('revoked'),
    ])
    .where('u.id', '=', grant.accountId)
    .executeTakeFirst();
  if (!row || row.status !== 'active' || !row.granted || !row.client_enabled || row.revoked) {
    return undefined;
  }
  return row.roles;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `id` names an active user (an account an app may be given a code or token for). */
export async function isActiveUser(db: Db, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('id', '=', id)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return row !== undefined;
}
