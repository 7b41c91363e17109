// Session routes: refresh (rotating the refresh token), sign-out, and who the caller is.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HavenError } from '../../../platform/errors.js';
import { requirePrincipal } from '../../../platform/auth/access.js';
import { PUBLIC, requireScopes } from '../../../platform/http/route-contract.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { IdentityDeps } from '../dependencies.js';
import { ACCOUNT_READ } from '../route-access.js';
import { Empty, SignedIn } from '../shared/schemas.js';
import { toSignedInUser } from '../users.js';
import { ACCESS_COOKIE, REFRESH_COOKIE, clearCookie, readCookie } from './browser-credentials.js';
import { findSignedInUser, revokeSession } from './repo.js';
import { MeAnswer } from './schemas.js';
import { renewSession } from './service.js';
import { deliverSession, endSessions, requireSameSite } from './session-kit.js';

function clearSessionCookies(reply: FastifyReply): void {
  clearCookie(reply, ACCESS_COOKIE);
  clearCookie(reply, REFRESH_COOKIE);
}

async function refresh(deps: IdentityDeps, request: FastifyRequest, reply: FastifyReply) {
  requireSameSite(request, deps.context.settings.allowedOrigins);
  const presented = deps.services.refreshCookies.decode(readCookie(request, REFRESH_COOKIE));
  const renewed = await renewSession(deps.context, presented.token, requestContext(request));
  if (!renewed) {
    clearSessionCookies(reply);
    throw new HavenError('SESSION_EXPIRED');
  }
  return deliverSession(deps, reply, renewed.user, renewed.session, renewed);
}

async function signOut(deps: IdentityDeps, request: FastifyRequest, reply: FastifyReply) {
  const { subject, sessionId } = requirePrincipal(request);
  if (sessionId) {
    const ending = {
      actorId: subject,
      action: 'auth.logout',
      reason: 'logout',
      target: { type: 'session', id: sessionId },
      ...requestContext(request),
    };
    await endSessions(deps, ending, async (trx) =>
      (await revokeSession(trx, sessionId, 'logout', deps.context.now())) ? [sessionId] : [],
    );
  }
  clearSessionCookies(reply);
  return {};
}

async function whoAmI(deps: IdentityDeps, request: FastifyRequest) {
  const principal = requirePrincipal(request);
  const user = await findSignedInUser(deps.context.db, principal.subject);
  if (!user || !principal.sessionId) throw new HavenError('UNAUTHENTICATED');
  return {
    user: toSignedInUser(user),
    csrfToken: deps.services.csrf.forSession(principal.sessionId),
    scopes: [...principal.scopes].sort(),
  };
}

export function registerSessionRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { refreshCookies } = deps.services;

  // Every page load of the SPA may refresh, so refresh has its own class counted per session
  // (R1): people behind one address do not share it, and sign-in's strict per-address class
  // stays separate. A cookie without a session the server signed counts per address at the
  // auth limit (see rateSubject in platform/http/rate-limit.ts).
  typed.post(
    '/api/auth/refresh',
    {
      config: {
        access: PUBLIC,
        rateClass: 'refresh',
        rateSubject: (request) =>
          refreshCookies.decode(readCookie(request, REFRESH_COOKIE)).sessionId,
      },
      schema: { body: Empty, response: { 200: SignedIn } },
    },
    (request, reply) => refresh(deps, request, reply),
  );

  typed.delete(
    '/api/auth/session',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'sensitive' },
      schema: { response: { 200: Empty } },
    },
    (request, reply) => signOut(deps, request, reply),
  );

  typed.get(
    '/api/auth/me',
    { config: ACCOUNT_READ, schema: { response: { 200: MeAnswer } } },
    (request) => whoAmI(deps, request),
  );
}
