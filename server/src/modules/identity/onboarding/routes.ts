// Onboarding routes: first-admin setup, invitation inspect/accept, self sign-up and its
// verification. All are public credential endpoints: they check the origin (login CSRF).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requestContext } from '../../../platform/http/request-context.js';
import type { IdentityDeps } from '../dependencies.js';
import { credentialRoutes } from '../route-access.js';
import { EnrollmentRequired, VerificationSent } from '../shared/schemas.js';
import { MFA_PENDING_COOKIE, setCookie } from '../sessions/browser-credentials.js';
import { startSession } from '../sessions/session-kit.js';
import {
  AcceptAnswer,
  AcceptBody,
  InvitationAnswer,
  SetupBody,
  SignupBody,
  TokenBody,
  Verified,
} from './schemas.js';
import { ENROLLMENT_PENDING_SECONDS, acceptInvitation, inspectInvitation } from './service.js';
import { setupFirstAdmin } from './setup-link-service.js';
import { signUp, verifySignup } from './signup-service.js';

/** No session yet: the pending cookie opens the MFA enrolment routes. */
function enrollmentRequired(reply: FastifyReply, pendingToken: string) {
  setCookie(reply, MFA_PENDING_COOKIE, pendingToken, ENROLLMENT_PENDING_SECONDS);
  return { status: 'mfa_enrollment_required' as const };
}

export function registerOnboardingRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { context, services } = deps;
  const credential = credentialRoutes(context.settings.allowedOrigins);

  typed.post(
    '/api/onboarding/setup',
    credential({ body: SetupBody, response: { 200: EnrollmentRequired } }, 4096),
    async (request, reply) => {
      const audit = requestContext(request);
      const { pendingToken } = await setupFirstAdmin(context, services, request.body, audit);
      return enrollmentRequired(reply, pendingToken);
    },
  );

  typed.post(
    '/api/onboarding/invitations/inspect',
    credential({ body: TokenBody, response: { 200: InvitationAnswer } }),
    (request) => inspectInvitation(context, request.body.token),
  );

  typed.post(
    '/api/onboarding/invitations/accept',
    credential({ body: AcceptBody, response: { 200: AcceptAnswer } }, 4096),
    async (request, reply) => {
      const audit = requestContext(request);
      const result = await acceptInvitation(context, services, request.body, audit);
      if (result.kind === 'enroll') return enrollmentRequired(reply, result.pendingToken);
      return startSession(deps, request, reply, result.user, { amr: ['pwd'], mfaAt: null });
    },
  );

  // Off by default: unregistered routes answer 404 like any unknown path, before origin or
  // body checks, and the route table (self-audit) shows no public sign-up at all.
  if (!context.settings.selfSignup) return;

  typed.post(
    '/api/onboarding/signup',
    credential({ body: SignupBody, response: { 202: VerificationSent } }, 4096),
    async (request, reply) => {
      await signUp(context, services, request.body, requestContext(request));
      return reply.code(202).send({ status: 'verification_sent' as const });
    },
  );

  typed.post(
    '/api/onboarding/signup/verify',
    credential({ body: TokenBody, response: { 200: Verified } }),
    async (request) => {
      await verifySignup(context, request.body.token, requestContext(request));
      return { status: 'verified' as const };
    },
  );
}
