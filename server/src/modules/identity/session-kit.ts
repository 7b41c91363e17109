// What every identity route file shares: the dependencies (IdentityContext), the response
// schemas of a signed-in answer, and the steps that start, deliver and end sessions.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { HavenConfig } from '../../config.js';
import { HavenError } from '../../platform/errors.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { recordAudit } from '../../platform/audit/audit.js';
import type { Mailer } from '../../platform/mail.js';
import { requestContext } from '../../platform/http/request-context.js';
import {
  ACCESS_COOKIE,
  REFRESH_COOKIE,
  createRefreshCookies,
  isSameSiteRequest,
  setCookie,
  type CsrfTokens,
} from './browser-credentials.js';
import type { PasswordPolicy } from './passwords.js';
import type { RevocationCache } from './revocation.js';
import { scopesForRoles } from './roles.js';
import { createSession, type IssuedSession, type SessionLifetimes } from './sessions.js';
import type { SignInDependencies, SignedInUser } from './sign-in.js';
import { issueAccessToken, type SigningKeyStore } from './signing-keys.js';

export interface IdentityContext extends SignInDependencies {
  readonly config: HavenConfig;
  readonly keys: SigningKeyStore;
  readonly csrf: CsrfTokens;
  readonly revocations: RevocationCache;
  readonly lifetimes: SessionLifetimes;
  readonly issuer: string;
  readonly audience: string;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly passwordPolicy: PasswordPolicy;
  readonly mailer: Mailer;
  readonly now: () => Date;
}

export const UserView = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    email: Type.String({ maxLength: 254 }),
    displayName: Type.String({ maxLength: 100 }),
    roles: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 5 }),
  },
  { additionalProperties: false },
);
export const SignedIn = Type.Object(
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

/** Login CSRF and refresh CSRF: credential-issuing requests must come from our own pages. */
export function requireSameSite(
  request: FastifyRequest,
  allowedOrigins: ReadonlySet<string>,
): void {
  if (!isSameSiteRequest(request, allowedOrigins)) throw new HavenError('CSRF_FAILED');
}

/** Session steps shared by sign-in, MFA, enrolment and invitation acceptance. */
export function createSessionKit(deps: IdentityContext) {
  const refreshCookies = createRefreshCookies(deps.config.masterKey);

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
    setCookie(
      reply,
      REFRESH_COOKIE,
      refreshCookies.encode(session.sessionId, session.refreshToken),
      refreshSeconds,
    );
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

  return { startSession, deliverSession, endSessions, refreshCookies };
}
