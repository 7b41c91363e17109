// Sign-in routes: the password step, then the MFA step when the account has or needs a second
// factor. Both are public credential endpoints: they check the origin (login CSRF).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { IdentityDeps } from '../dependencies.js';
import { credentialRoutes } from '../route-access.js';
import { SignedIn } from '../shared/schemas.js';
import {
  MFA_PENDING_COOKIE,
  clearCookie,
  readCookie,
  setCookie,
} from '../sessions/browser-credentials.js';
import { startSession } from '../sessions/session-kit.js';
import { Credentials, SecondFactor, SignInAnswer } from './schemas.js';
import { MFA_PENDING_SECONDS, checkPassword, completeMfa } from './service.js';

async function signIn(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  credentials: Credentials,
) {
  const result = await checkPassword(
    deps.context,
    deps.services,
    credentials,
    requestContext(request),
  );
  if (result.kind === 'session') return startSession(deps, request, reply, result.user, result);
  setCookie(reply, MFA_PENDING_COOKIE, result.pendingToken, MFA_PENDING_SECONDS);
  return result.kind === 'mfa'
    ? { status: 'mfa_required' as const }
    : { status: 'mfa_enrollment_required' as const };
}

async function secondFactor(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  proof: SecondFactor,
) {
  if ((proof.code === undefined) === (proof.recoveryCode === undefined)) {
    throw new HavenError('VALIDATION_FAILED', 'Send either code or recoveryCode.');
  }
  const pending = readCookie(request, MFA_PENDING_COOKIE);
  const done = await completeMfa(
    deps.context,
    deps.services,
    pending,
    proof,
    requestContext(request),
  );
  clearCookie(reply, MFA_PENDING_COOKIE);
  return startSession(deps, request, reply, done.user, done);
}

export function registerSignInRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const credential = credentialRoutes(deps.context.settings.allowedOrigins);

  typed.post(
    '/api/auth/session',
    credential({ body: Credentials, response: { 200: SignInAnswer } }, 4096),
    (request, reply) => signIn(deps, request, reply, request.body),
  );

  typed.post(
    '/api/auth/mfa',
    credential({ body: SecondFactor, response: { 200: SignedIn } }),
    (request, reply) => secondFactor(deps, request, reply, request.body),
  );
}
