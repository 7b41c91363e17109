// Mail that must not hold up the answer (password reset, email and password change notices).
import type { FastifyRequest } from 'fastify';
import type { MailMessage } from '../../platform/mail.js';
import type { ModuleContext } from '../../platform/module-context.js';

/**
 * Sends mail without making the caller wait for the relay: a slow SMTP answer must not tell
 * a password-reset caller that the account exists, and a mail failure must not undo a change
 * that is already committed. Failures are logged without the message (it carries a link).
 */
export function sendInBackground(
  context: Pick<ModuleContext, 'mailer'>,
  request: FastifyRequest,
  message: MailMessage,
): void {
  context.mailer.send(message).catch((error: unknown) => {
    request.log.error(
      { mailError: error instanceof Error ? error.name : 'unknown' },
      'mail delivery failed',
    );
  });
}
