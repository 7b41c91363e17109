// Access-token signing keys (A4, S2): Ed25519 key pairs whose private halves are sealed under
// the master key; rotation adds a key that becomes current while retired ones keep verifying
// until every token they signed has expired; the public halves are published as a JWKS
// (routes.ts). The first key is created when the app starts, so the JWKS is never empty.
import {
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type CryptoKey,
  type JWK,
  type KeyObject,
} from 'jose';
import type { Kysely } from 'kysely';
import { randomToken, type KeyRing } from '../../../platform/crypto.js';
import { sealContexts } from '../../../platform/key-rotation.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { ACCESS_TOKEN_LIFETIME_SECONDS } from './access-tokens.js';
import {
  insertSigningKey,
  lockSigningKeys,
  readCurrentKey,
  readVerifyingKeys,
  retireLiveKeys,
} from './repo.js';
import { MAX_PUBLISHED_KEYS, type PublicJwk } from './schemas.js';

export type { PublicJwk } from './schemas.js';

const ALG = 'EdDSA';
/** Slack for clock skew between nodes and verifiers. */
const RETENTION_MARGIN_MS = 60_000;

export interface SigningKey {
  readonly kid: string;
  readonly alg: typeof ALG;
  /** Non-extractable: the private half can sign but never be exported again. */
  readonly privateKey: CryptoKey | KeyObject;
}
export interface SigningKeyStore {
  currentSigningKey(): Promise<SigningKey>;
  /**
   * The current key's private half as a JWK, for the OAuth authorization server (oidc-provider
   * takes its signing keys only as JWKs), so its access tokens carry the same kid as Haven's own.
   */
  currentSigningJwk(): Promise<JWK & { kid: string; alg: typeof ALG }>;
  rotate(): Promise<{ kid: string }>;
  publicKeyForKid(kid: string): Promise<CryptoKey | KeyObject | undefined>;
  jwks(): Promise<{ keys: PublicJwk[] }>;
}
export interface SigningKeyStoreOptions {
  readonly db: Kysely<DatabaseSchema>;
  readonly ring: KeyRing;
  readonly now?: () => Date;
  /** How long the current key and the public keys are cached in memory. */
  readonly cacheMs?: number;
  /** An unknown kid re-reads the table at most this often, so random kids cannot flood it. */
  readonly unknownKidRefreshMs?: number;
}

// Shared with the key rotation job, which must re-seal under the very same context.
const sealContext = sealContexts.signingKey;

/** Only public parameters, whatever the stored document holds. */
function publicParams(kid: string, alg: string, stored: Record<string, unknown>): PublicJwk {
  const str = (name: string): string | undefined =>
    typeof stored[name] === 'string' ? stored[name] : undefined;
  const [kty, crv, x, y] = [str('kty'), str('crv'), str('x'), str('y')];
  if (!kty || !crv || !x) throw new Error(`signing key ${kid} has a malformed public JWK`);
  return { kty, crv, x, ...(y ? { y } : {}), kid, alg, use: 'sig' };
}

async function insertNewKey(trx: Kysely<DatabaseSchema>, ring: KeyRing, at: Date): Promise<string> {
  const kid = randomToken(16);
  const { publicKey, privateKey } = await generateKeyPair(ALG, {
    crv: 'Ed25519',
    extractable: true,
  });
  const jwk = publicParams(kid, ALG, { ...(await exportJWK(publicKey)) });
  await insertSigningKey(trx, {
    kid,
    alg: ALG,
    publicJwk: JSON.stringify(jwk),
    privateKeySealed: ring.seal(await exportPKCS8(privateKey), sealContext(kid)),
    createdAt: at,
  });
  return kid;
}

export function createSigningKeyStore(options: SigningKeyStoreOptions): SigningKeyStore {
  const { db, ring } = options;
  const now = options.now ?? (() => new Date());
  const cacheMs = options.cacheMs ?? 30_000;
  const refreshMs = options.unknownKidRefreshMs ?? 5_000;
  // Another node may keep signing with a key for up to cacheMs after it was retired.
  const retentionMs = ACCESS_TOKEN_LIFETIME_SECONDS * 1000 + cacheMs + RETENTION_MARGIN_MS;

  type Loaded = { at: number; keys: Map<string, { jwk: PublicJwk; key: CryptoKey | KeyObject }> };
  let loaded: Loaded | undefined;
  let loading: Promise<Loaded> | undefined;
  let current: { at: number; key: SigningKey } | undefined;

  const withLock = <T>(work: (trx: Kysely<DatabaseSchema>) => Promise<T>): Promise<T> =>
    db.transaction().execute(async (trx) => {
      await lockSigningKeys(trx);
      return work(trx);
    });

  async function loadPublicKeys(): Promise<Loaded> {
    const at = now().getTime();
    const rows = await readVerifyingKeys(db, new Date(at - retentionMs), MAX_PUBLISHED_KEYS);
    const keys: Loaded['keys'] = new Map();
    for (const row of rows) {
      const jwk = publicParams(row.kid, row.alg, row.public_jwk);
      const key = await importJWK(jwk, row.alg);
      // A symmetric ("oct") key would come back as bytes: never a valid verification key here.
      if (!(key instanceof Uint8Array)) keys.set(row.kid, { jwk, key });
    }
    return { at, keys };
  }
  /** One table read at a time per node; concurrent callers share it. */
  function reload(): Promise<Loaded> {
    loading ??= loadPublicKeys()
      .then((result) => (loaded = result))
      .finally(() => (loading = undefined));
    return loading;
  }
  async function publicKeys(): Promise<Loaded> {
    if (loaded && now().getTime() - loaded.at < cacheMs) return loaded;
    try {
      return await reload();
    } catch (error) {
      // The database unreachable: the keys read last still verify the tokens signed before the
      // outage (a node that had to re-read would otherwise call valid tokens invalid), until
      // every token they could have signed has expired.
      if (loaded && now().getTime() - loaded.at < retentionMs) return loaded;
      throw error;
    }
  }

  async function loadCurrent(): Promise<SigningKey> {
    let row = await readCurrentKey(db);
    if (!row) {
      // Nodes starting together on an empty table: the lock lets exactly one of them insert.
      await withLock(async (trx) => {
        if (!(await readCurrentKey(trx))) await insertNewKey(trx, ring, now());
      });
      loaded = undefined; // the JWKS read before the key existed is out of date
      row = await readCurrentKey(db);
      if (!row) throw new Error('no signing key after creating one');
    }
    const pem = ring.open(row.private_key_enc, sealContext(row.kid)).toString('utf8');
    return { kid: row.kid, alg: ALG, privateKey: await importPKCS8(pem, ALG) };
  }

  return {
    async currentSigningKey() {
      if (current && now().getTime() - current.at < cacheMs) return current.key;
      const key = await loadCurrent();
      current = { at: now().getTime(), key };
      return key;
    },
    async currentSigningJwk() {
      await loadCurrent(); // creates the first key if there is none yet
      const row = await readCurrentKey(db);
      if (!row) throw new Error('no current signing key');
      const pem = ring.open(row.private_key_enc, sealContext(row.kid)).toString('utf8');
      const key = await importPKCS8(pem, ALG, { extractable: true });
      return { ...(await exportJWK(key)), kid: row.kid, alg: ALG, use: 'sig' };
    },
    async rotate() {
      const kid = await withLock(async (trx) => {
        const at = now();
        await retireLiveKeys(trx, at);
        return insertNewKey(trx, ring, at);
      });
      current = undefined;
      loaded = undefined;
      return { kid };
    },
    async publicKeyForKid(kid) {
      const found = (await publicKeys()).keys.get(kid);
      if (found) return found.key;
      if (loaded && now().getTime() - loaded.at < refreshMs) return undefined;
      return (await reload()).keys.get(kid)?.key;
    },
    async jwks() {
      return { keys: [...(await publicKeys()).keys.values()].map((k) => ({ ...k.jwk })) };
    },
  };
}

/** `npx haven keys rotate`: adds a key that becomes current; returns its kid. */
export async function rotateSigningKeys(
  db: Kysely<DatabaseSchema>,
  ring: KeyRing,
): Promise<string> {
  return (await createSigningKeyStore({ db, ring }).rotate()).kid;
}
