// The signing_keys table. Private halves are stored sealed; the caller seals and opens them.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema, SigningKeysTable } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

/** 'hvnsigky' as a bigint: serializes first-key creation and rotation across nodes. */
const SIGNING_KEYS_LOCK_KEY = '7527325269165042553';

/** Held until the caller's transaction ends. */
export async function lockSigningKeys(trx: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(${SIGNING_KEYS_LOCK_KEY}::bigint)`.execute(trx);
}

/** The newest key that is not retired: the one that signs. */
export function readCurrentKey(db: Db) {
  return db
    .selectFrom('signing_keys')
    .select(['kid', 'private_key_enc'])
    .where('retired_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('kid', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Keys that still verify: live, or retired after `retiredAfter`; newest first. */
export function readVerifyingKeys(db: Db, retiredAfter: Date, limit: number) {
  return db
    .selectFrom('signing_keys')
    .select(['kid', 'alg', 'public_jwk'])
    .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', retiredAfter)]))
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

export async function insertSigningKey(
  trx: Db,
  key: {
    kid: string;
    alg: SigningKeysTable['alg'];
    publicJwk: string;
    privateKeySealed: string;
    createdAt: Date;
  },
): Promise<void> {
  await trx
    .insertInto('signing_keys')
    .values({
      kid: key.kid,
      alg: key.alg,
      public_jwk: key.publicJwk,
      private_key_enc: key.privateKeySealed,
      created_at: key.createdAt,
    })
    .execute();
}

export async function retireLiveKeys(trx: Db, at: Date): Promise<void> {
  await trx
    .updateTable('signing_keys')
    .set({ retired_at: at })
    .where('retired_at', 'is', null)
    .execute();
}
