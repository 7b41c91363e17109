// Kysely only (V2): OAuth clients, revoked access tokens, and oidc-provider's artifacts.
import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import type { DatabaseSchema, OAuthClientsTable } from '../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;
export type ClientRow = Selectable<OAuthClientsTable>;

/** An artifact of oidc-provider still live at `now`: no expiry, or one still ahead. */
export const liveAt = (now: Date) => (eb: ExpressionBuilder<DatabaseSchema, 'oauth_payloads'>) =>
  eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]);

/** The client a Grant belongs to, kept by oidc-provider in its payload. */
export const grantClientId = sql<string>`payload->>'clientId'`;

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

/** One client, its row locked until commit (a change waits for another change of it). */
export function lockClient(db: Db, clientId: string): Promise<ClientRow | undefined> {
  return db
    .selectFrom('oauth_clients')
    .selectAll()
    .where('client_id', '=', clientId)
    .forUpdate()
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
    .where(liveAt(now))
    .executeTakeFirst();
}

/**
 * Marks an artifact used, once: false when it was used already (or is gone). One conditional
 * UPDATE, so of two requests presenting the same code or refresh token at once exactly one wins,
 * however their reads interleaved (on PostgreSQL the second waits for the first's row lock, then
 * finds `consumed_at` set).
 */
export async function consumePayload(
  db: Db,
  model: string,
  id: string,
  at: Date,
): Promise<boolean> {
  const result = await db
    .updateTable('oauth_payloads')
    .set({ consumed_at: at })
    .where('model', '=', model)
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The grant an artifact was issued under, whether or not it is still live. */
export async function grantOfPayload(
  db: Db,
  model: string,
  id: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('oauth_payloads')
    .select('grant_id')
    .where('model', '=', model)
    .where('id', '=', id)
    .executeTakeFirst();
  return row?.grant_id ?? undefined;
}

/**
 * The grant of one of the client's refresh tokens that has not expired (consumed or not):
 * undefined for another client's token, an expired one, or none.
 */
export async function refreshTokenGrantOf(
  db: Db,
  clientId: string,
  token: string,
  now: Date,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('oauth_payloads')
    .select('grant_id')
    .where('model', '=', 'RefreshToken')
    .where('id', '=', token)
    .where(sql<string>`payload->>'clientId'`, '=', clientId)
    .where(liveAt(now))
    .executeTakeFirst();
  return row?.grant_id ?? undefined;
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

/**
 * Every grant of a person and what hangs off them (access and refresh tokens, codes), and the
 * provider's own sessions and interactions naming them: their credentials ended (A7).
 */
export async function destroyGrantsOf(db: Db, accountId: string): Promise<void> {
  await db
    .deleteFrom('oauth_payloads')
    .where((eb) =>
      eb.or([
        eb('account_id', '=', accountId),
        eb(
          'grant_id',
          'in',
          eb
            .selectFrom('oauth_payloads as grants')
            .select('grants.id')
            .where('grants.model', '=', 'Grant')
            .where('grants.account_id', '=', accountId),
        ),
      ]),
    )
    .execute();
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
