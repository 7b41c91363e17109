// Profile and email address of the signed-in user. A new email address is proven by a link
// sent to it (single use, 24 h); the old address is told at each step, so a hijacked session
// cannot quietly move the account (and its password resets) to another mailbox.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { InvalidMailError, validateMailMessage } from '../../platform/mail.js';
import { normalizeEmail } from './login-throttle.js';
import {
  LINK_LIFETIMES_MS,
  consumeOneTimeToken,
  issueOneTimeToken,
  voidOneTimeTokens,
} from './one-time-tokens.js';
import { sendInBackground } from './password-reset-routes.js';
import { UserView, type IdentityContext } from './session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import { isUniqueViolation } from '../../platform/db/sql-text.js';

const UserAnswer = Type.Object({ user: UserView }, { additionalProperties: false });
const VerificationSent = Type.Object(
  { status: Type.Literal('verification_sent') },
  { additionalProperties: false },
);

export function viewOf(user: { id: string; email: string; display_name: string; roles: string[] }) {
  return { id: user.id, email: user.email, displayName: user.display_name, roles: user.roles };
}

export function registerProfileRoutes(app: FastifyInstance, deps: IdentityContext): void {
  app.patch(
    '/api/account/profile',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'write' },
      schema: {
        body: Type.Object(
          {
            displayName: Type.String({
              minLength: 1,
              maxLength: 100,
              pattern:
                '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*[^\\s\\u0000-\\u001f\\u007f\\ud800-\\udfff][^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$',
            }),
          },
          { additionalProperties: false },
        ),
        response: { 200: UserAnswer },
      },
    },
    async (request) => {
      const { subject } = requirePrincipal(request);
      const displayName = (request.body as { displayName: string }).displayName.trim();
      const user = await deps.db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('users')
          .set({ display_name: displayName, updated_at: deps.now() })
          .where('id', '=', subject)
          .returning(['id', 'email', 'display_name', 'roles'])
          .executeTakeFirst();
        if (!row) throw new HavenError('UNAUTHENTICATED');
        await recordAudit(trx, {
          actor: { type: 'user', id: subject },
          action: 'account.profile_updated',
          target: { type: 'user', id: subject },
          outcome: 'success',
          ...requestContext(request),
        });
        return row;
      });
      return { user: viewOf(user) };
    },
  );

  registerEmailChangeRoutes(app, deps);
}

/** Email change: a link to the new address proves it; the old address hears about it. */
function registerEmailChangeRoutes(app: FastifyInstance, deps: IdentityContext): void {
  app.post(
    '/api/account/email',
    {
      config: {
        access: requireScopes(['account:write'], { stepUp: true }),
        rateClass: 'sensitive',
      },
      bodyLimit: 2048,
      schema: {
        body: Type.Object(
          { newEmail: Type.String({ format: 'email', maxLength: 254 }) },
          { additionalProperties: false },
        ),
        response: { 202: VerificationSent },
      },
    },
    async (request, reply) => {
      const { subject } = requirePrincipal(request);
      const newEmail = (request.body as { newEmail: string }).newEmail.trim();
      try {
        validateMailMessage({ to: newEmail, subject: 'check', text: '' });
      } catch (error) {
        if (!(error instanceof InvalidMailError)) throw error;
        throw new HavenError('VALIDATION_FAILED', 'This email address cannot receive mail.', {
          errors: [{ field: 'newEmail', message: 'Enter a plain email address.' }],
        });
      }
      const now = deps.now();
      const user = await deps.db
        .selectFrom('users')
        .select(['id', 'email', 'email_normalized'])
        .where('id', '=', subject)
        .executeTakeFirst();
      if (!user) throw new HavenError('UNAUTHENTICATED');
      if (normalizeEmail(newEmail) === user.email_normalized) {
        throw new HavenError('CONFLICT', 'This is already your email address.');
      }
      const taken = await deps.db
        .selectFrom('users')
        .select('id')
        .where('email_normalized', '=', normalizeEmail(newEmail))
        .executeTakeFirst();
      const issued = await deps.db.transaction().execute(async (trx) => {
        let link: { token: string } | undefined;
        // A taken address gets no link (confirming could never succeed) but the same answer,
        // so this route does not reveal who has an account.
        if (!taken) {
          await voidOneTimeTokens(trx, 'email_verification', user.id, now);
          link = await issueOneTimeToken(trx, {
            purpose: 'email_verification',
            userId: user.id,
            data: { kind: 'email_change', newEmail },
            lifetimeMs: LINK_LIFETIMES_MS.email_verification,
            now,
          });
        }
        await recordAudit(trx, {
          actor: { type: 'user', id: user.id },
          action: 'account.email_change_requested',
          target: { type: 'user', id: user.id },
          outcome: taken ? 'denied' : 'success',
          details: { reason: taken ? 'address_taken' : 'verification_sent' },
          ...requestContext(request),
        });
        return link;
      });
      sendInBackground(
        deps,
        request,
        issued
          ? {
              to: newEmail,
              subject: 'Confirm your new Haven email address',
              text: `To use this address for your Haven account, open this link within 24 hours while signed in:\n${deps.config.publicOrigin}/confirm-email#token=${issued.token}\n\nIf you did not ask for this, ignore this message.\n`,
            }
          : {
              to: newEmail,
              subject: 'Your Haven email address',
              text: 'Someone asked to move a Haven account to this address, but this address already has an account. Nothing was changed.\n',
            },
      );
      sendInBackground(deps, request, {
        to: user.email,
        subject: 'A change of your Haven email address was requested',
        text: 'Someone signed in to your Haven account asked to change its email address. It changes only once the new address is confirmed.\n\nIf this was not you, change your password and contact your administrator.\n',
      });
      reply.code(202);
      return { status: 'verification_sent' as const };
    },
  );

  app.post(
    '/api/account/email/confirm',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      schema: {
        body: Type.Object(
          { token: Type.String({ pattern: '^[A-Za-z0-9_-]{20,100}$', maxLength: 100 }) },
          { additionalProperties: false },
        ),
        response: { 200: UserAnswer },
      },
    },
    async (request) => {
      const { subject } = requirePrincipal(request);
      const { token } = request.body as { token: string };
      const now = deps.now();
      const changed = await deps.db.transaction().execute(async (trx) => {
        const used = await consumeOneTimeToken(trx, 'email_verification', token, now);
        const newEmail = used?.data.newEmail;
        // Someone else's link (or a sign-up verification link) answers like a missing one.
        if (
          used?.userId !== subject ||
          used.data.kind !== 'email_change' ||
          typeof newEmail !== 'string'
        ) {
          throw new HavenError('NOT_FOUND', 'This link is invalid or has expired.');
        }
        const previous = await trx
          .selectFrom('users')
          .select(['email'])
          .where('id', '=', subject)
          .executeTakeFirstOrThrow();
        const taken = await trx
          .selectFrom('users')
          .select('id')
          .where('email_normalized', '=', normalizeEmail(newEmail))
          .where('id', '!=', subject)
          .executeTakeFirst();
        if (taken) throw new HavenError('CONFLICT', 'This email address is already in use.');
        const row = await trx
          .updateTable('users')
          .set({ email: newEmail, email_normalized: normalizeEmail(newEmail), updated_at: now })
          .where('id', '=', subject)
          .returning(['id', 'email', 'display_name', 'roles'])
          .executeTakeFirstOrThrow()
          .catch((error: unknown) => {
            // Someone took the address between the check and the update (unique violation).
            if (isUniqueViolation(error)) {
              throw new HavenError('CONFLICT', 'This email address is already in use.');
            }
            throw error;
          });
        // Reset links went to the old address; they must not outlive the change.
        await voidOneTimeTokens(trx, 'password_reset', subject, now);
        await recordAudit(trx, {
          actor: { type: 'user', id: subject },
          action: 'account.email_changed',
          target: { type: 'user', id: subject },
          outcome: 'success',
          ...requestContext(request),
        });
        return { row, oldEmail: previous.email };
      });
      sendInBackground(deps, request, {
        to: changed.oldEmail,
        subject: 'Your Haven email address was changed',
        text: 'The email address of your Haven account was changed; mail now goes to the new address.\n\nIf this was not you, contact your administrator at once.\n',
      });
      return { user: viewOf(changed.row) };
    },
  );
}
