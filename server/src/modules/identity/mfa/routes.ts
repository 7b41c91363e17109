// MFA routes (A9): enrolment after onboarding or sign-in (a pending cookie, no session yet) and
// from a signed-in session; step-up; the account's MFA settings. Sensitive changes are marked
// stepUp in their declaration, so the access hook refuses them without an MFA check in the
// last 5 minutes before any handler runs.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HavenError } from '../../../platform/errors.js';
import { requirePrincipal } from '../../../platform/auth/access.js';
import { requireScopes } from '../../../platform/http/route-contract.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { IdentityDeps } from '../dependencies.js';
import {
  ACCOUNT_CHANGE,
  ACCOUNT_CHANGE_STEP_UP,
  ACCOUNT_READ,
  credentialRoutes,
} from '../route-access.js';
import { Empty, SignedIn } from '../shared/schemas.js';
import { MFA_PENDING_COOKIE, clearCookie, readCookie } from '../sessions/browser-credentials.js';
import { setAccessToken, signedInAnswer, startSession } from '../sessions/session-kit.js';
import {
  countEnrollmentAttempt,
  finishEnrollment,
  pendingEnrolleeId,
  proveCode,
  startEnrollment,
} from './enrollment-service.js';
import {
  CodeBody,
  EnrolledCodes,
  EnrollmentSecret,
  MfaStatus,
  RegeneratedCodes,
  SignedInWithCodes,
} from './schemas.js';
import { disableMfa, mfaStatus, regenerateRecoveryCodes, stepUp } from './service.js';

async function startPendingEnrollment(deps: IdentityDeps, request: FastifyRequest) {
  const pending = readCookie(request, MFA_PENDING_COOKIE);
  const userId = await pendingEnrolleeId(deps.context, pending);
  return startEnrollment(deps.context, deps.services.ring, userId, requestContext(request));
}

/** Confirms enrolment from a pending state: the account becomes active and signs in. */
async function confirmPendingEnrollment(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  { code }: CodeBody,
) {
  const { context, services } = deps;
  const audit = requestContext(request);
  const pending = await countEnrollmentAttempt(context, readCookie(request, MFA_PENDING_COOKIE));
  await proveCode(context, services.ring, pending.userId, code, audit);
  const { user, recoveryCodes } = await finishEnrollment(
    context,
    pending.userId,
    pending.id,
    audit,
  );
  clearCookie(reply, MFA_PENDING_COOKIE);
  const proof = { amr: ['pwd', 'otp'], mfaAt: context.now() };
  const signedIn = await startSession(deps, request, reply, user, proof);
  return { ...signedIn, recoveryCodes };
}

async function confirmAccountEnrollment(
  deps: IdentityDeps,
  request: FastifyRequest,
  { code }: CodeBody,
) {
  const { subject } = requirePrincipal(request);
  const audit = requestContext(request);
  await proveCode(deps.context, deps.services.ring, subject, code, audit);
  const { recoveryCodes } = await finishEnrollment(deps.context, subject, undefined, audit);
  return { recoveryCodes };
}

/** A fresh MFA check: only the access token changes (refresh and CSRF tokens stay). */
async function stepUpSession(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  { code }: CodeBody,
) {
  const { subject, sessionId } = requirePrincipal(request);
  // The access hook already refuses tokens of no session here (step-up serves people only, Z2).
  if (!sessionId) throw new HavenError('FORBIDDEN', 'Step-up needs a user session.');
  const caller = { userId: subject, sessionId, code };
  const done = await stepUp(deps.context, deps.services.ring, caller, requestContext(request));
  const access = await setAccessToken(deps, reply, {
    user: done.user,
    sessionId,
    amr: done.session.amr,
    authTime: done.session.created_at,
    mfaAt: done.mfaAt,
  });
  const session = {
    sessionId,
    idleExpiresAt: done.session.idle_expires_at,
    absoluteExpiresAt: done.session.absolute_expires_at,
  };
  return signedInAnswer(deps, done.user, session, access.expiresAt);
}

export function registerMfaRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { context, services } = deps;
  const credential = credentialRoutes(context.settings.allowedOrigins);

  typed.post(
    '/api/auth/mfa/enrollment',
    credential({ body: Empty, response: { 200: EnrollmentSecret } }),
    (request) => startPendingEnrollment(deps, request),
  );
  typed.post(
    '/api/auth/mfa/enrollment/confirm',
    credential({ body: CodeBody, response: { 200: SignedInWithCodes } }),
    (request, reply) => confirmPendingEnrollment(deps, request, reply, request.body),
  );
  typed.post(
    '/api/account/mfa/enrollment',
    { config: ACCOUNT_CHANGE, schema: { body: Empty, response: { 200: EnrollmentSecret } } },
    (request) =>
      startEnrollment(
        context,
        services.ring,
        requirePrincipal(request).subject,
        requestContext(request),
      ),
  );
  typed.post(
    '/api/account/mfa/enrollment/confirm',
    { config: ACCOUNT_CHANGE, schema: { body: CodeBody, response: { 200: EnrolledCodes } } },
    (request) => confirmAccountEnrollment(deps, request, request.body),
  );
  typed.post(
    '/api/auth/step-up',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'auth' },
      schema: { body: CodeBody, response: { 200: SignedIn } },
    },
    (request, reply) => stepUpSession(deps, request, reply, request.body),
  );
  typed.get(
    '/api/account/mfa',
    { config: ACCOUNT_READ, schema: { response: { 200: MfaStatus } } },
    (request) => mfaStatus(context, requirePrincipal(request).subject),
  );
  typed.post(
    '/api/account/mfa/recovery-codes',
    {
      config: ACCOUNT_CHANGE_STEP_UP,
      schema: { body: Empty, response: { 200: RegeneratedCodes } },
    },
    async (request) => ({
      recoveryCodes: await regenerateRecoveryCodes(
        context,
        requirePrincipal(request).subject,
        requestContext(request),
      ),
    }),
  );
  typed.delete(
    '/api/account/mfa',
    { config: ACCOUNT_CHANGE_STEP_UP, schema: { response: { 200: Empty } } },
    async (request) => {
      await disableMfa(context, requirePrincipal(request).subject, requestContext(request));
      return {};
    },
  );
}
