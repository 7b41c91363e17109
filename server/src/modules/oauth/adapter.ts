// oidc-provider's storage on PostgreSQL/PGlite through Kysely (A12): every artifact lives in
// `oauth_payloads`, so any node answers for any other; nothing is kept in memory. The `Client`
// model is read from `oauth_clients`, the table administrators manage: a disabled client is not
// found, so the provider refuses it at the token endpoint at once.
import type { Kysely } from 'kysely';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import {
  consumePayload,
  destroyGrant,
  destroyPayload,
  findClient,
  findPayload,
  upsertPayload,
  type ClientRow,
} from './repo.js';

type Db = Kysely<DatabaseSchema>;

/** The only grant and the only authentication methods a client has in this phase. */
export function clientMetadata(row: ClientRow): AdapterPayload {
  return {
    client_id: row.client_id,
    // The SHA-256 of the secret, never the secret: provider.ts makes the provider hash what a
    // client presents before comparing (see hashedSecretComparison).
    client_secret: row.secret_sha256,
    client_name: row.name,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: row.scopes.join(' '),
  };
}

function stringOr(payload: AdapterPayload, key: string): string | null {
  const value = (payload as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : null;
}

/** The adapter class oidc-provider instantiates once per model name. */
export function kyselyAdapter(db: Db, now: () => Date): new (model: string) => Adapter {
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
        expiresAt: expiresIn ? new Date(now().getTime() + expiresIn * 1000) : null,
      });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const row = await findClient(db, id);
        return row && row.disabled_at === null ? clientMetadata(row) : undefined;
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
      await consumePayload(db, this.model, id, now());
    }

    async destroy(id: string): Promise<void> {
      await destroyPayload(db, this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await destroyGrant(db, grantId);
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
