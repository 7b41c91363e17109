// oidc-provider's storage on PostgreSQL/PGlite through Kysely (A12): every artifact lives in
// `oauth_payloads`, so any node answers for any other. The `Client` model is read from
// `oauth_clients`, the table administrators manage: a disabled client is not found, so the
// provider refuses it at the token endpoint, from the next request on the node that disabled it
// and within half a second on every other (a found client is reused that long,
// token-decisions.ts; nothing else is kept in memory).
import type { Kysely } from 'kysely';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import {
  consumePayload,
  destroyGrant,
  destroyPayload,
  findClient,
  findPayload,
  grantOfPayload,
  upsertPayload,
  type ClientRow,
} from './repo.js';
import { usableRedirectUris } from './redirect-uris.js';
import type { TokenDecisions } from './token-decisions.js';

type Db = Kysely<DatabaseSchema>;

/**
 * What the provider knows of a client: a machine gets client credentials only; an app the
 * authorization code (PKCE is required of every client, provider.ts) and refresh tokens, its
 * exact redirect URIs, and either a secret or, as a public native app, none.
 */
export function clientMetadata(row: ClientRow): AdapterPayload {
  const common = {
    client_id: row.client_id,
    client_name: row.name,
    scope: row.scopes.join(' '),
  };
  // The SHA-256 of the secret, never the secret: provider.ts makes the provider hash what a
  // client presents before comparing (see hashedSecretComparison).
  const secret = row.secret_sha256 === null ? {} : { client_secret: row.secret_sha256 };
  if (row.kind === 'machine') {
    return {
      ...common,
      ...secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    };
  }
  return {
    ...common,
    ...secret,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // Only addresses that keep today's rule (redirect-uris.ts), whatever was stored earlier.
    redirect_uris: usableRedirectUris(row.redirect_uris),
    application_type: row.public_client ? 'native' : 'web',
    token_endpoint_auth_method: row.public_client ? 'none' : 'client_secret_basic',
  };
}

function stringOr(payload: AdapterPayload, key: string): string | null {
  const value = (payload as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : null;
}

/**
 * Ends a grant: the grant itself and every code and refresh token issued under it are deleted,
 * and once that has committed its access tokens stop on this node from the next request (and on
 * every other within DECISION_TTL_MS, token-decisions.ts).
 */
export async function endGrant(db: Db, decisions: TokenDecisions, grantId: string): Promise<void> {
  await destroyGrant(db, grantId);
  decisions.forgetAll();
}

/**
 * The adapter class oidc-provider instantiates once per model name. `alreadyUsed` is the
 * provider's own `invalid_grant` error (errors.InvalidGrant), thrown by `consume` when another
 * request used the code or refresh token first.
 */
export function kyselyAdapter(
  db: Db,
  now: () => Date,
  decisions: TokenDecisions,
  alreadyUsed: new (description: string) => Error,
): new (model: string) => Adapter {
  return class KyselyAdapter implements Adapter {
    constructor(private readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      if (this.model === 'Client') throw new Error('clients are managed through the admin API');
      await upsertPayload(db, {
        model: this.model,
        id,
        payload: { ...payload },
        grantId: stringOr(payload, 'grantId'),
        userCode: stringOr(payload, 'userCode'),
        uid: stringOr(payload, 'uid'),
        accountId: stringOr(payload, 'accountId'),
        expiresAt: expiresIn ? new Date(now().getTime() + expiresIn * 1000) : null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        return decisions.decide(`metadata ${id}`, async () => {
          const row = await findClient(db, id);
          return row && row.disabled_at === null ? clientMetadata(row) : undefined;
        });
      }
      return this.findBy('id', id);
    }

    findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findBy('user_code', userCode);
    }

    findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findBy('uid', uid);
    }

    async consume(id: string): Promise<void> {
      if (await consumePayload(db, this.model, id, now())) return;
      // Another request used this code or refresh token between the provider's read and this
      // write (two refreshes with one token at once): the provider saw it unused, so its own
      // reuse check could not fire. Treated as the reuse it is (A12): the grant ends, with every
      // token issued under it, the winner's new ones included, and this request gets nothing.
      const grantId = await grantOfPayload(db, this.model, id);
      if (grantId !== undefined) await this.revokeByGrantId(grantId);
      throw new alreadyUsed(`${this.model} already used`);
    }

    async destroy(id: string): Promise<void> {
      await destroyPayload(db, this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      // The provider ends a grant (a reused refresh token or code) with this.
      await endGrant(db, decisions, grantId);
    }

    private async findBy(
      column: 'id' | 'user_code' | 'uid',
      value: string,
    ): Promise<AdapterPayload | undefined> {
      const row = await findPayload(db, this.model, column, value, now());
      if (!row) return undefined;
      const consumed = row.consumed_at
        ? { consumed: Math.floor(row.consumed_at.getTime() / 1000) }
        : {};
      return { ...(row.payload as AdapterPayload), ...consumed };
    }
  };
}
