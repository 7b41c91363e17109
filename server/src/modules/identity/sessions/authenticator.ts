// The identity module's Authenticator: bearer tokens for API clients, __Host- cookies for
// the SPA. Cookie-borne state-changing requests must come from our own origin and carry
// the session's CSRF token (A8); bearer requests are exempt (a browser never adds them).
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../../../platform/errors.js';
import type { Authenticator, Principal } from '../../../platform/auth/principal.js';
import { bearerToken, type AccessTokenVerifier } from '../../../platform/auth/jwt-authenticator.js';
import {
  ACCESS_COOKIE,
  CSRF_HEADER,
  isSameSiteRequest,
  isStateChanging,
  readCookie,
  type CsrfTokens,
} from './browser-credentials.js';

export interface IdentityAuthenticatorOptions {
  readonly verify: AccessTokenVerifier;
  readonly csrf: CsrfTokens;
  /** Our own origin plus configured CORS origins. */
  readonly allowedOrigins: ReadonlySet<string>;
}

export function createIdentityAuthenticator(options: IdentityAuthenticatorOptions): Authenticator {
  return {
    async authenticate(request: FastifyRequest): Promise<Principal | null> {
      const bearer = bearerToken(request);
      if (bearer !== null) return options.verify(bearer, 'bearer');
      const cookie = readCookie(request, ACCESS_COOKIE);
      if (cookie === undefined) return null;
      const principal = await options.verify(cookie, 'cookie');
      if (isStateChanging(request.method)) {
        const header = request.headers[CSRF_HEADER];
        const sameSite = isSameSiteRequest(request, options.allowedOrigins);
        const tokenOk =
          principal.sessionId !== undefined &&
          options.csrf.matches(
            principal.sessionId,
            typeof header === 'string' ? header : undefined,
          );
        if (!sameSite || !tokenOk) throw new HavenError('CSRF_FAILED');
      }
      return principal;
    },
  };
}
