// Harness-only access tokens. The signing key exists only in the test process: production
// code has no way to load it, so these tokens can never authenticate against a real server.
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { createAccessTokenAuthenticator } from '../src/platform/auth/jwt-authenticator.js';
import type { Authenticator } from '../src/platform/auth/principal.js';

export const TEST_ISSUER = 'https://haven.test';
export const TEST_AUDIENCE = 'haven-api';
export const TEST_KID = 'harness-key-1';

const { privateKey, publicKey } = await generateKeyPair('EdDSA', {
  crv: 'Ed25519',
  extractable: true,
});
export const harnessPublicJwk = await exportJWK(publicKey);

export interface TestTokenOptions {
  readonly sub?: string;
  readonly scope?: string;
  readonly sid?: string;
  readonly mfaAt?: number;
  readonly expiresIn?: string | number;
  readonly typ?: string;
  readonly kid?: string;
  readonly audience?: string;
  readonly issuer?: string;
  readonly key?: CryptoKey;
  readonly alg?: string;
  readonly extra?: JWTPayload;
}

export async function signTestToken(options: TestTokenOptions = {}): Promise<string> {
  const payload: JWTPayload = { scope: options.scope ?? '', ...options.extra };
  if (options.sid !== undefined) payload.sid = options.sid;
  if (options.mfaAt !== undefined) payload.mfa_at = options.mfaAt;
  return new SignJWT(payload)
    .setProtectedHeader({
      alg: options.alg ?? 'EdDSA',
      kid: options.kid ?? TEST_KID,
      typ: options.typ ?? 'at+jwt',
    })
    .setSubject(options.sub ?? randomUUID())
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(options.key ?? privateKey);
}

/**
 * A token of a person's own session (a fresh `sid`): what a signed-in person's browser carries.
 * signTestToken without `sid` makes a machine client's token, which reaches only the routes that
 * serve machine clients (`requireScopes(…, { serves })`).
 */
export function signPersonToken(options: TestTokenOptions = {}): Promise<string> {
  return signTestToken({ sid: randomUUID(), ...options });
}

export function createHarnessAuthenticator(
  revoked: ReadonlySet<string> = new Set(),
): Authenticator {
  return createAccessTokenAuthenticator({
    issuer: TEST_ISSUER,
    audience: TEST_AUDIENCE,
    keyForKid: (kid) => Promise.resolve(kid === TEST_KID ? publicKey : undefined),
    isSessionRevoked: (sid) => Promise.resolve(revoked.has(sid)),
  });
}
