// The steps that start, deliver and end sessions, shared by sign-in, MFA, enrolment, invitation
// acceptance, refresh, step-up, password change and user administration. Browsers get tokens
// only as __Host- cookies; the answer carries the CSRF token.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { HavenError } from '../../../platform/errors.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { requestContext, type RequestContext } from '../../../platform/http/request-context.js';
import type { IdentityDeps } from '../dependencies.js';
import { ACCESS_TOKEN_LIFETIME_SECONDS, issueAccessToken } from '../keys/access-tokens.js';
import { scopesForRoles } from '../roles.js';
import type { SignedInAnswer } from '../shared/schemas.js';
import type { SignedInUser } from '../users.js';
import {
  ACCESS_COOKIE,
  REFRESH_COOKIE,
  isSameSiteRequest,
  setCookie,
} from './browser-credentials.js';
import { createSession, type IssuedSession } from './repo.js';

/** Login CSRF and refresh CSRF: credential-issuing requests must come from our own pages. */
export function requireSameSite(
  request: FastifyRequest,
  allowedOrigins: ReadonlySet<string>,
): void {
  if (!isSameSiteRequest(request, allowedOrigins)) throw new HavenError('CSRF_FAILED');
}

const seconds = (at: Date): number => Math.floor(at.getTime() / 1000);

/** Signs an access token for a session and sets it as the access cookie. */
export async function setAccessToken(
  { context, services }: IdentityDeps,
  reply: FastifyReply,
  grant: {
    user: Pick<SignedInUser, 'id' | 'roles'>;
    sessionId: string;
    amr: readonly string[];
    authTime: Date;
    mfaAt: Date | null;
  },
): Promise<{ expiresAt: number }> {
  const access = await issueAccessToken({
    keys: services.keys,
    issuer: context.settings.issuer,
    audience: context.settings.audience,
    subject: grant.user.id,
    sessionId: grant.sessionId,
    scopes: scopesForRoles(grant.user.roles),
    amr: grant.amr,
    authTime: seconds(grant.authTime),
    ...(grant.mfaAt ? { mfaAt: seconds(grant.mfaAt) } : {}),
    now: () => context.now().getTime(),
  });
  setCookie(reply, ACCESS_COOKIE, access.token, ACCESS_TOKEN_LIFETIME_SECONDS);
  return { expiresAt: access.expiresAt };
}

/** The signed-in answer: who, the session's CSRF token, and when its tokens run out. */
export function signedInAnswer(
  deps: IdentityDeps,
  user: SignedInUser,
  session: { sessionId: string; idleExpiresAt: Date; absoluteExpiresAt: Date },
  accessExpiresAt: number,
): SignedInAnswer {
  return {
    status: 'signed_in',
    user: { id: user.id, email: user.email, displayName: user.displayName, roles: user.roles },
    csrfToken: deps.services.csrf.forSession(session.sessionId),
    accessExpiresAt,
    idleExpiresAt: session.idleExpiresAt.toISOString(),
    absoluteExpiresAt: session.absoluteExpiresAt.toISOString(),
  };
}

/** Sets the access and refresh cookies of a session and answers signed-in. */
export async function deliverSession(
  deps: IdentityDeps,
  reply: FastifyReply,
  user: SignedInUser,
  session: IssuedSession,
  proof: { amr: string[]; mfaAt: Date | null; authTime: Date },
): Promise<SignedInAnswer> {
  const access = await setAccessToken(deps, reply, {
    user,
    sessionId: session.sessionId,
    ...proof,
  });
  const refreshSeconds = Math.max(
    1,
    Math.floor((session.absoluteExpiresAt.getTime() - deps.context.now().getTime()) / 1000),
  );
  setCookie(
    reply,
    REFRESH_COOKIE,
    deps.services.refreshCookies.encode(session.sessionId, session.refreshToken),
    refreshSeconds,
  );
  return signedInAnswer(deps, user, session, access.expiresAt);
}

/** Creates a session (audited in the same transaction) and delivers it. */
export async function startSession(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  user: SignedInUser,
  proof: { amr: string[]; mfaAt: Date | null },
): Promise<SignedInAnswer> {
  const { context } = deps;
  const now = context.now();
  const session = await context.db.transaction().execute(async (trx) => {
    const issued = await createSession(
      trx,
      {
        userId: user.id,
        amr: proof.amr,
        mfaAt: proof.mfaAt,
        userAgent: request.headers['user-agent'] ?? null,
        clientAddress: request.ip,
      },
      context.settings.lifetimes,
      now,
    );
    await recordUserEvent(trx, user.id, requestContext(request), {
      action: 'auth.session_created',
      target: { type: 'session', id: issued.sessionId },
      details: { amr: proof.amr.join(' ') },
    });
    return issued;
  });
  return deliverSession(deps, reply, user, session, { ...proof, authTime: now });
}

/** Who ends sessions, and how the audit event names it. */
export interface SessionEnding extends RequestContext {
  readonly actorId: string;
  readonly action: string;
  readonly reason: string;
  readonly target?: { type: string; id: string };
}

/**
 * Ends sessions with their audit event in one transaction, then marks them revoked on this
 * node at once (other nodes pick them up from the database within a second). `revoke` may
 * change more in the same transaction (a password change stores the new hash there).
 */
export async function endSessions(
  { context, services }: IdentityDeps,
  ending: SessionEnding,
  revoke: (trx: Kysely<DatabaseSchema>) => Promise<string[]>,
): Promise<number> {
  const ended = await context.db.transaction().execute(async (trx) => {
    const ids = await revoke(trx);
    await recordUserEvent(trx, ending.actorId, ending, {
      action: ending.action,
      ...(ending.target ? { target: ending.target } : {}),
      details: { count: ids.length, reason: ending.reason },
    });
    return ids;
  });
  for (const id of ended) services.revocations.markRevoked(id);
  return ended.length;
}
