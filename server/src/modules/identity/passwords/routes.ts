// Password reset routes (A10): asking for a link, and setting the new password with it. Both
// are public credential endpoints: they check the origin.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requestContext, type RequestContext } from '../../../platform/http/request-context.js';
import { sendInBackground } from '../background-mail.js';
import type { IdentityDeps } from '../dependencies.js';
import { credentialRoutes } from '../route-access.js';
import { PasswordChanged, ResetCompletion, ResetRequest, ResetSent } from './schemas.js';
import { completePasswordReset, requestPasswordReset } from './service.js';

/**
 * Answers 202 at once and looks the email up only once the answer has gone (A10, A3): a known
 * account's link is stored (two more writes) and an unknown one's is not, so doing that work
 * before answering made the answer measurably slower for an email that has an account.
 */
function askForResetLink(
  deps: IdentityDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  email: string,
) {
  const audit = requestContext(request);
  reply.raw.once('close', () => void issueResetLink(deps, request, email, audit));
  reply.code(202);
  return { status: 'sent' as const };
}

/** After the answer: the link and its mail when the email names an active account. */
async function issueResetLink(
  deps: IdentityDeps,
  request: FastifyRequest,
  email: string,
  audit: RequestContext,
): Promise<void> {
  try {
    const mail = await requestPasswordReset(deps.context, email, audit);
    if (mail) sendInBackground(deps.context, request, mail);
  } catch (error) {
    // Without the email: it may name someone's account.
    request.log.error(
      { resetError: error instanceof Error ? error.name : 'unknown' },
      'password reset link not issued',
    );
  }
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
