// Bearer access-token verification (A4): algorithms, issuer, audience and token type are
// pinned; keys come from a resolver by kid so signing keys can rotate (S2).
import {
  jwtVerify,
  errors as joseErrors,
  type JWTPayload,
  type CryptoKey,
  type KeyObject,
} from 'jose';
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../errors.js';
import type { Authenticator, Principal } from './principal.js';

export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface AccessTokenVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Returns the public key for a kid, or undefined for an unknown kid. */
  readonly keyForKid: (kid: string) => Promise<CryptoKey | KeyObject | undefined>;
  /** Returns true when the session was revoked (A7); checked on every request. */
  readonly isSessionRevoked?: (sessionId: string) => Promise<boolean>;
  readonly clockTolerance?: number;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

function claimString(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' ? value : undefined;
}

/** Verifies one access token; throws HavenError(UNAUTHENTICATED) for any failure. */
export type AccessTokenVerifier = (token: string, via: Principal['via']) => Promise<Principal>;

export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  return async (token, via) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (protectedHeader) => {
          const key = protectedHeader.kid
            ? await options.keyForKid(protectedHeader.kid)
            : undefined;
          if (!key) throw new joseErrors.JWKSNoMatchingKey();
          return key;
        },
        {
          algorithms: [...ACCESS_TOKEN_ALGORITHMS],
          issuer: options.issuer,
          audience: options.audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ['exp', 'iat', 'jti', 'sub', 'scope'],
          clockTolerance: options.clockTolerance ?? 5,
        },
      ));
    } catch {
      // One answer for every failure: the caller learns nothing about which check failed.
      throw new HavenError('UNAUTHENTICATED', 'The access token is invalid or expired.');
    }
    const sessionId = claimString(payload, 'sid');
    if (
      sessionId !== undefined &&
      options.isSessionRevoked &&
      (await options.isSessionRevoked(sessionId))
    ) {
      throw new HavenError('UNAUTHENTICATED', 'The session has ended.');
    }
    const amr = Array.isArray(payload.amr)
      ? payload.amr.filter((m): m is string => typeof m === 'string')
      : [];
    return {
      kind: sessionId === undefined ? 'client' : 'user',
      subject: payload.sub ?? '',
      scopes: new Set((claimString(payload, 'scope') ?? '').split(' ').filter(Boolean)),
      sessionId,
      amr,
      mfaAt: typeof payload.mfa_at === 'number' ? payload.mfa_at : undefined,
      via,
    };
  };
}

/** Bearer-only authentication (machine clients, and the platform tests). */
export function createAccessTokenAuthenticator(options: AccessTokenVerifierOptions): Authenticator {
  const verify = createAccessTokenVerifier(options);
  return {
    async authenticate(request: FastifyRequest): Promise<Principal | null> {
      const token = bearerToken(request);
      return token === null ? null : verify(token, 'bearer');
    },
  };
}

/** The bearer token of a request; null without an Authorization header, throws when malformed. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const match = BEARER.exec(header);
  if (!match?.[1]) throw new HavenError('UNAUTHENTICATED', 'Malformed Authorization header.');
  return match[1];
}
