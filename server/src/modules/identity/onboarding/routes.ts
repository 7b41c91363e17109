// Onboarding routes: first-admin setup, invitation inspect/accept, self sign-up and its
// verification. All are public credential endpoints: they check the origin (login CSRF).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requestContext } from '../../../platform/http/request-context.js';
import type { IdentityDeps } from '../dependencies.js';
import { CREDENTIAL_ROUTE } from '../route-access.js';
import { EnrollmentRequired, VerificationSent } from '../schemas.js';
import { MFA_PENDING_COOKIE, setCookie } from '../sessions/browser-credentials.js';
import { requireSameSite, startSession } from '../sessions/session-kit.js';
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

async function setUpFirstAdmin(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  input: SetupBody,
) {
  requireSameSite(request, deps.context.settings.allowedOrigins);
  const { context, services } = deps;
  const { pendingToken } = await setupFirstAdmin(context, services, input, requestContext(request));
  return enrollmentRequired(reply, pendingToken);
}

async function acceptInvitationLink(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  input: AcceptBody,
) {
  requireSameSite(request, deps.context.settings.allowedOrigins);
  const { context, services } = deps;
  const result = await acceptInvitation(context, services, input, requestContext(request));
  if (result.kind === 'enroll') return enrollmentRequired(reply, result.pendingToken);
  return startSession(deps, request, reply, result.user, { amr: ['pwd'], mfaAt: null });
}

async function signUpPatient(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  input: SignupBody,
) {
  requireSameSite(request, deps.context.settings.allowedOrigins);
  await signUp(deps.context, deps.services, input, requestContext(request));
  return reply.code(202).send({ status: 'verification_sent' as const });
}

export function registerOnboardingRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { context } = deps;
  const sameSite = (request: FastifyRequest) =>
    requireSameSite(request, context.settings.allowedOrigins);

  typed.post(
    '/api/onboarding/setup',
    {
      config: CREDENTIAL_ROUTE,
      bodyLimit: 4096,
      schema: { body: SetupBody, response: { 200: EnrollmentRequired } },
    },
    (request, reply) => setUpFirstAdmin(deps, request, reply, request.body),
  );

  typed.post(
    '/api/onboarding/invitations/inspect',
    { config: CREDENTIAL_ROUTE, schema: { body: TokenBody, response: { 200: InvitationAnswer } } },
    async (request) => {
      sameSite(request);
      return inspectInvitation(context, request.body.token);
    },
  );

  typed.post(
    '/api/onboarding/invitations/accept',
    {
      config: CREDENTIAL_ROUTE,
      bodyLimit: 4096,
      schema: { body: AcceptBody, response: { 200: AcceptAnswer } },
    },
    (request, reply) => acceptInvitationLink(deps, request, reply, request.body),
  );

  // Off by default: unregistered routes answer 404 like any unknown path, before origin or
  // body checks, and the route table (self-audit) shows no public sign-up at all.
  if (!context.settings.selfSignup) return;

  typed.post(
    '/api/onboarding/signup',
    {
      config: CREDENTIAL_ROUTE,
      bodyLimit: 4096,
      schema: { body: SignupBody, response: { 202: VerificationSent } },
    },
    (request, reply) => signUpPatient(deps, request, reply, request.body),
  );

  typed.post(
    '/api/onboarding/signup/verify',
    { config: CREDENTIAL_ROUTE, schema: { body: TokenBody, response: { 200: Verified } } },
    async (request) => {
      sameSite(request);
      await verifySignup(context, request.body.token, requestContext(request));
      return { status: 'verified' as const };
    },
  );
}
