// Password reset routes (A10): asking for a link, and setting the new password with it. Both
// are public credential endpoints: they check the origin.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requestContext } from '../../../platform/http/request-context.js';
import type { IdentityDeps } from '../dependencies.js';
import { credentialRoutes } from '../route-access.js';
import { PasswordChanged, ResetCompletion, ResetRequest, ResetSent } from './schemas.js';
import { recordResetRequest, runResetRequestNow } from './reset-requests.js';
import { completePasswordReset } from './service.js';

/**
 * Records the request and answers 202; the email is looked up only once the answer has gone
 * (A10, A3): a known account's link is stored (two more writes) and an unknown one's is not, so
 * doing that work before answering made the answer measurably slower for an email that has an
 * account. The record is the same single INSERT for every email (reset-requests.ts says why it
 * exists: an acknowledged request is not lost to an outage, a crash or a restart).
 */
async function askForResetLink(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  email: string,
) {
  const jobId = await recordResetRequest(deps.context, email, requestContext(request));
  const log = deps.context.log.child({ reqId: request.id });
  reply.raw.once('close', () => runResetRequestNow(deps.context, jobId, log));
  reply.code(202);
  return { status: 'sent' as const };
}

async function resetPassword(deps: IdentityDeps, request: FastifyRequest, input: ResetCompletion) {
  await completePasswordReset(deps.context, deps.services, input, requestContext(request));
  return { status: 'password_changed' as const };
}

export function registerPasswordResetRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const credential = credentialRoutes(deps.context.settings.allowedOrigins);

  typed.post(
    '/api/auth/password-reset',
    credential({ body: ResetRequest, response: { 202: ResetSent } }, 2048),
    async (request, reply) => askForResetLink(deps, request, reply, request.body.email),
  );

  typed.post(
    '/api/auth/password-reset/complete',
    credential({ body: ResetCompletion, response: { 200: PasswordChanged } }, 4096),
    (request) => resetPassword(deps, request, request.body),
  );
}
