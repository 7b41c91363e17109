// Passwords after sign-up: change (A7: the current password is proven again and the other
// sessions end) and reset by emailed single-use link (A10: the same answer whether or not the
// account exists, all sessions end, and the user signs in again with MFA as before).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { PUBLIC, requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { recordAudit } from '../../platform/audit/audit.js';
import type { MailMessage } from '../../platform/mail.js';
import {
  clearLoginFailures,
  normalizeEmail,
  recordLoginFailure,
  remainingBackoffMs,
} from './login-throttle.js';
import {
  LINK_LIFETIMES_MS,
  consumeOneTimeToken,
  issueOneTimeToken,
  peekOneTimeToken,
  voidOneTimeTokens,
} from './one-time-tokens.js';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.js';
import { revokeUserSessions } from './sessions.js';
import { createSessionKit, requireSameSite, type IdentityContext } from './session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';

const Password = Type.String({ minLength: 1, maxLength: 1024 });
const LINK_TOKEN = Type.String({ pattern: '^[A-Za-z0-9_-]{20,100}$', maxLength: 100 });

/**
 * Sends mail without making the caller wait for the relay: a slow SMTP answer must not tell
 * a password-reset caller that the account exists, and a mail failure must not undo a change
 * that is already committed. Failures are logged without the message (it carries a link).
 */
export function sendInBackground(
  deps: IdentityContext,
  request: FastifyRequest,
  message: MailMessage,
): void {
  deps.mailer.send(message).catch((error: unknown) => {
    request.log.error(
      { mailError: error instanceof Error ? error.name : 'unknown' },
      'mail delivery failed',
    );
  });
}

/** The A2 policy with the user's own details as context; throws PASSWORD_REJECTED. */
export async function enforcePasswordPolicy(
  deps: IdentityContext,
  password: string,
  user: { email: string; display_name: string },
): Promise<void> {
  const verdict = await checkPasswordPolicy(
    password,
    { email: user.email, displayName: user.display_name },
    deps.passwordPolicy,
  );
  if (!verdict.ok) {
    throw new HavenError('PASSWORD_REJECTED', [verdict.message, ...verdict.suggestions].join(' '), {
      errors: [{ field: 'newPassword', message: verdict.message }],
    });
  }
}

export function registerPasswordRoutes(app: FastifyInstance, deps: IdentityContext): void {
  const { endSessions } = createSessionKit(deps);

  app.post(
    '/api/account/password',
    {
      // 'auth': each call costs an argon2 verify and is a password guess.
      config: { access: requireScopes(['account:write']), rateClass: 'auth' },
      bodyLimit: 4096,
      schema: {
        body: Type.Object(
          { currentPassword: Password, newPassword: Password },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ revokedSessions: Type.Integer() }, { additionalProperties: false }),
        },
      },
    },
    async (request) => {
      const { subject, sessionId } = requirePrincipal(request);
      const body = request.body as { currentPassword: string; newPassword: string };
      const now = deps.now();
      const user = await deps.db
        .selectFrom('users')
        .select(['id', 'email', 'display_name', 'password_hash'])
        .where('id', '=', subject)
        .executeTakeFirst();
      if (!user) throw new HavenError('UNAUTHENTICATED');
      // Guessing through this route counts against the same backoff as sign-in (A3).
      const backoffMs = await remainingBackoffMs(deps.db, user.email, now);
      if (backoffMs > 0) {
        const seconds = Math.ceil(backoffMs / 1000);
        throw new HavenError('LOGIN_BACKOFF', `Try again in ${seconds} seconds.`, {
          headers: { 'retry-after': String(seconds) },
        });
      }
      const currentOk =
        user.password_hash !== null &&
        (await verifyPassword(user.password_hash, body.currentPassword));
      if (!currentOk) {
        await recordLoginFailure(deps.db, user.email, now);
        await recordAudit(deps.db, {
          actor: { type: 'user', id: user.id },
          action: 'account.password_changed',
          target: { type: 'user', id: user.id },
          outcome: 'failure',
          details: { reason: 'wrong_current_password' },
          ...requestContext(request),
        });
        throw new HavenError('INVALID_CREDENTIALS', 'The current password is incorrect.');
      }
      await clearLoginFailures(deps.db, user.email);
      await enforcePasswordPolicy(deps, body.newPassword, user);
      const hash = await hashPassword(body.newPassword, deps.hashing);
      // The new hash, the revocations and the audit event commit together.
      const revokedSessions = await endSessions(
        request,
        'account.password_changed',
        'password_changed',
        async (trx) => {
          await trx
            .updateTable('users')
            .set({ password_hash: hash, updated_at: now })
            .where('id', '=', user.id)
            .execute();
          // A reset link mailed earlier would otherwise undo this change.
          await voidOneTimeTokens(trx, 'password_reset', user.id, now);
          return revokeUserSessions(trx, user.id, 'password_changed', now, sessionId);
        },
        { type: 'user', id: user.id },
      );
      sendInBackground(deps, request, {
        to: user.email,
        subject: 'Your Haven password was changed',
        text: 'The password of your Haven account was just changed and your other sessions were signed out.\n\nIf this was not you, reset your password and contact your administrator.\n',
      });
      return { revokedSessions };
    },
  );

  app.post(
    '/api/auth/password-reset',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      bodyLimit: 2048,
      schema: {
        body: Type.Object(
          { email: Type.String({ format: 'email', maxLength: 254 }) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ status: Type.Literal('sent') }, { additionalProperties: false }),
        },
      },
    },
    async (request, reply) => {
      requireSameSite(request, deps.allowedOrigins);
      const { email } = request.body as { email: string };
      const now = deps.now();
      const user = await deps.db
        .selectFrom('users')
        .select(['id', 'email', 'status'])
        .where('email_normalized', '=', normalizeEmail(email))
        .executeTakeFirst();
      const eligible = user?.status === 'active';
      const issued = await deps.db.transaction().execute(async (trx) => {
        let link: { token: string } | undefined;
        if (eligible) {
          // Only the newest link works: older ones may sit in a mailbox someone else reads.
          await voidOneTimeTokens(trx, 'password_reset', user.id, now);
          link = await issueOneTimeToken(trx, {
            purpose: 'password_reset',
            userId: user.id,
            lifetimeMs: LINK_LIFETIMES_MS.password_reset,
            now,
          });
        }
        await recordAudit(trx, {
          actor: { type: 'anonymous' },
          action: 'auth.password_reset_requested',
          ...(user ? { target: { type: 'user', id: user.id } } : {}),
          outcome: eligible ? 'success' : 'denied',
          details: {
            reason: !user ? 'unknown_account' : eligible ? 'sent' : `status_${user.status}`,
          },
          ...requestContext(request),
        });
        return link;
      });
      if (issued && user) {
        // The token travels in the fragment: it never reaches a server log or a Referer header.
        const link = `${deps.config.publicOrigin}/reset-password#token=${issued.token}`;
        sendInBackground(deps, request, {
          to: user.email,
          subject: 'Reset your Haven password',
          text: `Someone asked to reset the password of your Haven account.\n\nTo choose a new password, open this link within 30 minutes:\n${link}\n\nIf this was not you, ignore this message; your password stays as it is.\n`,
        });
      }
      reply.code(202);
      return { status: 'sent' as const };
    },
  );

  app.post(
    '/api/auth/password-reset/complete',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      bodyLimit: 4096,
      schema: {
        body: Type.Object(
          { token: LINK_TOKEN, newPassword: Password },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { status: Type.Literal('password_changed') },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      requireSameSite(request, deps.allowedOrigins);
      const { token, newPassword } = request.body as { token: string; newPassword: string };
      const now = deps.now();
      const invalidLink = () =>
        new HavenError(
          'NOT_FOUND',
          'This reset link is invalid or has expired; ask for a new one.',
        );
      // Peek first: a password the policy refuses must not burn the link.
      const peeked = await peekOneTimeToken(deps.db, 'password_reset', token, now);
      const user = peeked?.userId
        ? await deps.db
            .selectFrom('users')
            .select(['id', 'email', 'display_name', 'status'])
            .where('id', '=', peeked.userId)
            .executeTakeFirst()
        : undefined;
      if (!user || user.status !== 'active') {
        await recordAudit(deps.db, {
          actor: { type: 'anonymous' },
          action: 'auth.password_reset_completed',
          ...(user ? { target: { type: 'user', id: user.id } } : {}),
          outcome: 'denied',
          details: { reason: user ? `status_${user.status}` : 'invalid_link' },
          ...requestContext(request),
        });
        throw invalidLink();
      }
      await enforcePasswordPolicy(deps, newPassword, user);
      const hash = await hashPassword(newPassword, deps.hashing);
      const revoked = await deps.db.transaction().execute(async (trx) => {
        // The atomic consume decides: of two racing submissions exactly one gets here.
        const used = await consumeOneTimeToken(trx, 'password_reset', token, now);
        if (used?.userId !== user.id) throw invalidLink();
        await trx
          .updateTable('users')
          .set({ password_hash: hash, updated_at: now })
          .where('id', '=', user.id)
          .where('status', '=', 'active')
          .execute();
        await voidOneTimeTokens(trx, 'password_reset', user.id, now);
        // Whoever held the old password may hold a session too: every session ends.
        const ids = await revokeUserSessions(trx, user.id, 'password_reset', now);
        // Proving the mailbox ends a guessing backoff; MFA is untouched and still asked for.
        await clearLoginFailures(trx, user.email);
        await recordAudit(trx, {
          actor: { type: 'user', id: user.id },
          action: 'auth.password_reset_completed',
          target: { type: 'user', id: user.id },
          outcome: 'success',
          details: { count: ids.length },
          ...requestContext(request),
        });
        return ids;
      });
      for (const id of revoked) deps.revocations.markRevoked(id);
      return { status: 'password_changed' as const };
    },
  );
}
