// Authentication and authorization as hooks derived from each route's declaration
// (Z1, Z2, A9 step-up): handlers never decide who may call them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HavenError } from '../errors.js';
import type { ServedCaller } from '../http/route-contract.js';
import type { Authenticator, Principal } from './principal.js';

/** Step-up window: a sensitive action needs an MFA check this recent (A9). */
export const STEP_UP_WINDOW_SECONDS = 5 * 60;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The principal of an authenticated route; throws if called on a public one by mistake. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new HavenError('UNAUTHENTICATED');
  return request.principal;
}

/** Which kind of caller other than a person's own session this is, if any. */
function servedCallerOf(principal: Principal): ServedCaller | undefined {
  if (principal.delegation !== undefined) return 'delegated-app';
  return principal.kind === 'client' ? 'machine-client' : undefined;
}

export function installAccessControl(
  app: FastifyInstance,
  authenticator: Authenticator,
  now: () => number = () => Date.now(),
): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    // Undeclared routes never get here (the contract stops the server); the 404 route is public.
    if (!access || access.kind === 'public') return;
    const principal = await authenticator.authenticate(request);
    if (!principal) throw new HavenError('UNAUTHENTICATED');
    const missing = access.scopes.filter((scope) => !principal.scopes.has(scope));
    if (missing.length > 0) {
      throw new HavenError('FORBIDDEN', `Missing scope: ${missing.join(' ')}`);
    }
    // Deny by default (Z2, A12): a machine client, or an app acting for a person, reaches only
    // the routes that declare they serve it. Which scopes a client may be granted is checked
    // when it is registered; this holds even if a token carried more.
    const caller = servedCallerOf(principal);
    if (caller !== undefined && !access.serves.includes(caller)) {
      throw new HavenError(
        'FORBIDDEN',
        caller === 'machine-client'
          ? 'This route is not open to machine clients.'
          : 'This route is only open to people signed in to Haven themselves.',
      );
    }
    if (access.stepUp) {
      const fresh =
        principal.mfaAt !== undefined && now() / 1000 - principal.mfaAt <= STEP_UP_WINDOW_SECONDS;
      if (!fresh) {
        throw new HavenError('STEP_UP_REQUIRED', 'Confirm with your MFA code to continue.');
      }
    }
    request.principal = principal;
  });
}

/**
 * The person whose own session this browser carries (the cookie), or undefined: no cookie, one
 * that no longer verifies, a token in a header, or one that is not a session's (a machine
 * client's, or one an app holds for the person, even planted as the cookie). For a public browser route that must know whose
 * browser it is (the OAuth resume step) without requiring anyone.
 */
export async function ownSessionPerson(
  authenticator: Authenticator,
  request: FastifyRequest,
): Promise<string | undefined> {
  let principal: Principal | null;
  try {
    principal = await authenticator.authenticate(request);
  } catch (error) {
    if (error instanceof HavenError && error.code === 'UNAUTHENTICATED') return undefined;
    throw error;
  }
  // Only a person's session token has a session id (a delegated token never does), and a
  // browser carries it as the cookie.
  return principal?.kind === 'user' &&
    principal.sessionId !== undefined &&
    principal.via === 'cookie'
    ? principal.subject
    : undefined;
}
