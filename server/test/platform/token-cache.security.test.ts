// A4/A7: the per-process cache of verified access tokens never extends a token's life or
// outlives a revocation: expiry and revocation are checked on every use.
import { importJWK } from 'jose';
import { expect, it } from 'vitest';
import { createAccessTokenVerifier } from '../../src/platform/auth/jwt-authenticator.js';
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_KID,
  harnessPublicJwk,
  signTestToken,
} from '../tokens.js';

const publicKey = await importJWK(harnessPublicJwk, 'EdDSA');

function verifierWith(revoked: Set<string>) {
  return createAccessTokenVerifier({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    keyForKid: (kid) => Promise.resolve(kid === TEST_KID ? (publicKey as CryptoKey) : undefined),
    isSessionRevoked: (sid) => Promise.resolve(revoked.has(sid)),
    clockTolerance: 0,
  });
}

it('A4/replay: a cached token is refused once it expires', async () => {
  const verify = verifierWith(new Set());
  const token = await signTestToken({
    scope: 'patients:read',
    expiresIn: Math.floor(Date.now() / 1000) + 2,
  });
  await expect(verify(token, 'bearer')).resolves.toMatchObject({
    scopes: new Set(['patients:read']),
  });
  await new Promise((resolve) => setTimeout(resolve, 2100));
  await expect(verify(token, 'bearer')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
});

it('A7: a cached token of a session revoked afterwards is refused', async () => {
  const revoked = new Set<string>();
  const verify = verifierWith(revoked);
  const token = await signTestToken({ scope: 'patients:read', sid: 'session-to-revoke' });
  await expect(verify(token, 'cookie')).resolves.toMatchObject({ via: 'cookie' });
  revoked.add('session-to-revoke');
  await expect(verify(token, 'cookie')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
});

it('A4/tampering: a token differing from a cached one by one character is verified, and refused', async () => {
  const verify = verifierWith(new Set());
  const token = await signTestToken({ scope: 'patients:read' });
  await verify(token, 'bearer');
  // Change a character well inside the signature (the last one may only carry padding bits).
  const at = token.length - 10;
  const swapped = token[at] === 'A' ? 'B' : 'A';
  await expect(
    verify(`${token.slice(0, at)}${swapped}${token.slice(at + 1)}`, 'bearer'),
  ).rejects.toMatchObject({
    code: 'UNAUTHENTICATED',
  });
});
