// Kysely only (V2): OAuth clients, revoked access tokens, and oidc-provider's artifacts.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DatabaseSchema, OAuthClientsTable, Role } from '../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;
export type ClientRow = Selectable<OAuthClientsTable>;

export async function insertClient(
  db: Db,
  row: {
    clientId: string;
    name: string;
    ownerOrganizationId: string | null;
    scopes: readonly string[];
    secretSha256: string | null;
    kind: 'machine' | 'app';
    redirectUris: readonly string[];
    publicClient: boolean;
    createdBy: string;
  },
): Promise<ClientRow> {
  return db
    .insertInto('oauth_clients')
    .values({
      client_id: row.clientId,
      name: row.name,
      owner_organization_id: row.ownerOrganizationId,
      scopes: [...row.scopes],
      secret_sha256: row.secretSha256,
      kind: row.kind,
      redirect_uris: [...row.redirectUris],
      public_client: row.publicClient,
      created_by: row.createdBy,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findClient(db: Db, clientId: string): Promise<ClientRow | undefined> {
  return db
    .selectFrom('oauth_clients')
    .selectAll()
    .where('client_id', '=', clientId)
    .executeTakeFirst();
}

export function listClients(db: Db, limit: number): Promise<ClientRow[]> {
  return db
    .selectFrom('oauth_clients')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('client_id')
    .limit(limit)
    .execute();
}

/** Changes one client; undefined when there is no such client. */
export function updateClient(
  db: Db,
  clientId: string,
  change: { scopes?: readonly string[]; secretSha256?: string; disabledAt?: Date },
  at: Date,
): Promise<ClientRow | undefined> {
  return db
    .updateTable('oauth_clients')
    .set({
      ...(change.scopes ? { scopes: [...change.scopes] } : {}),
      ...(change.secretSha256 ? { secret_sha256: change.secretSha256 } : {}),
      ...(change.disabledAt ? { disabled_at: change.disabledAt } : {}),
      updated_at: at,
    })
    .where('client_id', '=', clientId)
    .returningAll()
    .executeTakeFirst();
}

export async function recordRevokedAccessToken(
  db: Db,
  row: { jti: string; clientId: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('oauth_revoked_access_tokens')
    .values({ jti: row.jti, client_id: row.clientId, expires_at: row.expiresAt })
    .onConflict((oc) => oc.column('jti').doNothing())
    .execute();
}

/**
 * Why a client's access token no longer counts, read in one query on every request it makes:
 * its client is disabled or unknown, or the token was revoked. Undefined: the token stands.
 */
export async function accessTokenRefusal(
  db: Db,
  clientId: string,
  jti: string,
): Promise<'unknown' | 'disabled' | 'revoked' | undefined> {
  const row = await db
    .selectFrom('oauth_clients as c')
    .select((eb) => [
      'c.disabled_at',
      eb
        .exists(
          eb
            .selectFrom('oauth_revoked_access_tokens as r')
            .select('r.jti')
            .where('r.jti', '=', jti)
            .where('r.client_id', '=', clientId),
        )
        .as('revoked'),
    ])
    .where('c.client_id', '=', clientId)
    .executeTakeFirst();
  if (!row) return 'unknown';
  if (row.disabled_at !== null) return 'disabled';
  return row.revoked ? 'revoked' : undefined;
}

// --- oidc-provider's artifacts (adapter.ts) ---------------------------------------------------

export interface PayloadRow {
  readonly payload: Record<string, unknown>;
  readonly consumed_at: Date | null;
}

export async function upsertPayload(
  db: Db,
  row: {
    model: string;
    id: string;
    payload: Record<string, unknown>;
    grantId: string | null;
    userCode: string | null;
    uid: string | null;
    accountId: string | null;
    expiresAt: Date | null;
  },
): Promise<void> {
  const values = {
    account_id: row.accountId,
    model: row.model,
    id: row.id,
    payload: JSON.stringify(row.payload),
    grant_id: row.grantId,
    user_code: row.userCode,
    uid: row.uid,
    expires_at: row.expiresAt,
  };
  await db
    .insertInto('oauth_payloads')
    .values(values)
    .onConflict((oc) =>
      oc.columns(['model', 'id']).doUpdateSet({
        payload: values.payload,
        grant_id: values.grant_id,
        user_code: values.user_code,
        uid: values.uid,
        account_id: values.account_id,
        expires_at: values.expires_at,
      }),
    )
    .execute();
}

/** One live artifact by a column; expired rows count as absent. */
export function findPayload(
  db: Db,
  model: string,
  by: 'id' | 'user_code' | 'uid',
  value: string,
  now: Date,
): Promise<PayloadRow | undefined> {
  return db
    .selectFrom('oauth_payloads')
    .select(['payload', 'consumed_at'])
    .where('model', '=', model)
    .where(by, '=', value)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
}

export async function consumePayload(db: Db, model: string, id: string, at: Date): Promise<void> {
  await db
    .updateTable('oauth_payloads')
    .set({ consumed_at: at })
    .where('model', '=', model)
    .where('id', '=', id)
    .execute();
}

export async function destroyPayload(db: Db, model: string, id: string): Promise<void> {
  await db.deleteFrom('oauth_payloads').where('model', '=', model).where('id', '=', id).execute();
}

/** The grant itself and every artifact issued under it (codes, refresh tokens). */
export async function destroyGrant(db: Db, grantId: string): Promise<void> {
  await db
    .deleteFrom('oauth_payloads')
    .where((eb) =>
      eb.or([
        eb('grant_id', '=', grantId),
        eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)]),
      ]),
    )
    .execute();
}

// --- people's grants to apps ------------------------------------------------------------------

export interface GrantRow {
  readonly id: string;
  readonly payload: Record<string, unknown>;
  readonly client_id: string;
  readonly client_name: string;
}

/** A person's live grants to enabled apps, newest first. */
export function listGrantsOf(db: Db, accountId: string, now: Date, limit: number) {
  return db
    .selectFrom('oauth_payloads as g')
    .innerJoin('oauth_clients as c', (join) =>
      join.on((eb) => eb(sql<string>`g.payload->>'clientId'`, '=', eb.ref('c.client_id'))),
    )
    .select(['g.id', 'g.payload', 'c.client_id', 'c.name as client_name'])
    .where('g.model', '=', 'Grant')
    .where('g.account_id', '=', accountId)
    .where('c.disabled_at', 'is', null)
    .where((eb) => eb.or([eb('g.expires_at', 'is', null), eb('g.expires_at', '>', now)]))
    .orderBy(sql`g.payload->>'iat'`, 'desc')
    .orderBy('g.id')
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
    .where(sql<string>`payload->>'clientId'`, '=', clientId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
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
    .select(['id', sql<string>`payload->>'clientId'`.as('client_id')])
    .where('model', '=', 'Grant')
    .where('id', '=', grantId)
    .where('account_id', '=', accountId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .executeTakeFirst();
}

/**
 * Why an app's access token for a person no longer counts, read in one query on every request
 * it makes (A12): the grant was revoked or expired (on disconnect, or when a used refresh token
 * came back), the app was disabled, the token was revoked, or the person's account is no longer
 * active. Otherwise the person's current roles, so the token's scopes can be narrowed to what
 * the person still holds.
 */
export async function delegatedTokenState(
  db: Db,
  grant: { grantId: string; clientId: string; accountId: string; jti: string },
  now: Date,
): Promise<{ refusal: 'refused' } | { refusal: undefined; roles: Role[] }> {
  if (!UUID.test(grant.accountId)) return { refusal: 'refused' };
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
    return { refusal: 'refused' };
  }
  return { refusal: undefined, roles: row.roles };
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

/** The redirect URIs of every enabled public app (few rows: apps are registered by hand). */
export async function publicAppRedirectUris(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('oauth_clients')
    .select('redirect_uris')
    .where('kind', '=', 'app')
    .where('public_client', '=', true)
    .where('disabled_at', 'is', null)
    .execute();
  return rows.flatMap((row) => row.redirect_uris);
}

// --- an organization's own clients (organization-routes.ts) -----------------------------------

/** The clients the organization owns, newest first: what its administrators manage. */
export function listOrganizationClients(
  db: Db,
  organizationId: string,
  limit: number,
): Promise<ClientRow[]> {
  return db
    .selectFrom('oauth_clients')
    .selectAll()
    .where('owner_organization_id', '=', organizationId)
    .orderBy('created_at', 'desc')
    .orderBy('client_id')
    .limit(limit)
    .execute();
}

/**
 * The client if the organization owns it, locked for the change that follows in the same
 * transaction; undefined for another organization's client, a platform client or none (Z4).
 */
export function lockOrganizationClient(
  db: Db,
  organizationId: string,
  clientId: string,
): Promise<ClientRow | undefined> {
  return db
    .selectFrom('oauth_clients')
    .selectAll()
    .where('client_id', '=', clientId)
    .where('owner_organization_id', '=', organizationId)
    .forUpdate()
    .executeTakeFirst();
}
