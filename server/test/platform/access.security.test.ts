// Authentication and authorization from route declarations (Z1, Z2, A4 verify side, A9
// step-up): every forged, expired, mis-typed or revoked token is refused the same way.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT, generateKeyPair } from 'jose';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import {
  HOOK_ONLY_MARKER,
  HOOK_ONLY_ROUTES,
  hookOnlyHandlerRuns,
  probeRoutes,
} from '../fixtures/probe-routes.js';
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_KID,
  createHarnessAuthenticator,
  harnessPublicJwk,
  signPersonToken,
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

  /** Calls a hook-only probe: its handler answers the marker to whoever reaches it. */
  const hookOnly = (route: keyof typeof HOOK_ONLY_ROUTES, authorization?: string) => {
    const { method, url } = HOOK_ONLY_ROUTES[route];
    return t.app.inject({
      method,
      url,
      headers: authorization ? { authorization } : {},
      ...(method === 'POST' ? { payload: {} } : {}),
    });
  };
  const handlerRuns = () => [...hookOnlyHandlerRuns.values()].reduce((a, b) => a + b, 0);
  /** The refusal must come from the hook: the status and code, and the handler never ran. */
  const expectRefused = async (
    route: keyof typeof HOOK_ONLY_ROUTES,
    authorization: string | undefined,
    status: number,
    code: string,
  ) => {
    const before = handlerRuns();
    const response = await hookOnly(route, authorization);
    expect(response.statusCode, `${route}: ${status} ${code} expected`).toBe(status);
    expect(response.json()).toMatchObject({ code });
    expect(response.body).not.toContain(HOOK_ONLY_MARKER);
    expect(handlerRuns()).toBe(before);
  };
  const bearer = async (options: Parameters<typeof signPersonToken>[0]) =>
    `Bearer ${await signPersonToken(options)}`;

  it('Z1: a route whose handler never checks the caller is still closed to anonymous and bad credentials (401 from the access hook)', async () => {
    for (const route of ['scoped', 'allScopes', 'stepUp'] as const) {
      await expectRefused(route, undefined, 401, 'UNAUTHENTICATED');
      await expectRefused(route, 'Bearer not-a-token', 401, 'UNAUTHENTICATED');
      const expired = await bearer({
        scope: 'patients:read notes:read users:manage',
        expiresIn: Math.floor(Date.now() / 1000) - 60,
      });
      await expectRefused(route, expired, 401, 'UNAUTHENTICATED');
    }
    // The probe itself works: a public one is reached by anyone.
    const open = await hookOnly('public');
    expect(open.statusCode).toBe(200);
    expect(open.json()).toEqual({ reached: HOOK_ONLY_MARKER });
  });

  it('Z2/privilege: a route whose handler never checks scopes refuses a caller missing any declared scope (403 from the access hook)', async () => {
    await expectRefused('scoped', await bearer({ scope: 'notes:read' }), 403, 'FORBIDDEN');
    await expectRefused('scoped', await bearer({ scope: '' }), 403, 'FORBIDDEN');
    // Every declared scope is needed, not any one of them.
    for (const scope of ['patients:read', 'notes:read', 'patients:write notes:write']) {
      await expectRefused('allScopes', await bearer({ scope }), 403, 'FORBIDDEN');
    }
    const before = handlerRuns();
    for (const [route, scope] of [
      ['scoped', 'patients:read'],
      ['allScopes', 'notes:read patients:read'],
    ] as const) {
      const admitted = await hookOnly(route, await bearer({ scope }));
      expect(admitted.statusCode, route).toBe(200);
      expect(admitted.json()).toEqual({ reached: HOOK_ONLY_MARKER });
    }
    expect(handlerRuns()).toBe(before + 2);
  });

  it('A9/step-up: a route whose handler never checks MFA refuses a token without a check in the last 5 minutes (403 from the access hook)', async () => {
    clock = Date.now();
    const nowSeconds = Math.floor(clock / 1000);
    await expectRefused('stepUp', await bearer({ scope: 'patients:read' }), 403, 'FORBIDDEN');
    await expectRefused('stepUp', await bearer({ scope: 'users:manage' }), 403, 'STEP_UP_REQUIRED');
    const stale = await bearer({ scope: 'users:manage', mfaAt: nowSeconds - 6 * 60 });
    await expectRefused('stepUp', stale, 403, 'STEP_UP_REQUIRED');
    const fresh = await hookOnly(
      'stepUp',
      await bearer({ scope: 'users:manage', mfaAt: nowSeconds - 60 }),
    );
    expect(fresh.statusCode).toBe(200);
    expect(fresh.json()).toEqual({ reached: HOOK_ONLY_MARKER });
  });

  it('Z1: a protected route without credentials answers 401', async () => {
    await expectUnauthenticated(undefined);
  });

  it('Z2: a valid token with the scope is accepted', async () => {
    const response = await read(await signPersonToken({ scope: 'patients:read' }));
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true });
  });

  it('Z2/privilege: a valid token without the scope answers 403', async () => {
    const response = await read(await signPersonToken({ scope: 'notes:read' }));
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
    await expectUnauthenticated(await signPersonToken({ scope: 'patients:read', key: privateKey }));
    await expectUnauthenticated(
      await signPersonToken({ scope: 'patients:read', kid: 'unknown-kid' }),
    );
  });

  it('A4/confused deputy: wrong audience, wrong issuer and wrong typ are refused', async () => {
    await expectUnauthenticated(
      await signPersonToken({ scope: 'patients:read', audience: 'other-api' }),
    );
    await expectUnauthenticated(
      await signPersonToken({ scope: 'patients:read', issuer: 'https://evil.example' }),
    );
    await expectUnauthenticated(await signPersonToken({ scope: 'patients:read', typ: 'JWT' }));
  });

  it('A4/replay: an expired token is refused', async () => {
    await expectUnauthenticated(
      await signPersonToken({
        scope: 'patients:read',
        expiresIn: Math.floor(Date.now() / 1000) - 60,
      }),
    );
  });

  it('A4/tampering: a token whose payload was edited is refused', async () => {
    const token = await signPersonToken({ scope: 'notes:read' });
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(
      JSON.stringify({ scope: 'patients:read', sub: 'x', iss: TEST_ISSUER, aud: TEST_AUDIENCE }),
    ).toString('base64url');
    await expectUnauthenticated(`${header}.${payload}.${signature}`);
  });

  it('A7: a token of a revoked session is refused', async () => {
    await expectUnauthenticated(
      await signPersonToken({ scope: 'patients:read', sid: REVOKED_SESSION }),
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
          authorization: `Bearer ${await signPersonToken({ scope: 'users:manage', sid: 's1', ...(mfaAt === undefined ? {} : { mfaAt }) })}`,
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
