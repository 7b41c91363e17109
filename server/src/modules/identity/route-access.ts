// Who may call identity's routes, and in which rate class: the declarations its sub-domains
// share, so that, e.g., every credential endpoint is limited the same way.
import type { FastifyRequest, FastifySchema } from 'fastify';
import { PUBLIC, requireScopes } from '../../platform/http/route-contract.js';
import { requireSameSite } from './sessions/session-kit.js';

/**
 * Credential endpoints anyone may call (sign-in, second factor, reset, onboarding, the enrolment
 * of a pending sign-in): each call is a guess, so they share the strict 'auth' rate class.
 */
export const CREDENTIAL_ROUTE = { access: PUBLIC, rateClass: 'auth' } as const;

/**
 * Declares credential endpoints: `credentialRoutes(origins)(schema, bodyLimit?)` gives a
 * route's options, CREDENTIAL_ROUTE with the origin check (login CSRF) as its preHandler, after
 * validation and before the handler, so that no credential endpoint can go without it.
 */
export function credentialRoutes(allowedOrigins: ReadonlySet<string>) {
  const sameSiteOnly = async (request: FastifyRequest): Promise<void> => {
    requireSameSite(request, allowedOrigins);
  };
  return <const Schema extends FastifySchema>(schema: Schema, bodyLimit?: number) => ({
    config: CREDENTIAL_ROUTE,
    ...(bodyLimit !== undefined && { bodyLimit }),
    schema,
    preHandler: sameSiteOnly,
  });
}

/** Reading the caller's own account. */
export const ACCOUNT_READ = { access: requireScopes(['account:read']), rateClass: 'read' } as const;

/** A change to the caller's own account. */
export const ACCOUNT_CHANGE = {
  access: requireScopes(['account:write']),
  rateClass: 'sensitive',
} as const;

/** A change to the caller's own account that demands a second factor in the last 5 minutes. */
export const ACCOUNT_CHANGE_STEP_UP = {
  access: requireScopes(['account:write'], { stepUp: true }),
  rateClass: 'sensitive',
} as const;
