// Authentication and authorization from route declarations (Z1, Z2, A4 verify side, A9
// step-up): every forged, expired, mis-typed or revoked token is refused the same way.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT, generateKeyPair } from 'jose';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import { probeRoutes } from '../fixtures/probe-routes.js';
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_KID,
  createHarnessAuthenticator,
  harnessPublicJwk,
  signTestToken,
} from '../tokens.js';

const REVOKED_SESSION = 'revoked-session-1';
let clock = Date.now();

describeEachEngine('access control', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine, {
      build: {
        modules: [probeRoutes],
        authenticator: createHarnessAuthenticator(new Set([REVOKED_SESSION])),
        now: () => clock,
      },
    });
  });
  afterAll(() => t.close());

  const read = (token?: string) =>
    t.app.inject({
      url: '/api/test/patients',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  const expectUnauthenticated = async (token: string | undefined) => {
    const response = await read(token);
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
  };

  it('Z1: a protected route without credentials answers 401', async () => {
    await expectUnauthenticated(undefined);
  });

  it('Z2: a valid token with the scope is accepted', async () => {
    const response = await read(await signTestToken({ scope: 'patients:read' }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true });
  });

  it('Z2/privilege: a valid token without the scope answers 403', async () => {
    const response = await read(await signTestToken({ scope: 'notes:read' }));
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('A4/alg none: an unsigned token is refused', async () => {
    const unsigned = new UnsecuredJWT({ scope: 'patients:read', jti: 'x' })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setSubject('attacker')
      .setIssuedAt()
      .setExpirationTime('5m')
      .encode();
    await expectUnauthenticated(unsigned);
  });

  it('A4/key confusion: an HS256 token keyed with the public key is refused', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(harnessPublicJwk));
    const forged = await new SignJWT({ scope: 'patients:read', jti: 'x' })
      .setProtectedHeader({ alg: 'HS256', kid: TEST_KID, typ: 'at+jwt' })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setSubject('attacker')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);
    await expectUnauthenticated(forged);
  });

  it('A4/forgery: a token signed by an unknown key or with an unknown kid is refused', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    await expectUnauthenticated(await signTestToken({ scope: 'patients:read', key: privateKey }));
    await expectUnauthenticated(
      await signTestToken({ scope: 'patients:read', kid: 'unknown-kid' }),
    );
  });

  it('A4/confused deputy: wrong audience, wrong issuer and wrong typ are refused', async () => {
    await expectUnauthenticated(
      await signTestToken({ scope: 'patients:read', audience: 'other-api' }),
    );
    await expectUnauthenticated(
      await signTestToken({ scope: 'patients:read', issuer: 'https://evil.example' }),
    );
    await expectUnauthenticated(await signTestToken({ scope: 'patients:read', typ: 'JWT' }));
  });

  it('A4/replay: an expired token is refused', async () => {
    await expectUnauthenticated(
      await signTestToken({
        scope: 'patients:read',
        expiresIn: Math.floor(Date.now() / 1000) - 60,
      }),
    );
  });

  it('A4/tampering: a token whose payload was edited is refused', async () => {
    const token = await signTestToken({ scope: 'notes:read' });
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(
      JSON.stringify({ scope: 'patients:read', sub: 'x', iss: TEST_ISSUER, aud: TEST_AUDIENCE }),
    ).toString('base64url');
    await expectUnauthenticated(`${header}.${payload}.${signature}`);
  });

  it('A7: a token of a revoked session is refused', async () => {
    await expectUnauthenticated(
      await signTestToken({ scope: 'patients:read', sid: REVOKED_SESSION }),
    );
  });

  it('A4: a malformed Authorization header is refused', async () => {
    const response = await t.app.inject({
      url: '/api/test/patients',
      headers: { authorization: 'Basic YTpi' },
    });
    expect(response.statusCode).toBe(401);
  });

  it('A9/step-up: a sensitive route needs an MFA check within 5 minutes', async () => {
    const call = async (mfaAt?: number) =>
      t.app.inject({
        method: 'POST',
        url: '/api/test/roles',
        payload: {},
        headers: {
          authorization: `Bearer ${await signTestToken({ scope: 'users:manage', sid: 's1', ...(mfaAt === undefined ? {} : { mfaAt }) })}`,
        },
      });
    clock = Date.now();
    const nowSeconds = Math.floor(clock / 1000);
    const never = await call();
    expect(never.statusCode).toBe(403);
    expect(never.json()).toMatchObject({ code: 'STEP_UP_REQUIRED' });
    const stale = await call(nowSeconds - 6 * 60);
    expect(stale.json()).toMatchObject({ code: 'STEP_UP_REQUIRED' });
    expect((await call(nowSeconds - 60)).statusCode).toBe(200);
  });
});
