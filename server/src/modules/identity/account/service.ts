// Profile and email address of the signed-in user. A new email address is proven by a link
// sent to it (single use, 24 h); the old address is told at each step, so a hijacked session
// cannot quietly move the account (and its password resets) to another mailbox. The caller
// sends the returned mail after the answer (background-mail.ts).
import { HavenError } from '../../../platform/errors.js';
import { isUniqueViolation } from '../../../platform/db/sql-text.js';
import { InvalidMailError, validateMailMessage, type MailMessage } from '../../../platform/mail.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { auditOwnAccount } from '../account-events.js';
import type { IdentitySettings } from '../dependencies.js';
import {
  LINK_LIFETIMES_MS,
  consumeOneTimeToken,
  issueOneTimeToken,
  voidOneTimeTokens,
} from '../onboarding/one-time-tokens-repo.js';
import { cleanDisplayName, normalizeEmail, toSignedInUser, type SignedInUser } from '../users.js';
import { emailTaken, findEmailOf, setDisplayName, setEmail } from './repo.js';

type Context = ModuleContext<IdentitySettings>;

export async function updateProfile(
  context: Context,
  userId: string,
  displayName: string,
  request: RequestContext,
): Promise<SignedInUser> {
  const name = cleanDisplayName(displayName);
  const row = await context.db.transaction().execute(async (trx) => {
    const updated = await setDisplayName(trx, userId, name, context.now());
    if (!updated) throw new HavenError('UNAUTHENTICATED');
    await auditOwnAccount(trx, userId, request, { action: 'account.profile_updated' });
    return updated;
  });
  return toSignedInUser(row);
}

/** 400 unless the address is one our mailer can send to. */
function assertDeliverable(email: string): void {
  try {
    validateMailMessage({ to: email, subject: 'check', text: '' });
  } catch (error) {
    if (!(error instanceof InvalidMailError)) throw error;
    throw new HavenError('VALIDATION_FAILED', 'This email address cannot receive mail.', {
      errors: [{ field: 'newEmail', message: 'Enter a plain email address.' }],
    });
  }
}

function emailChangeMail(
  context: Context,
  newEmail: string,
  link: { token: string } | undefined,
): MailMessage {
  return link
    ? {
        to: newEmail,
        subject: 'Confirm your new Haven email address',
        text: `To use this address for your Haven account, open this link within 24 hours while signed in:\n${context.publicOrigin}/confirm-email#token=${link.token}\n\nIf you did not ask for this, ignore this message.\n`,
      }
    : {
        to: newEmail,
        subject: 'Your Haven email address',
        text: 'Someone asked to move a Haven account to this address, but this address already has an account. Nothing was changed.\n',
      };
}

/**
 * Sends a confirmation link to the new address. A taken address gets no link (confirming
 * could never succeed) but the same answer, so the route does not reveal who has an account.
 * Returns the mail for the new address and the notice for the current one.
 */
export async function requestEmailChange(
  context: Context,
  userId: string,
  requested: string,
  request: RequestContext,
): Promise<MailMessage[]> {
  const newEmail = requested.trim();
  assertDeliverable(newEmail);
  const now = context.now();
  const user = await findEmailOf(context.db, userId);
  if (!user) throw new HavenError('UNAUTHENTICATED');
  if (normalizeEmail(newEmail) === user.email_normalized) {
    throw new HavenError('CONFLICT', 'This is already your email address.');
  }
  const taken = await emailTaken(context.db, newEmail);
  const issued = await context.db.transaction().execute(async (trx) => {
    let link: { token: string } | undefined;
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
    await auditOwnAccount(trx, user.id, request, {
      action: 'account.email_change_requested',
      outcome: taken ? 'denied' : 'success',
      details: { reason: taken ? 'address_taken' : 'verification_sent' },
    });
    return link;
  });
  return [
    emailChangeMail(context, newEmail, issued),
    {
      to: user.email,
      subject: 'A change of your Haven email address was requested',
      text: 'Someone signed in to your Haven account asked to change its email address. It changes only once the new address is confirmed.\n\nIf this was not you, change your password and contact your administrator.\n',
    },
  ];
}

/** Moves the account to the confirmed address; the old address gets a notice to send. */
export async function confirmEmailChange(
  context: Context,
  userId: string,
  token: string,
  request: RequestContext,
): Promise<{ user: SignedInUser; notice: MailMessage }> {
  const now = context.now();
  const changed = await context.db.transaction().execute(async (trx) => {
    const used = await consumeOneTimeToken(trx, 'email_verification', token, now);
    const newEmail = used?.data.newEmail;
    // Someone else's link (or a sign-up verification link) answers like a missing one.
    if (
      used?.userId !== userId ||
      used.data.kind !== 'email_change' ||
      typeof newEmail !== 'string'
    ) {
      throw new HavenError('NOT_FOUND', 'This link is invalid or has expired.');
    }
    const previous = await findEmailOf(trx, userId);
    // The token named this user, so the row exists unless the database is broken.
    if (!previous) throw new Error('email change of a missing account');
    if (await emailTaken(trx, newEmail, userId)) {
      throw new HavenError('CONFLICT', 'This email address is already in use.');
    }
    const row = await setEmail(trx, userId, newEmail, now).catch((error: unknown) => {
      // Someone took the address between the check and the update (unique violation).
      if (isUniqueViolation(error)) {
        throw new HavenError('CONFLICT', 'This email address is already in use.');
      }
      throw error;
    });
    // Reset links went to the old address; they must not outlive the change.
    await voidOneTimeTokens(trx, 'password_reset', userId, now);
    await auditOwnAccount(trx, userId, request, { action: 'account.email_changed' });
    return { row, oldEmail: previous.email };
  });
  return {
    user: toSignedInUser(changed.row),
    notice: {
      to: changed.oldEmail,
      subject: 'Your Haven email address was changed',
      text: 'The email address of your Haven account was changed; mail now goes to the new address.\n\nIf this was not you, contact your administrator at once.\n',
    },
  };
}
