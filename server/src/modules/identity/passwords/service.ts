// Password reset by emailed single-use link (A10): the same answer whether or not the account
// exists, every session ends, and the user signs in again with MFA as before.
import { HavenError } from '../../../platform/errors.js';
import type { MailMessage } from '../../../platform/mail.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { auditAnonymousAttempt, auditOwnAccount } from '../account-events.js';
import type { IdentityServices, IdentitySettings } from '../dependencies.js';
import {
  LINK_LIFETIMES_MS,
  consumeOneTimeToken,
  issueOneTimeToken,
  peekOneTimeToken,
  voidOneTimeTokens,
} from '../onboarding/one-time-tokens-repo.js';
import { revokeUserSessions } from '../sessions/repo.js';
import { clearLoginFailures } from '../sign-in/login-throttle.js';
import { normalizeEmail } from '../users.js';
import { assertNewPasswordAllowed } from './policy.js';
import { findAccountForReset, findPasswordOwner, storePasswordHash } from './repo.js';

type Context = ModuleContext<IdentitySettings>;

/**
 * Issues a reset link when the email names an active account (only the newest link works:
 * older ones may sit in a mailbox someone else reads). Returns the mail to send, if any.
 */
export async function requestPasswordReset(
  context: Pick<Context, 'db' | 'now' | 'publicOrigin'>,
  email: string,
  request: RequestContext,
): Promise<MailMessage | undefined> {
  const now = context.now();
  const user = await findAccountForReset(context.db, normalizeEmail(email));
  const eligible = user?.status === 'active';
  const issued = await context.db.transaction().execute(async (trx) => {
    let link: { token: string } | undefined;
    if (eligible) {
      await voidOneTimeTokens(trx, 'password_reset', user.id, now);
      link = await issueOneTimeToken(trx, {
        purpose: 'password_reset',
        userId: user.id,
        lifetimeMs: LINK_LIFETIMES_MS.password_reset,
        now,
      });
    }
    await auditAnonymousAttempt(trx, user?.id, request, {
      action: 'auth.password_reset_requested',
      outcome: eligible ? 'success' : 'denied',
      details: {
        reason: !user ? 'unknown_account' : eligible ? 'sent' : `status_${user.status}`,
      },
    });
    return link;
  });
  if (!issued || !user) return undefined;
  // The token travels in the fragment: it never reaches a server log or a Referer header.
  const link = `${context.publicOrigin}/reset-password#token=${issued.token}`;
  return {
    to: user.email,
    subject: 'Reset your Haven password',
    text: `Someone asked to reset the password of your Haven account.\n\nTo choose a new password, open this link within 30 minutes:\n${link}\n\nIf this was not you, ignore this message; your password stays as it is.\n`,
  };
}

const invalidLink = () =>
  new HavenError('NOT_FOUND', 'This reset link is invalid or has expired; ask for a new one.');

/** Sets the new password from a reset link; every session of the account ends. */
export async function completePasswordReset(
  context: Context,
  services: Pick<
    IdentityServices,
    'hashing' | 'passwordPolicy' | 'revocations' | 'credentialEndings'
  >,
  input: { token: string; newPassword: string },
  request: RequestContext,
): Promise<void> {
  const { db } = context;
  const { token, newPassword } = input;
  const now = context.now();
  // Peek first: a password the policy refuses must not burn the link.
  const peeked = await peekOneTimeToken(db, 'password_reset', token, now);
  const user = peeked?.userId ? await findPasswordOwner(db, peeked.userId) : undefined;
  if (!user || user.status !== 'active') {
    await auditAnonymousAttempt(db, user?.id, request, {
      action: 'auth.password_reset_completed',
      outcome: 'denied',
      details: { reason: user ? `status_${user.status}` : 'invalid_link' },
    });
    throw invalidLink();
  }
  const owner = { email: user.email, displayName: user.display_name };
  await assertNewPasswordAllowed(services.passwordPolicy, newPassword, owner);
  const hash = await services.hashing.hash(newPassword);
  const revoked = await db.transaction().execute(async (trx) => {
    // The atomic consume decides: of two racing submissions exactly one gets here.
    const used = await consumeOneTimeToken(trx, 'password_reset', token, now);
    if (used?.userId !== user.id) throw invalidLink();
    await storePasswordHash(trx, user.id, hash, now, true);
    await voidOneTimeTokens(trx, 'password_reset', user.id, now);
    // Whoever held the old password may hold a session too: every session ends.
    const ids = await revokeUserSessions(trx, user.id, 'password_reset', now);
    await services.credentialEndings.run(trx, user.id);
    // Proving the mailbox ends a guessing backoff; MFA is untouched and still asked for.
    await clearLoginFailures(trx, user.email);
    await auditOwnAccount(trx, user.id, request, {
      action: 'auth.password_reset_completed',
      details: { count: ids.length },
    });
    return ids;
  });
  for (const id of revoked) services.revocations.markRevoked(id);
}
