// Signing keys and access tokens (A4, S2): tokens verify through the real authenticator,
// rotation keeps old tokens valid across nodes, keys are sealed at rest, the JWKS is public.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { FastifyRequest } from 'fastify';
import {
  SignJWT,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importPKCS8,
} from 'jose';
import { createTestApp } from '../../../../test/app-harness.js';
import {
  createTestDatabase,
  describeEachEngine,
  type TestDatabase,
} from '../../../../test/databases.js';
import { createAccessTokenAuthenticator } from '../../../platform/auth/jwt-authenticator.js';
import { createKeyRing, type KeyRing } from '../../../platform/crypto.js';
import { HavenError } from '../../../platform/errors.js';
import { openDatabase } from '../../../platform/db/database.js';
import { issueAccessToken } from './access-tokens.js';
import { createSigningKeyStore, rotateSigningKeys, type SigningKeyStore } from './signing-keys.js';

const ISSUER = 'https://haven.test';
const AUDIENCE = 'haven-api';

function verifierFor(store: SigningKeyStore) {
  const authenticator = createAccessTokenAuthenticator({
    issuer: ISSUER,
    audience: AUDIENCE,
    keyForKid: (kid) => store.publicKeyForKid(kid),
  });
  return (token: string) =>
    authenticator.authenticate({
      headers: { authorization: `Bearer ${token}` },
    } as unknown as FastifyRequest);
}

describeEachEngine('signing keys', (engine) => {
  let database: TestDatabase;
  let ring: KeyRing;
  let clock: number;
  let store: SigningKeyStore;
  const newStore = () =>
    createSigningKeyStore({ db: database.db, ring, now: () => new Date(clock) });
  const issue = (keys: SigningKeyStore, extra: { now?: () => number; mfaAt?: number } = {}) =>
    issueAccessToken({
      keys,
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'user-1',
      sessionId: 'session-1',
      scopes: ['patients:read', 'notes:write'],
      amr: ['pwd', 'otp'],
      authTime: Math.floor(clock / 1000) - 60,
      ...extra,
    });
  const keyRows = () =>
    database.db.selectFrom('signing_keys').selectAll().orderBy('created_at').execute();

  beforeEach(async () => {
    database = await createTestDatabase(engine);
    ring = createKeyRing(randomBytes(32));
    clock = Date.now();
    store = newStore();
  });
  afterEach(() => database.close());

  it('A4: an issued token verifies through the real authenticator with every required claim', async () => {
    const mfaAt = Math.floor(clock / 1000) - 30;
    const { token, expiresAt, jti } = await issue(store, { mfaAt });
    const principal = await verifierFor(store)(token);
    expect(principal).toMatchObject({ kind: 'user', subject: 'user-1', sessionId: 'session-1' });
    expect(principal?.scopes).toEqual(new Set(['patients:read', 'notes:write']));
    expect(principal?.amr).toEqual(['pwd', 'otp']);
    expect(principal?.mfaAt).toBe(mfaAt);

    const { kid } = await store.currentSigningKey();
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA', kid, typ: 'at+jwt' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: 'user-1',
      jti,
      sid: 'session-1',
    });
    expect(claims).toMatchObject({
      scope: 'patients:read notes:write',
      amr: ['pwd', 'otp'],
      mfa_at: mfaAt,
    });
    expect(typeof claims.auth_time).toBe('number');
    expect(claims.nbf).toBeUndefined();
    expect(claims.exp).toBe(expiresAt);
    expect(claims.exp! - claims.iat!).toBe(300);
  });

  it('A4/expiry: a token is refused once its 5 minutes are over', async () => {
    const verify = verifierFor(store);
    const fresh = await issue(store, { now: () => Date.now() - 240_000 });
    await expect(verify(fresh.token)).resolves.toMatchObject({ subject: 'user-1' });
    const stale = await issue(store, { now: () => Date.now() - 310_000 });
    await expect(verify(stale.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(
      issueAccessToken({ ...baseOptions(store), lifetimeSeconds: 3600 }),
    ).rejects.toThrow();
  });

  it('A4/forgery: a token naming a real kid but signed by another key is refused', async () => {
    const { kid } = await store.currentSigningKey();
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT({ scope: 'patients:read', sid: 's' })
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('attacker')
      .setIssuedAt()
      .setJti('j')
      .setExpirationTime('5m')
      .sign(privateKey);
    await expect(verifierFor(store)(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('A4/scope injection: a scope containing a space cannot be issued', async () => {
    await expect(
      issueAccessToken({ ...baseOptions(store), scopes: ['patients:read admin:all'] }),
    ).rejects.toThrow(/scope/);
  });

  it('S2/rotation: new tokens use the new kid while tokens of the old key still verify', async () => {
    const old = await issue(store);
    const oldKid = decodeProtectedHeader(old.token).kid;
    clock += 1_000;
    const { kid: newKid } = await store.rotate();
    const next = await issue(store);
    expect(newKid).not.toBe(oldKid);
    expect(decodeProtectedHeader(next.token).kid).toBe(newKid);
    const verify = verifierFor(store);
    await expect(verify(old.token)).resolves.toMatchObject({ subject: 'user-1' });
    await expect(verify(next.token)).resolves.toMatchObject({ subject: 'user-1' });
    expect((await keyRows()).map((r) => [r.kid, r.retired_at === null])).toEqual([
      [oldKid, false],
      [newKid, true],
    ]);
  });

  it('S2/other node: a key rotated on one node verifies on another sharing the database', async () => {
    const nodeB = newStore();
    const verifyOnB = verifierFor(nodeB);
    await expect(verifyOnB((await issue(store)).token)).resolves.toBeTruthy();
    const { kid } = await store.rotate();
    // Unknown kids re-read the table at most once per interval, so random kids cannot flood it.
    expect(await nodeB.publicKeyForKid(kid)).toBeUndefined();
    clock += 5_001;
    await expect(verifyOnB((await issue(store)).token)).resolves.toMatchObject({
      subject: 'user-1',
    });
    expect(decodeProtectedHeader((await issue(nodeB)).token).kid).toBe(kid);
  });

  it('S2/retirement: a retired key stops verifying and leaves the JWKS once its tokens expired', async () => {
    const old = await issue(store);
    await store.rotate();
    clock += 300_000 + 30_000 + 60_000 + 1;
    await expect(verifierFor(store)(old.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await store.jwks()).keys.map((k) => k.kid)).toEqual([
      (await store.currentSigningKey()).kid,
    ]);
  });

  it('A4/database outage: a stale key cache keeps verifying the tokens signed before, and a key that cannot be read is an outage, not an invalid token', async () => {
    const other = await createTestDatabase(engine);
    let closed = false;
    try {
      const nodeB = createSigningKeyStore({ db: other.db, ring, now: () => new Date(clock) });
      const signed = await issue(nodeB);
      await expect(verifierFor(nodeB)(signed.token)).resolves.toBeTruthy();
      await other.close();
      closed = true;
      // The cache is stale and the table cannot be read: the keys read last still verify.
      clock += 30_001;
      await expect(verifierFor(nodeB)(signed.token)).resolves.toMatchObject({
        subject: 'user-1',
      });
      // A node that never read the keys cannot check the token: the database's error comes
      // out (the API answers 503 with Retry-After), never "the access token is invalid".
      const fresh = createSigningKeyStore({ db: other.db, ring, now: () => new Date(clock) });
      const failure = await verifierFor(fresh)(signed.token).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(HavenError);
      // Once every token the old keys could have signed has expired, they are not trusted blind.
      clock += 300_000 + 60_000;
      await expect(verifierFor(nodeB)(signed.token)).rejects.not.toBeInstanceOf(HavenError);
    } finally {
      if (!closed) await other.close();
    }
  });

  it('A4/at rest: the private key is sealed under the master key and bound to its kid', async () => {
    await store.currentSigningKey();
    clock += 1_000;
    await store.rotate();
    const [first, second] = await keyRows();
    const pem = ring.open(first!.private_key_enc, `signing-key:${first!.kid}`).toString('utf8');
    const { d } = await exportJWK(await importPKCS8(pem, 'EdDSA', { extractable: true }));
    expect(d).toBeTruthy();
    expect(first!.private_key_enc).not.toContain(d);
    expect(first!.private_key_enc).not.toContain('PRIVATE KEY');
    expect(first!.public_jwk).not.toHaveProperty('d');
    expect(() => ring.open(first!.private_key_enc, `signing-key:${second!.kid}`)).toThrow();
    expect(() =>
      createKeyRing(randomBytes(32)).open(first!.private_key_enc, `signing-key:${first!.kid}`),
    ).toThrow();
  });

  it('A4/JWKS: GET /.well-known/jwks.json is public, cacheable and has no private parameter', async () => {
    await store.currentSigningKey();
    const rotatedKid = await rotateSigningKeys(database.db, ring);
    // The real app: its identity module serves the JWKS from the same database.
    const t = await createTestApp(engine, { database });
    try {
      const response = await t.app.inject({ url: '/.well-known/jwks.json' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('public, max-age=300');
      expect(response.body).not.toMatch(/"d"|PRIVATE/);
      const { keys } = response.json<{ keys: Array<Record<string, unknown>> }>();
      expect(keys.map((k) => k.kid).sort()).toEqual((await keyRows()).map((r) => r.kid).sort());
      expect(keys.map((k) => k.kid)).toContain(rotatedKid);
      for (const key of keys) {
        expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x']);
        expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
      }
      expect(t.app.routeTable).toContainEqual(
        expect.objectContaining({
          method: 'GET',
          path: '/.well-known/jwks.json',
          access: 'public',
        }),
      );
    } finally {
      await t.close();
    }
  });

  it('A4/JWKS at start: a fresh app publishes a signing key before anyone signs in', async () => {
    expect(await keyRows()).toEqual([]);
    const t = await createTestApp(engine, { database });
    try {
      const response = await t.app.inject({ url: '/.well-known/jwks.json' });
      expect(response.statusCode).toBe(200);
      const { keys } = response.json<{ keys: Array<{ kid: string }> }>();
      expect(keys.length).toBeGreaterThanOrEqual(1);
      const rows = await keyRows();
      expect(keys.map((k) => k.kid)).toEqual(rows.map((r) => r.kid));
      expect(await database.db.selectFrom('sessions').select('id').execute()).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('S2/race at start: two apps starting together on one database end with exactly one current key', async () => {
    // On PostgreSQL each app gets its own pool, so the two starts really run concurrently.
    const handles = database.url
      ? await Promise.all(
          [1, 2].map(() => openDatabase({ url: database.url, embeddedDir: undefined })),
        )
      : [];
    const shared = handles.length > 0 ? handles : [database, database];
    const env = { HAVEN_MASTER_KEY: randomBytes(32).toString('base64') };
    const apps = await Promise.all(
      shared.map((handle) =>
        createTestApp(engine, { database: { ...handle, url: database.url }, env }),
      ),
    );
    try {
      const current = (await keyRows()).filter((r) => r.retired_at === null);
      expect(current).toHaveLength(1);
      for (const t of apps) {
        const response = await t.app.inject({ url: '/.well-known/jwks.json' });
        expect(response.json<{ keys: Array<{ kid: string }> }>().keys.map((k) => k.kid)).toEqual([
          current[0]!.kid,
        ]);
      }
    } finally {
      await Promise.all(apps.map((t) => t.close()));
      await Promise.all(handles.map((h) => h.close()));
    }
  });

  it('S2/race: nodes starting together on an empty table create exactly one key', async () => {
    // On PostgreSQL every node gets its own pool, so the inserts really run concurrently.
    const handles = database.url
      ? await Promise.all(
          [1, 2, 3].map(() => openDatabase({ url: database.url, embeddedDir: undefined })),
        )
      : [];
    try {
      const dbs =
        handles.length > 0 ? handles.map((h) => h.db) : [database.db, database.db, database.db];
      const stores = dbs.map((db) => createSigningKeyStore({ db, ring }));
      const kids = await Promise.all(stores.map(async (s) => (await s.currentSigningKey()).kid));
      expect(new Set(kids).size).toBe(1);
      expect(await keyRows()).toHaveLength(1);
    } finally {
      await Promise.all(handles.map((h) => h.close()));
    }
  });
});

function baseOptions(keys: SigningKeyStore) {
  return {
    keys,
    issuer: ISSUER,
    audience: AUDIENCE,
    subject: 'user-1',
    sessionId: 'session-1',
    scopes: ['patients:read'],
    amr: ['pwd'],
    authTime: Math.floor(Date.now() / 1000),
  };
}
