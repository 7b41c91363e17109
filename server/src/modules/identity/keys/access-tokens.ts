// Access tokens (A4): short-lived EdDSA JWTs signed with the current signing key. A token
// never outlives the retention of the key that signed it (signing-keys.ts).
import { SignJWT, type JWTPayload } from 'jose';
import { randomToken } from '../../../platform/crypto.js';
import { ACCESS_TOKEN_TYPE } from '../../../platform/auth/jwt-authenticator.js';
import type { SigningKeyStore } from './signing-keys.js';

export const ACCESS_TOKEN_LIFETIME_SECONDS = 300;
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

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
