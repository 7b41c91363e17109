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
/** Names the OAuth grant a person's app token was issued under (Haven's own claim, A12). */
export const DELEGATION_GRANT_CLAIM = 'haven_grant';

export interface AccessTokenVerifierOptions {
  readonly issuer: string;
  readonly audience: string;
  /** Returns the public key for a kid, or undefined for an unknown kid. */
  readonly keyForKid: (kid: string) => Promise<CryptoKey | KeyObject | undefined>;
  /** Returns true when the session was revoked (A7); checked on every request. */
  readonly isSessionRevoked?: (sessionId: string) => Promise<boolean>;
  readonly clockTolerance?: number;
  /**
   * The longest lifetime (exp − iat) this issuer ever gives an access token (S2). A token
   * claiming more, or issued in the future, is refused even with a valid signature: a leaked
   * or misused signing key must not mint month-long tokens.
   */
  readonly maxLifetimeSeconds?: number;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

function claimString(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' ? value : undefined;
}

/** Verifies one access token; throws HavenError(UNAUTHENTICATED) for any failure. */
export type AccessTokenVerifier = (token: string, via: Principal['via']) => Promise<Principal>;

/** Verified tokens remembered per process, so a token reused for 5 minutes is verified once. */
const VERIFIED_CACHE_SIZE = 10_000;

interface VerifiedToken {
  readonly expiresAtMs: number;
  readonly kid: string;
  readonly principal: Omit<Principal, 'via'>;
  /** The principal as handed out, per way the token arrived (made once, then shared). */
  readonly byVia: { -readonly [V in Principal['via']]?: Principal };
}

export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  const toleranceSeconds = options.clockTolerance ?? 5;
  // Keyed by the whole token: only the exact bytes that passed the signature check hit.
  // Expiry and revocation are still checked on every request.
  const verified = new Map<string, VerifiedToken>();

  async function verifySignatureAndClaims(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    let kid = '';
    // A key lookup that failed (the database unreachable) says nothing about the token: it
    // surfaces as itself (503 with Retry-After), never as "invalid token", which would tell a
    // client to drop a token that is fine.
    let keyLookupFailure: unknown;
    try {
      ({
        payload,
        protectedHeader: { kid = '' },
      } = await jwtVerify(
        token,
        async (protectedHeader) => {
          let key: Awaited<ReturnType<typeof options.keyForKid>>;
          try {
            key = protectedHeader.kid ? await options.keyForKid(protectedHeader.kid) : undefined;
          } catch (error) {
            keyLookupFailure = error;
            throw error;
          }
          if (!key) {
            throw new joseErrors.JWKSNoMatchingKey();
          }
          return key;
        },
        {
          algorithms: [...ACCESS_TOKEN_ALGORITHMS],
          issuer: options.issuer,
          audience: options.audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ['exp', 'iat', 'jti', 'sub', 'scope'],
          clockTolerance: toleranceSeconds,
          // With maxTokenAge jose also refuses an iat in the future (beyond the tolerance).
          ...(options.maxLifetimeSeconds !== undefined && {
            maxTokenAge: options.maxLifetimeSeconds,
          }),
        },
      ));
      const { exp = 0, iat = 0 } = payload;
      if (
        options.maxLifetimeSeconds !== undefined &&
        exp - iat > options.maxLifetimeSeconds + toleranceSeconds
      ) {
        throw new Error('lifetime above the cap');
      }
    } catch (error) {
      if (keyLookupFailure !== undefined && error === keyLookupFailure) throw error;
      // One answer for every failure: the caller learns nothing about which check failed.
      throw new HavenError('UNAUTHENTICATED', 'The access token is invalid or expired.');
    }
    const sessionId = claimString(payload, 'sid');
    const scopes = new Set((claimString(payload, 'scope') ?? '').split(' ').filter(Boolean));
    const clientId = claimString(payload, 'client_id');
    const grantId = claimString(payload, DELEGATION_GRANT_CLAIM);
    // An app acting for a person (A12): the person, with no session and no MFA of their own (so
    // never step-up, never a session-bound route), holding the token's scopes until the OAuth
    // module's per-request check narrows them (clientTokenChecks).
    const delegation =
      sessionId === undefined && clientId !== undefined && grantId !== undefined
        ? { clientId, grantId }
        : undefined;
    const amr =
      delegation === undefined && Array.isArray(payload.amr)
        ? payload.amr.filter((m): m is string => typeof m === 'string')
        : [];
    return {
      expiresAtMs: (payload.exp ?? 0) * 1000,
      kid,
      byVia: {},
      principal: {
        kind: sessionId === undefined && delegation === undefined ? 'client' : 'user',
        subject: payload.sub ?? '',
        scopes,
        sessionId,
        amr,
        mfaAt:
          delegation === undefined && typeof payload.mfa_at === 'number'
            ? payload.mfa_at
            : undefined,
        ...(delegation && { delegation }),
        ...(payload.jti !== undefined && { tokenId: payload.jti }),
      },
    };
  }

  return async (token, via) => {
    let entry = verified.get(token);
    if (entry === undefined || entry.expiresAtMs + toleranceSeconds * 1000 <= Date.now()) {
      verified.delete(token);
      entry = await verifySignatureAndClaims(token);
      if (verified.size >= VERIFIED_CACHE_SIZE) {
        // Oldest insertion first: Map iterates in insertion order.
        verified.delete(verified.keys().next().value as string);
      }
      verified.set(token, entry);
    } else if ((await options.keyForKid(entry.kid)) === undefined) {
      // The key was retired (or rotated out after a compromise) since this token was first
      // verified: the remembered verification dies with it (S2).
      verified.delete(token);
      throw new HavenError('UNAUTHENTICATED', 'The access token is invalid or expired.');
    }
    const { sessionId } = entry.principal;
    if (
      sessionId !== undefined &&
      options.isSessionRevoked &&
      (await options.isSessionRevoked(sessionId))
    ) {
      throw new HavenError('UNAUTHENTICATED', 'The session has ended.');
    }
    // Principals are read-only (and their scopes a ReadonlySet), so one object per token and
    // way of arrival can be shared by all its requests.
    return (entry.byVia[via] ??= Object.freeze({ ...entry.principal, via }));
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
