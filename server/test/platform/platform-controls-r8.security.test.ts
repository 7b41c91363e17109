// Threats found by mutation round 8 against platform controls no earlier test proved: an
// injected form posting to another site (T3 form-action), a token remembered after its signing
// key was retired (S2), and an app's token passing step-up for the person it acts for (A12).
import Fastify from 'fastify';
import { importJWK } from 'jose';
import { expect, it } from 'vitest';
import { createAccessTokenVerifier } from '../../src/platform/auth/jwt-authenticator.js';
import { installSecurityHeaders } from '../../src/platform/http/security-headers.js';
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_KID,
  harnessPublicJwk,
  signTestToken,
} from '../tokens.js';

const publicKey = await importJWK(harnessPublicJwk, 'EdDSA');

/** A verifier whose key ring is `live`: deleting the kid retires the key. */
function verifierWith(live: Set<string>) {
  return createAccessTokenVerifier({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    keyForKid: (kid) => Promise.resolve(live.has(kid) ? (publicKey as CryptoKey) : undefined),
    clockTolerance: 0,
  });
}

it("T3/form hijack: the CSP's form-action is 'self' only, so an injected form cannot post elsewhere", async () => {
  const app = Fastify({ logger: false });
  try {
    await installSecurityHeaders(app);
    app.get('/', async () => 'ok');
    const res = await app.inject({ method: 'GET', url: '/' });
    const csp = String(res.headers['content-security-policy'] ?? '');
    const formAction = csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .find(([name]) => name === 'form-action');
    expect(formAction, csp).toEqual(['form-action', "'self'"]);
  } finally {
    await app.close();
  }
});

it('S2/key compromise: a token verified once is refused after its signing key is retired', async () => {
  const live = new Set([TEST_KID]);
  const verify = verifierWith(live);
  const token = await signTestToken({ scope: 'patients:read', sid: 'session-1' });
  // The first use verifies the signature and remembers the result.
  expect((await verify(token, 'bearer')).scopes.has('patients:read')).toBe(true);
  // The key is rotated out (after a compromise): the remembered verification dies with it.
  live.delete(TEST_KID);
  await expect(verify(token, 'bearer')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
});

it("A12/step-up by proxy: an app's token never carries an MFA time, even one that names it", async () => {
  const verify = verifierWith(new Set([TEST_KID]));
  const now = Math.floor(Date.now() / 1000);
  // A delegated token (client id and grant, no session) that also says mfa_at = now.
  const delegated = await signTestToken({
    scope: 'patients:read',
    mfaAt: now,
    extra: { client_id: 'app-1', haven_grant: 'grant-1', amr: ['pwd', 'otp'] },
  });
  const principal = await verify(delegated, 'bearer');
  expect(principal.delegation).toEqual({ clientId: 'app-1', grantId: 'grant-1' });
  expect(principal.mfaAt).toBeUndefined();
  expect(principal.amr).toEqual([]);
  // The person's own session token with the same claim keeps it (the control is the delegation).
  const own = await signTestToken({ scope: 'patients:read', sid: 'session-2', mfaAt: now });
  expect((await verify(own, 'bearer')).mfaAt).toBe(now);
});
