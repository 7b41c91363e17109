// The signed-in user's own account: profile, email address, password and sessions. Sensitive
// changes are marked stepUp in their declaration, so the access hook refuses them without an
// MFA check in the last 5 minutes before any handler runs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HavenError } from '../../../platform/errors.js';
import { requirePrincipal } from '../../../platform/auth/access.js';
import { requireScopes } from '../../../platform/http/route-contract.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { sendInBackground } from '../background-mail.js';
import type { IdentityDeps } from '../dependencies.js';
import { ACCOUNT_CHANGE, ACCOUNT_CHANGE_STEP_UP, ACCOUNT_READ } from '../route-access.js';
import { Empty, VerificationSent } from '../shared/schemas.js';
import {
  findOwnSession,
  listUserSessions,
  revokeSession,
  revokeUserSessions,
} from '../sessions/repo.js';
import { endSessions } from '../sessions/session-kit.js';
import { changePassword } from './password-service.js';
import {
  EmailChange,
  EmailConfirmation,
  PasswordChange,
  PasswordChanged,
  ProfileChange,
  Revoked,
  SessionList,
  SessionParams,
  UserAnswer,
} from './schemas.js';
import { confirmEmailChange, requestEmailChange, updateProfile } from './service.js';

async function askForEmailChange(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  newEmail: string,
) {
  const { subject } = requirePrincipal(request);
  const mail = await requestEmailChange(deps.context, subject, newEmail, requestContext(request));
  for (const message of mail) sendInBackground(deps.context, request, message);
  reply.code(202);
  return { status: 'verification_sent' as const };
}

async function confirmEmail(deps: IdentityDeps, request: FastifyRequest, token: string) {
  const { subject } = requirePrincipal(request);
  const changed = await confirmEmailChange(deps.context, subject, token, requestContext(request));
  sendInBackground(deps.context, request, changed.notice);
  return { user: changed.user };
}

async function changeOwnPassword(
  deps: IdentityDeps,
  request: FastifyRequest,
  body: PasswordChange,
) {
  const { subject, sessionId } = requirePrincipal(request);
  const caller = { userId: subject, sessionId };
  const changed = await changePassword(deps, caller, body, requestContext(request));
  sendInBackground(deps.context, request, changed.notice);
  return { revokedSessions: changed.revokedSessions };
}

async function ownSessions(deps: IdentityDeps, request: FastifyRequest) {
  const principal = requirePrincipal(request);
  const sessions = await listUserSessions(deps.context.db, principal.subject, deps.context.now());
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
}

async function revokeOwnSession(deps: IdentityDeps, request: FastifyRequest, id: string) {
  const { subject } = requirePrincipal(request);
  // Scoped to the caller: someone else's session id answers 404 like a missing one (Z4).
  if (!(await findOwnSession(deps.context.db, subject, id))) throw new HavenError('NOT_FOUND');
  const ending = {
    actorId: subject,
    action: 'auth.session_revoked',
    reason: 'revoked_by_user',
    target: { type: 'session', id },
    ...requestContext(request),
  };
  await endSessions(deps, ending, async (trx) =>
    (await revokeSession(trx, id, 'revoked_by_user', deps.context.now())) ? [id] : [],
  );
  return {};
}

async function revokeOtherSessions(deps: IdentityDeps, request: FastifyRequest) {
  const { subject, sessionId } = requirePrincipal(request);
  const ending = {
    actorId: subject,
    action: 'auth.other_sessions_revoked',
    reason: 'revoked_by_user',
    ...requestContext(request),
  };
  const revoked = await endSessions(deps, ending, (trx) =>
    revokeUserSessions(trx, subject, 'revoked_by_user', deps.context.now(), sessionId),
  );
  return { revoked };
}

export function registerAccountRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.patch(
    '/api/account/profile',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'write' },
      schema: { body: ProfileChange, response: { 200: UserAnswer } },
    },
    async (request) => {
      const { subject } = requirePrincipal(request);
      const audit = requestContext(request);
      return { user: await updateProfile(deps.context, subject, request.body.displayName, audit) };
    },
  );
  typed.post(
    '/api/account/email',
    {
      config: ACCOUNT_CHANGE_STEP_UP,
      bodyLimit: 2048,
      schema: { body: EmailChange, response: { 202: VerificationSent } },
    },
    (request, reply) => askForEmailChange(deps, request, reply, request.body.newEmail),
  );
  typed.post(
    '/api/account/email/confirm',
    { config: ACCOUNT_CHANGE, schema: { body: EmailConfirmation, response: { 200: UserAnswer } } },
    (request) => confirmEmail(deps, request, request.body.token),
  );
  typed.post(
    '/api/account/password',
    {
      // 'auth': each call costs an argon2 verify and is a password guess.
      config: { access: requireScopes(['account:write']), rateClass: 'auth' },
      bodyLimit: 4096,
      schema: { body: PasswordChange, response: { 200: PasswordChanged } },
    },
    (request) => changeOwnPassword(deps, request, request.body),
  );
  typed.get(
    '/api/account/sessions',
    { config: ACCOUNT_READ, schema: { response: { 200: SessionList } } },
    (request) => ownSessions(deps, request),
  );
  typed.delete(
    '/api/account/sessions/:id',
    { config: ACCOUNT_CHANGE, schema: { params: SessionParams, response: { 200: Empty } } },
    (request) => revokeOwnSession(deps, request, request.params.id),
  );
  typed.delete(
    '/api/account/sessions',
    { config: ACCOUNT_CHANGE, schema: { response: { 200: Revoked } } },
    (request) => revokeOtherSessions(deps, request),
  );
}
