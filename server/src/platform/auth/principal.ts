// Who is calling: the result of authentication, consumed by authorization hooks and handlers.
import type { FastifyRequest } from 'fastify';
export interface Principal {
  readonly kind: 'user' | 'client';
  /** User id or OAuth client id. */
  readonly subject: string;
  readonly scopes: ReadonlySet<string>;
  /** Session id for user tokens; revocation is checked against it. */
  readonly sessionId: string | undefined;
  /** Authentication methods (RFC 8176), e.g. pwd, otp. */
  readonly amr: readonly string[];
  /** Seconds since epoch of the last MFA check, for step-up (A9). */
  readonly mfaAt: number | undefined;
  /** How the credentials arrived: cookie-borne requests need CSRF checks (A8). */
  readonly via: 'bearer' | 'cookie';
  /**
   * Set when a third-party app acts for this person with a token of an OAuth grant (A12): the
   * principal is the person (kind `user`, no session, no MFA), reaching only the routes that
   * accept a person without a session of their own (requirePerson) and only with the consented
   * scopes the person still holds.
   */
  readonly delegation?: { readonly clientId: string; readonly grantId: string };
  /**
   * The verified access token's `jti`, for checks that name one token (an OAuth client's
   * revoked tokens, A12); unset for principals not made from a token.
   */
  readonly tokenId?: string;
}

/**
 * Turns a request's credentials into a Principal. Returns null when the request carries
 * no credentials at all; throws HavenError(UNAUTHENTICATED) when they are present but bad.
 */
export interface Authenticator {
  authenticate(request: FastifyRequest): Promise<Principal | null>;
}
