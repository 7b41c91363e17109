// Password reset routes (A10): asking for a link, and setting the new password with it. Both
// are public credential endpoints: they check the origin.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requestContext } from '../../../platform/http/request-context.js';
import { sendInBackground } from '../background-mail.js';
import type { IdentityDeps } from '../dependencies.js';
import { credentialRoutes } from '../route-access.js';
import { PasswordChanged, ResetCompletion, ResetRequest, ResetSent } from './schemas.js';
import { completePasswordReset, requestPasswordReset } from './service.js';

async function askForResetLink(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  email: string,
) {
  const mail = await requestPasswordReset(deps.context, email, requestContext(request));
  if (mail) sendInBackground(deps.context, request, mail);
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
    (request, reply) => askForResetLink(deps, request, reply, request.body.email),
  );

  typed.post(
    '/api/auth/password-reset/complete',
    credential({ body: ResetCompletion, response: { 200: PasswordChanged } }, 4096),
    (request) => resetPassword(deps, request, request.body),
  );
}
