// S2/A4: a valid signature is not enough. An access token claiming a lifetime above the
// issuer's cap, or issued in the future, is refused (a misused signing key cannot mint
// month-long tokens), and a verification remembered by the per-process cache dies with its key.
import { randomUUID } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAccessTokenVerifier } from '../../src/platform/auth/jwt-authenticator.js';

const ISSUER = 'https://haven.test';
const AUDIENCE = 'haven-api';
const KID = 'lifetime-key';
const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });

async function token(iatOffsetSeconds: number, lifetimeSeconds: number): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) + iatOffsetSeconds;
  return new SignJWT({ scope: 'patients:read' })
    .setProtectedHeader({ alg: 'EdDSA', kid: KID, typ: 'at+jwt' })
    .setSubject(randomUUID())
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setJti(randomUUID())
    .setExpirationTime(iat + lifetimeSeconds)
    .sign(privateKey);
}

function verifier(keyLive: () => boolean = () => true) {
  return createAccessTokenVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    keyForKid: (kid) => Promise.resolve(kid === KID && keyLive() ? publicKey : undefined),
    maxLifetimeSeconds: 300,
    clockTolerance: 5,
  });
}

describe('access-token lifetime', () => {
  it('S2/forged lifetime: a correctly signed 30-day token is refused', async () => {
    const verify = verifier();
    await expect(verify(await token(0, 30 * 24 * 3600), 'bearer')).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('S2/forged lifetime: a token issued in the future (iat + 10 min) is refused', async () => {
    const verify = verifier();
    await expect(verify(await token(600, 300), 'bearer')).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('sanity: a token with the issued lifetime passes (the refusals above are not blanket)', async () => {
    const verify = verifier();
    await expect(verify(await token(0, 300), 'bearer')).resolves.toMatchObject({
      kind: 'client',
    });
  });

  it('S2/key retirement: a token verified once is refused after its signing key is retired', async () => {
    let live = true;
    const verify = verifier(() => live);
    const issued = await token(0, 300);
    await expect(verify(issued, 'bearer')).resolves.toBeDefined();
    await expect(verify(issued, 'bearer')).resolves.toBeDefined();
    live = false;
    await expect(verify(issued, 'bearer')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
