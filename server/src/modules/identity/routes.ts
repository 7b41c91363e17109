// Identity HTTP routes: sign in (password, then MFA), refresh, sign out, and the caller's
// own sessions. Browsers get tokens only as __Host- cookies; the body carries the CSRF token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { PUBLIC, requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { recordAudit } from '../../platform/audit/audit.js';
import {
  ACCESS_COOKIE,
  MFA_PENDING_COOKIE,
  REFRESH_COOKIE,
  clearCookie,
  isSameSiteRequest,
  readCookie,
  setCookie,
  type CsrfTokens,
} from './browser-credentials.js';
import { issueAccessToken, type SigningKeyStore } from './signing-keys.js';
import {
  createSession,
  listUserSessions,
  revokeSession,
  revokeUserSessions,
  rotateRefreshToken,
  type IssuedSession,
  type SessionLifetimes,
} from './sessions.js';
import {
  MFA_PENDING_SECONDS,
  checkPassword,
  completeMfa,
  type SignInDependencies,
  type SignedInUser,
} from './sign-in.js';
import { scopesForRoles } from './roles.js';
import type { RevocationCache } from './revocation.js';

export interface IdentityRouteDependencies extends SignInDependencies {
  readonly keys: SigningKeyStore;
  readonly csrf: CsrfTokens;
  readonly revocations: RevocationCache;
  readonly lifetimes: SessionLifetimes;
  readonly issuer: string;
  readonly audience: string;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly now: () => Date;
}

const UserView = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    email: Type.String({ maxLength: 254 }),
    displayName: Type.String({ maxLength: 100 }),
    roles: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 5 }),
  },
  { additionalProperties: false },
);
const SignedIn = Type.Object(
  {
    status: Type.Literal('signed_in'),
    user: UserView,
    csrfToken: Type.String({ maxLength: 64 }),
    accessExpiresAt: Type.Integer(),
    idleExpiresAt: Type.String({ maxLength: 40 }),
    absoluteExpiresAt: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);
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

function requestContext(request: FastifyRequest): { requestId: string; clientAddress: string } {
  return { requestId: request.id, clientAddress: request.ip };
}

/** Login CSRF and refresh CSRF: credential-issuing requests must come from our own pages. */
function requireSameSite(request: FastifyRequest, allowedOrigins: ReadonlySet<string>): void {
  if (!isSameSiteRequest(request, allowedOrigins)) throw new HavenError('CSRF_FAILED');
}

export function registerIdentityRoutes(
  app: FastifyInstance,
  deps: IdentityRouteDependencies,
): void {
  async function deliverSession(
    reply: FastifyReply,
    user: SignedInUser,
    session: IssuedSession,
    amr: string[],
    mfaAt: Date | null,
    authTime: Date,
  ) {
    const access = await issueAccessToken({
      keys: deps.keys,
      issuer: deps.issuer,
      audience: deps.audience,
      subject: user.id,
      sessionId: session.sessionId,
      scopes: scopesForRoles(user.roles),
      amr,
      authTime: Math.floor(authTime.getTime() / 1000),
      ...(mfaAt ? { mfaAt: Math.floor(mfaAt.getTime() / 1000) } : {}),
      now: () => deps.now().getTime(),
    });
    const refreshSeconds = Math.max(
      1,
      Math.floor((session.absoluteExpiresAt.getTime() - deps.now().getTime()) / 1000),
    );
    setCookie(reply, ACCESS_COOKIE, access.token, 300);
    setCookie(reply, REFRESH_COOKIE, session.refreshToken, refreshSeconds);
    return {
      status: 'signed_in' as const,
      user: { id: user.id, email: user.email, displayName: user.displayName, roles: user.roles },
      csrfToken: deps.csrf.forSession(session.sessionId),
      accessExpiresAt: access.expiresAt,
      idleExpiresAt: session.idleExpiresAt.toISOString(),
      absoluteExpiresAt: session.absoluteExpiresAt.toISOString(),
    };
  }

  async function startSession(
    request: FastifyRequest,
    reply: FastifyReply,
    user: SignedInUser,
    amr: string[],
    mfaAt: Date | null,
  ) {
    const now = deps.now();
    const session = await deps.db.transaction().execute(async (trx) => {
      const issued = await createSession(
        trx,
        {
          userId: user.id,
          amr,
          mfaAt,
          userAgent: request.headers['user-agent'] ?? null,
          clientAddress: request.ip,
        },
        deps.lifetimes,
        now,
      );
      await recordAudit(trx, {
        actor: { type: 'user', id: user.id },
        action: 'auth.session_created',
        target: { type: 'session', id: issued.sessionId },
        outcome: 'success',
        details: { amr: amr.join(' ') },
        ...requestContext(request),
      });
      return issued;
    });
    return deliverSession(reply, user, session, amr, mfaAt, now);
  }

  /**
   * Ends sessions with their audit event in one transaction, then marks them revoked on this
   * node at once (other nodes pick them up from the database within a second).
   */
  async function endSessions(
    request: FastifyRequest,
    action: string,
    reason: string,
    revoke: (trx: typeof deps.db) => Promise<string[]>,
    target?: { type: string; id: string },
  ): Promise<number> {
    const principal = requirePrincipal(request);
    const ended = await deps.db.transaction().execute(async (trx) => {
      const ids = await revoke(trx);
      await recordAudit(trx, {
        actor: { type: 'user', id: principal.subject },
        action,
        ...(target ? { target } : {}),
        outcome: 'success',
        details: { count: ids.length, reason },
        ...requestContext(request),
      });
      return ids;
    });
    for (const id of ended) deps.revocations.markRevoked(id);
    return ended.length;
  }

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
        response: { 200: Type.Union([SignedIn, MfaRequired]) },
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

  app.post(
    '/api/auth/refresh',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      schema: { body: Empty, response: { 200: SignedIn } },
    },
    async (request, reply) => {
      requireSameSite(request, deps.allowedOrigins);
      const presented = readCookie(request, REFRESH_COOKIE);
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
