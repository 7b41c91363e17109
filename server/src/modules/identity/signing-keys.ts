// Access-token signing keys (A4, S2): Ed25519 key pairs whose private halves are sealed under
// the master key; rotation adds a key that becomes current while retired ones keep verifying
// until every token they signed has expired; the public halves are published as a JWKS. The first
// key is created when the app starts, so the JWKS is never empty.
import {
  SignJWT,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type CryptoKey,
  type JWTPayload,
  type KeyObject,
} from 'jose';
import { sql, type Kysely } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { randomToken, type KeyRing } from '../../platform/crypto.js';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { ACCESS_TOKEN_TYPE } from '../../platform/auth/jwt-authenticator.js';
import { PUBLIC } from '../../platform/http/route-contract.js';

export const ACCESS_TOKEN_LIFETIME_SECONDS = 300;
const ALG = 'EdDSA';
/** 'hvnsigky' as a bigint: serializes first-key creation and rotation across nodes. */
const SIGNING_KEYS_LOCK_KEY = '7527325269165042553';
/** Slack for clock skew between nodes and verifiers. */
const RETENTION_MARGIN_MS = 60_000;
const MAX_PUBLISHED_KEYS = 32;
/** How long the start waits for the first signing key (under Fastify's 10 s onReady limit). */
const START_KEY_WAIT_MS = 5_000;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export interface SigningKey {
  readonly kid: string;
  readonly alg: typeof ALG;
  /** Non-extractable: the private half can sign but never be exported again. */
  readonly privateKey: CryptoKey | KeyObject;
}
const PublicJwkSchema = Type.Object(
  {
    kty: Type.String({ maxLength: 8 }),
    crv: Type.String({ maxLength: 16 }),
    x: Type.String({ maxLength: 128 }),
    y: Type.Optional(Type.String({ maxLength: 128 })),
    kid: Type.String({ maxLength: 64 }),
    alg: Type.String({ maxLength: 16 }),
    use: Type.Literal('sig'),
  },
  { additionalProperties: false },
);
export type PublicJwk = Static<typeof PublicJwkSchema>;
export interface SigningKeyStore {
  currentSigningKey(): Promise<SigningKey>;
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

const sealContext = (kid: string): string => `signing-key:${kid}`;

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
  await trx
    .insertInto('signing_keys')
    .values({
      kid,
      alg: ALG,
      public_jwk: JSON.stringify(jwk),
      private_key_enc: ring.seal(await exportPKCS8(privateKey), sealContext(kid)),
      created_at: at,
    })
    .execute();
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
      await sql`select pg_advisory_xact_lock(${SIGNING_KEYS_LOCK_KEY}::bigint)`.execute(trx);
      return work(trx);
    });
  const readCurrent = (from: Kysely<DatabaseSchema>) =>
    from
      .selectFrom('signing_keys')
      .select(['kid', 'private_key_enc'])
      .where('retired_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('kid', 'desc')
      .limit(1)
      .executeTakeFirst();

  async function loadPublicKeys(): Promise<Loaded> {
    const at = now().getTime();
    const rows = await db
      .selectFrom('signing_keys')
      .select(['kid', 'alg', 'public_jwk'])
      .where((eb) =>
        eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', new Date(at - retentionMs))]),
      )
      .orderBy('created_at', 'desc')
      .limit(MAX_PUBLISHED_KEYS)
      .execute();
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
    return reload();
  }

  async function loadCurrent(): Promise<SigningKey> {
    let row = await readCurrent(db);
    if (!row) {
      // Nodes starting together on an empty table: the lock lets exactly one of them insert.
      await withLock(async (trx) => {
        if (!(await readCurrent(trx))) await insertNewKey(trx, ring, now());
      });
      loaded = undefined; // the JWKS read before the key existed is out of date
      row = await readCurrent(db);
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
    async rotate() {
      const kid = await withLock(async (trx) => {
        const at = now();
        await trx
          .updateTable('signing_keys')
          .set({ retired_at: at })
          .where('retired_at', 'is', null)
          .execute();
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

export interface IssueAccessTokenOptions {
  readonly keys: Pick<SigningKeyStore, 'currentSigningKey'>;
  readonly issuer: string;
  readonly audience: string;
  readonly subject: string;
  readonly sessionId: string;
  readonly scopes: readonly string[];
  readonly amr: readonly string[];
  /** Seconds since epoch of the primary authentication. */
  readonly authTime: number;
  /** Seconds since epoch of the last MFA check (step-up, A9). */
  readonly mfaAt?: number;
  readonly lifetimeSeconds?: number;
  /** Milliseconds since epoch. */
  readonly now?: () => number;
}

/** Signs an access token (A4). `expiresAt` is the `exp` claim: seconds since epoch. */
export async function issueAccessToken(
  options: IssueAccessTokenOptions,
): Promise<{ token: string; expiresAt: number; jti: string }> {
  const lifetime = options.lifetimeSeconds ?? ACCESS_TOKEN_LIFETIME_SECONDS;
  // Longer tokens would outlive the retention of a retired signing key.
  if (!Number.isInteger(lifetime) || lifetime <= 0 || lifetime > ACCESS_TOKEN_LIFETIME_SECONDS) {
    throw new Error(`access token lifetime must be 1..${ACCESS_TOKEN_LIFETIME_SECONDS} seconds`);
  }
  // A scope with a space in it would be read back as two scopes.
  if (!options.scopes.every((s) => SCOPE_TOKEN.test(s))) throw new Error('invalid scope token');
  const { kid, alg, privateKey } = await options.keys.currentSigningKey();
  const iat = Math.floor((options.now ?? Date.now)() / 1000);
  const expiresAt = iat + lifetime;
  const jti = randomToken(16);
  const claims: JWTPayload = {
    sid: options.sessionId,
    scope: options.scopes.join(' '),
    amr: [...options.amr],
    auth_time: options.authTime,
    ...(options.mfaAt === undefined ? {} : { mfa_at: options.mfaAt }),
  };
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg, kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(options.issuer)
    .setAudience(options.audience)
    .setSubject(options.subject)
    .setIssuedAt(iat)
    .setExpirationTime(expiresAt)
    .setJti(jti)
    .sign(privateKey);
  return { token, expiresAt, jti };
}

/**
 * Publishes the JWKS, and creates the first signing key when the app starts: a verifier (or
 * another node) fetching the JWKS before anyone signed in finds a key. Nodes starting together
 * create one key between them (loadCurrent inserts under an advisory lock, re-checking first).
 */
export function registerJwksRoute(
  app: FastifyInstance,
  store: Pick<SigningKeyStore, 'jwks' | 'currentSigningKey'>,
): void {
  app.addHook('onReady', async () => {
    // Never a reason not to start: an unmigrated database (`haven routes` builds the app on an
    // empty in-memory one) or a slow one (Fastify times out onReady hooks after 10 s); the first
    // token issued then creates the key, as it would anyway.
    const created = store.currentSigningKey().then(
      () => 'created' as const,
      (error: unknown) => {
        app.log.warn({ err: error }, 'could not create the first signing key at start');
        return 'failed' as const;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), START_KEY_WAIT_MS);
    });
    if ((await Promise.race([created, late])) === 'late') {
      app.log.warn('the first signing key is not created yet; starting without waiting for it');
    }
    clearTimeout(timer);
  });
  app.get(
    '/.well-known/jwks.json',
    {
      config: { access: PUBLIC, rateClass: 'public' },
      schema: {
        response: {
          200: Type.Object(
            { keys: Type.Array(PublicJwkSchema, { maxItems: MAX_PUBLISHED_KEYS }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (_request, reply) => {
      // Public keys are meant to be cached; the global hook set no-store before we got here.
      reply.header('cache-control', 'public, max-age=300');
      return store.jwks();
    },
  );
}

/** `npx haven keys rotate`: adds a key that becomes current; returns its kid. */
export async function rotateSigningKeys(
  db: Kysely<DatabaseSchema>,
  ring: KeyRing,
): Promise<string> {
  return (await createSigningKeyStore({ db, ring }).rotate()).kid;
}
