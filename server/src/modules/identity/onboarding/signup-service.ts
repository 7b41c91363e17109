// Self sign-up (off unless HAVEN_SELF_SIGNUP=true): a patient registers and proves the email
// with a single-use link before the account becomes active.
import { HavenError } from '../../../platform/errors.js';
import type { MailMessage } from '../../../platform/mail.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { auditAnonymousAttempt, auditOwnAccount } from '../account-events.js';
import type { IdentityServices, IdentitySettings } from '../dependencies.js';
import { assertPasswordAllowed } from '../passwords/policy.js';
import { cleanDisplayName } from '../users.js';
import {
  LINK_LIFETIMES_MS,
  consumeOneTimeToken,
  issueOneTimeToken,
} from './one-time-tokens-repo.js';
import { activateSignup, insertSignupUnlessTaken } from './repo.js';
import { linkTo } from './service.js';

type Context = ModuleContext<IdentitySettings>;

function assertSelfSignupEnabled(context: Context): void {
  if (!context.settings.selfSignup) throw new HavenError('NOT_FOUND');
}

/** The verification link, or (for a taken email) a note to the owner; never who registered. */
function signupMail(
  context: Context,
  email: string,
  link: { token: string; expiresAt: Date } | undefined,
): MailMessage {
  if (!link) {
    return {
      to: email,
      subject: 'Your Haven account',
      text:
        `Someone tried to sign up for Haven with this email, but you already have an ` +
        `account. Sign in at ${context.publicOrigin}/ or reset your password there. ` +
        `If this was not you, ignore this message.\n`,
    };
  }
  return {
    to: email,
    subject: 'Confirm your email for Haven',
    text:
      `Open this link to confirm your email and activate your Haven account:\n\n` +
      `${linkTo(context, 'verify-email', link.token)}\n\n` +
      `The link works once and expires at ${link.expiresAt.toISOString()}. ` +
      `If you did not sign up, ignore this message.\n`,
  };
}

/**
 * Registers a patient pending email verification. A taken email gets the same answer and
 * costs the same argon2id hash and one mail (telling the owner they already have an account),
 * so neither the response nor its timing reveals who is registered.
 */
export async function signUp(
  context: Context,
  services: Pick<IdentityServices, 'hashing' | 'passwordPolicy'>,
  input: { email: string; displayName: string; password: string },
  request: RequestContext,
): Promise<void> {
  assertSelfSignupEnabled(context);
  const now = context.now();
  const email = input.email.trim();
  const displayName = cleanDisplayName(input.displayName);
  await assertPasswordAllowed(services.passwordPolicy, input.password, { email, displayName });
  const passwordHash = await services.hashing.hash(input.password);
  const created = await context.db.transaction().execute(async (trx) => {
    const userId = await insertSignupUnlessTaken(trx, { email, displayName, passwordHash });
    if (!userId) {
      await auditAnonymousAttempt(trx, undefined, request, {
        action: 'auth.signup',
        outcome: 'denied',
        details: { reason: 'email_taken' },
      });
      return undefined;
    }
    const issued = await issueOneTimeToken(trx, {
      purpose: 'email_verification',
      userId,
      // Marks the token as a sign-up verification, not an email-change confirmation.
      data: { kind: 'signup' },
      lifetimeMs: LINK_LIFETIMES_MS.email_verification,
      now,
    });
    await auditAnonymousAttempt(trx, userId, request, {
      action: 'auth.signup',
      outcome: 'success',
    });
    return issued;
  });
  await context.mailer.send(signupMail(context, email, created));
}

/** Activates a self-registered account from its verification link (proves the email). */
export async function verifySignup(
  context: Context,
  token: string,
  request: RequestContext,
): Promise<void> {
  assertSelfSignupEnabled(context);
  const now = context.now();
  await context.db.transaction().execute(async (trx) => {
    const record = await consumeOneTimeToken(trx, 'email_verification', token, now);
    // Throwing rolls the consume back, so an email-change token presented here stays usable.
    if (!record?.userId || record.data.kind !== 'signup') throw new HavenError('NOT_FOUND');
    const userId = await activateSignup(trx, record.userId, now);
    if (!userId) throw new HavenError('NOT_FOUND');
    await auditOwnAccount(trx, userId, request, {
      action: 'auth.email_verified',
      details: { reason: 'signup' },
    });
  });
}
