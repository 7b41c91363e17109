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

export function createAccessTokenAuthenticator(options: AccessTokenVerifierOptions): Authenticator {
  return {
    async authenticate(request: FastifyRequest): Promise<Principal | null> {
      const header = request.headers.authorization;
      if (header === undefined) return null;
      const match = BEARER.exec(header);
      if (!match?.[1]) throw new HavenError('UNAUTHENTICATED', 'Malformed Authorization header.');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(
          match[1],
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
      const subject = payload.sub ?? '';
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
      const mfaAt = typeof payload.mfa_at === 'number' ? payload.mfa_at : undefined;
      return {
        kind: sessionId === undefined ? 'client' : 'user',
        subject,
        scopes: new Set((claimString(payload, 'scope') ?? '').split(' ').filter(Boolean)),
        sessionId,
        amr,
        mfaAt,
        via: 'bearer',
      };
    },
  };
}
