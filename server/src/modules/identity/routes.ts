// Identity HTTP routes: sign in (password, then MFA), refresh, sign out, and the caller's
// own sessions. Browsers get tokens only as __Host- cookies; the body carries the CSRF token.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { PUBLIC, requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import {
  ACCESS_COOKIE,
  MFA_PENDING_COOKIE,
  REFRESH_COOKIE,
  clearCookie,
  readCookie,
  setCookie,
} from './browser-credentials.js';
import {
  listUserSessions,
  revokeSession,
  revokeUserSessions,
  rotateRefreshToken,
} from './sessions.js';
import { EnrollmentRequired } from './onboarding-routes.js';
import { MFA_PENDING_SECONDS, checkPassword, completeMfa, type SignedInUser } from './sign-in.js';
import {
  SignedIn,
  UserView,
  createSessionKit,
  requireSameSite,
  type IdentityContext,
} from './session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';

const MfaRequired = Type.Object(
  { status: Type.Literal('mfa_required') },
  { additionalProperties: false },
);
const Empty = Type.Object({}, { additionalProperties: false });
const SessionView = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    current: Type.Boolean(),
    createdAt: Type.String({ maxLength: 40 }),
    lastSeenAt: Type.String({ maxLength: 40 }),
    userAgent: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
    clientAddress: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  },
  { additionalProperties: false },
);

export function registerIdentityRoutes(app: FastifyInstance, deps: IdentityContext): void {
  const { startSession, deliverSession, endSessions, refreshCookies } = createSessionKit(deps);

  app.post(
    '/api/auth/session',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      bodyLimit: 4096,
      schema: {
        body: Type.Object(
          {
            email: Type.String({ format: 'email', maxLength: 254 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Union([SignedIn, MfaRequired, EnrollmentRequired]) },
      },
    },
    async (request, reply) => {
      requireSameSite(request, deps.allowedOrigins);
      const { email, password } = request.body as { email: string; password: string };
      const result = await checkPassword(
        deps,
        email,
        password,
        deps.now(),
        requestContext(request),
      );
      if (result.kind === 'mfa') {
        setCookie(reply, MFA_PENDING_COOKIE, result.pendingToken, MFA_PENDING_SECONDS);
        return { status: 'mfa_required' as const };
      }
      if (result.kind === 'enroll') {
        setCookie(reply, MFA_PENDING_COOKIE, result.pendingToken, MFA_PENDING_SECONDS);
        return { status: 'mfa_enrollment_required' as const };
      }
      return startSession(request, reply, result.user, result.amr, result.mfaAt);
    },
  );

  app.post(
    '/api/auth/mfa',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      schema: {
        body: Type.Object(
          {
            code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$', maxLength: 6 })),
            recoveryCode: Type.Optional(Type.String({ minLength: 10, maxLength: 32 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SignedIn },
      },
    },
    async (request, reply) => {
      requireSameSite(request, deps.allowedOrigins);
      const body = request.body as { code?: string; recoveryCode?: string };
      if ((body.code === undefined) === (body.recoveryCode === undefined)) {
        throw new HavenError('VALIDATION_FAILED', 'Send either code or recoveryCode.');
      }
      const done = await completeMfa(
        deps,
        readCookie(request, MFA_PENDING_COOKIE),
        body,
        deps.now(),
        requestContext(request),
      );
      clearCookie(reply, MFA_PENDING_COOKIE);
      return startSession(request, reply, done.user, done.amr, done.mfaAt);
    },
  );

  // Every page load of the SPA may refresh, so refresh has its own class counted per session
  // (R1): people behind one address do not share it, and sign-in's strict per-address class
  // stays separate. A cookie without a session the server signed counts per address at the
  // auth limit (see rateSubject in platform/http/rate-limit.ts).
  app.post(
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
    async (request, reply) => {
      requireSameSite(request, deps.allowedOrigins);
      const presented = refreshCookies.decode(readCookie(request, REFRESH_COOKIE)).token;
      const outcome = presented
        ? await rotateRefreshToken(
            deps.db,
            presented,
            deps.lifetimes,
            deps.now(),
            requestContext(request),
          )
        : ({ ok: false, reason: 'unknown' } as const);
      const user = outcome.ok
        ? await deps.db
            .selectFrom('users')
            .select(['id', 'email', 'display_name', 'roles', 'status'])
            .where('id', '=', outcome.userId)
            .executeTakeFirst()
        : undefined;
      if (!outcome.ok || !user || user.status !== 'active') {
        if (outcome.ok) {
          await revokeSession(deps.db, outcome.session.sessionId, 'user_inactive', deps.now());
        }
        clearCookie(reply, ACCESS_COOKIE);
        clearCookie(reply, REFRESH_COOKIE);
        throw new HavenError('SESSION_EXPIRED');
      }
      const signedIn: SignedInUser = {
        id: user.id,
        email: user.email,
        displayName: user.display_name,
        roles: user.roles,
      };
      return deliverSession(
        reply,
        signedIn,
        outcome.session,
        outcome.amr,
        outcome.mfaAt,
        outcome.authTime,
      );
    },
  );

  app.delete(
    '/api/auth/session',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'sensitive' },
      schema: { response: { 200: Empty } },
    },
    async (request, reply) => {
      const { sessionId } = requirePrincipal(request);
      if (sessionId) {
        await endSessions(
          request,
          'auth.logout',
          'logout',
          async (trx) =>
            (await revokeSession(trx, sessionId, 'logout', deps.now())) ? [sessionId] : [],
          { type: 'session', id: sessionId },
        );
      }
      clearCookie(reply, ACCESS_COOKIE);
      clearCookie(reply, REFRESH_COOKIE);
      return {};
    },
  );

  app.get(
    '/api/auth/me',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'read' },
      schema: {
        response: {
          200: Type.Object(
            {
              user: UserView,
              csrfToken: Type.String({ maxLength: 64 }),
              scopes: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const user = await deps.db
        .selectFrom('users')
        .select(['id', 'email', 'display_name', 'roles'])
        .where('id', '=', principal.subject)
        .executeTakeFirst();
      if (!user || !principal.sessionId) throw new HavenError('UNAUTHENTICATED');
      return {
        user: { id: user.id, email: user.email, displayName: user.display_name, roles: user.roles },
        csrfToken: deps.csrf.forSession(principal.sessionId),
        scopes: [...principal.scopes].sort(),
      };
    },
  );

  app.get(
    '/api/account/sessions',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'read' },
      schema: {
        response: {
          200: Type.Object(
            { sessions: Type.Array(SessionView, { maxItems: 100 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const sessions = await listUserSessions(deps.db, principal.subject, deps.now());
      return {
        sessions: sessions.map((s) => ({
          id: s.id,
          current: s.id === principal.sessionId,
          createdAt: s.createdAt.toISOString(),
          lastSeenAt: s.lastSeenAt.toISOString(),
          userAgent: s.userAgent,
          clientAddress: s.clientAddress,
        })),
      };
    },
  );

  app.delete(
    '/api/account/sessions/:id',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      schema: {
        params: Type.Object(
          { id: Type.String({ format: 'uuid', maxLength: 36 }) },
          { additionalProperties: false },
        ),
        response: { 200: Empty },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { id } = request.params as { id: string };
      // Scoped to the caller: someone else's session id answers 404 like a missing one (Z4).
      const owned = await deps.db
        .selectFrom('sessions')
        .select('id')
        .where('id', '=', id)
        .where('user_id', '=', principal.subject)
        .executeTakeFirst();
      if (!owned) throw new HavenError('NOT_FOUND');
      await endSessions(
        request,
        'auth.session_revoked',
        'revoked_by_user',
        async (trx) => ((await revokeSession(trx, id, 'revoked_by_user', deps.now())) ? [id] : []),
        { type: 'session', id },
      );
      return {};
    },
  );

  app.delete(
    '/api/account/sessions',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      schema: {
        response: {
          200: Type.Object({ revoked: Type.Integer() }, { additionalProperties: false }),
        },
      },
    },
    async (request) => {
      const { subject, sessionId } = requirePrincipal(request);
      const revoked = await endSessions(
        request,
        'auth.other_sessions_revoked',
        'revoked_by_user',
        (trx) => revokeUserSessions(trx, subject, 'revoked_by_user', deps.now(), sessionId),
      );
      return { revoked };
    },
  );
}
