// Sign-in (A3, A9): password check with uniform failure, per-account backoff, then either a
// session or a short-lived server-side "password ok, MFA pending" state bound to a cookie.
import { HavenError } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit/audit.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { auditAnonymousAttempt } from '../account-events.js';
import type { IdentitySettings, IdentityServices } from '../dependencies.js';
import { consumeTotpStep, findTotpAccount } from '../mfa/repo.js';
import { admitMfaAttempt, clearMfaFailures } from '../mfa/mfa-throttle.js';
import { consumeRecoveryCode } from '../mfa/recovery-codes.js';
import { openTotpSecret, verifyTotp } from '../mfa/totp.js';
import {
  countOneTimeAttempt,
  issueOneTimeToken,
  useOneTimeTokenById,
} from '../onboarding/one-time-tokens-repo.js';
import { requiresMfa } from '../roles.js';
import { normalizeEmail, toSignedInUser, type SignedInUser } from '../users.js';
import {
  backoffError,
  clearLoginFailures,
  loginThrottleState,
  recordLoginFailure,
} from './login-throttle.js';
import { storePasswordHash } from '../passwords/repo.js';
import { findAccountByEmail } from './repo.js';

export const MFA_PENDING_SECONDS = 5 * 60;
/**
 * Wrong codes per pending state. Not the guessing limit: a new password sign-in opens a new
 * state, so the account-wide count in mfa-throttle.ts is what stops a password holder.
 */
const MFA_MAX_ATTEMPTS = 5;

type Context = ModuleContext<IdentitySettings>;
type Account = NonNullable<Awaited<ReturnType<typeof findAccountByEmail>>>;
type TotpAccount = NonNullable<Awaited<ReturnType<typeof findTotpAccount>>>;

export type PasswordStepResult =
  | {
      readonly kind: 'session';
      readonly user: SignedInUser;
      readonly amr: string[];
      readonly mfaAt: Date | null;
    }
  | { readonly kind: 'mfa'; readonly pendingToken: string }
  /** MFA is required but not enrolled: the pending token only opens the enrolment routes. */
  | { readonly kind: 'enroll'; readonly pendingToken: string };

/** Audits a sign-in that fails on credentials (with the next backoff) and throws. */
async function refuseCredentials(
  context: Context,
  email: string,
  user: Account | undefined,
  passwordOk: boolean,
  now: Date,
  request: RequestContext,
): Promise<never> {
  const { backoffMs: nextBackoff } = await recordLoginFailure(context.db, email, now);
  await auditAnonymousAttempt(context.db, user?.id, request, {
    action: 'auth.login',
    outcome: 'failure',
    details: {
      reason: !user ? 'unknown_account' : !passwordOk ? 'wrong_password' : `status_${user.status}`,
      backoff_ms: nextBackoff,
    },
  });
  throw new HavenError('INVALID_CREDENTIALS');
}

/** The server-side "password ok, MFA next" state; `enroll` when MFA is still to be set up. */
async function issueMfaPending(
  context: Context,
  user: Account,
  enroll: boolean,
  now: Date,
  request: RequestContext,
): Promise<string> {
  const { token } = await issueOneTimeToken(context.db, {
    purpose: 'mfa_pending',
    userId: user.id,
    data: { client_address: request.clientAddress, ...(enroll ? { enroll: true } : {}) },
    lifetimeMs: MFA_PENDING_SECONDS * 1000,
    now,
  });
  await recordUserEvent(context.db, user.id, request, {
    action: 'auth.password_ok',
    details: { next: enroll ? 'mfa_enrollment' : 'mfa' },
  });
  return token;
}

/**
 * Checks email and password. Unknown email, wrong password and disabled account take the
 * same time (a dummy argon2id verify) and produce the same error; only the audit log knows.
 */
export async function checkPassword(
  context: Context,
  services: Pick<IdentityServices, 'hashing'>,
  credentials: { email: string; password: string },
  request: RequestContext,
): Promise<PasswordStepResult> {
  const { db, settings } = context;
  const { email, password } = credentials;
  const now = context.now();
  // Both reads at once (one round trip of latency instead of two): the account row is only
  // used once the backoff has been found clear, exactly as if it were read afterwards.
  const [throttle, user] = await Promise.all([
    loginThrottleState(db, email, now),
    findAccountByEmail(db, normalizeEmail(email)),
  ]);
  if (throttle.backoffMs > 0) {
    await auditAnonymousAttempt(db, undefined, request, {
      action: 'auth.login',
      outcome: 'denied',
      details: { reason: 'backoff' },
    });
    throw backoffError(throttle.backoffMs);
  }
  const passwordOk = user?.password_hash
    ? await services.hashing.verify(user.password_hash, password)
    : await services.hashing.verifyNobody(password);
  // An invited user who already set a password (accepted the link) but lost the enrolment
  // step may finish enrolment by signing in; without this the first admin could be locked out.
  const resumingEnrollment =
    user?.status === 'invited' &&
    user.password_hash !== null &&
    user.totp_enrolled_at === null &&
    requiresMfa(user.roles, settings.mfaRequiredRoles);
  if (!user || !passwordOk || (user.status !== 'active' && !resumingEnrollment)) {
    return refuseCredentials(context, email, user, passwordOk, now, request);
  }
  // Nothing to clear when no failure was counted (most sign-ins): a statement saved. A failure
  // counted concurrently after the read above is kept, which only errs on the strict side.
  if (throttle.failures > 0) await clearLoginFailures(db, email);
  if (user.password_hash && services.hashing.needsRehash(user.password_hash)) {
    await storePasswordHash(db, user.id, await services.hashing.hash(password), now);
  }
  if (
    !requiresMfa(user.roles, settings.mfaRequiredRoles) &&
    user.totp_enrolled_at === null &&
    !resumingEnrollment
  ) {
    return { kind: 'session', user: toSignedInUser(user), amr: ['pwd'], mfaAt: null };
  }
  // MFA is required but not enrolled: no session until enrolment; the pending state says so.
  const enroll = user.totp_enrolled_at === null;
  const pendingToken = await issueMfaPending(context, user, enroll, now, request);
  return { kind: enroll ? 'enroll' : 'mfa', pendingToken };
}

/** Which second factor the proof passed, if any (each code works once, across nodes). */
async function proveSecondFactor(
  context: Context,
  services: Pick<IdentityServices, 'ring'>,
  user: TotpAccount,
  proof: { code?: string | undefined; recoveryCode?: string | undefined },
  now: Date,
): Promise<'otp' | 'recovery' | undefined> {
  if (proof.code !== undefined && user.totp_secret_enc) {
    const secret = openTotpSecret(services.ring, user.id, user.totp_secret_enc);
    const lastStep = user.totp_last_step === null ? null : BigInt(user.totp_last_step);
    const result = verifyTotp({ secret, code: proof.code, lastStep, now: now.getTime() });
    if (result.ok && (await consumeTotpStep(context.db, user.id, result.step))) return 'otp';
  } else if (
    proof.recoveryCode !== undefined &&
    (await consumeRecoveryCode(context.db, user.id, proof.recoveryCode))
  ) {
    return 'recovery';
  }
  return undefined;
}

/** Completes an MFA-pending sign-in with a TOTP code or a recovery code. */
export async function completeMfa(
  context: Context,
  services: Pick<IdentityServices, 'ring'>,
  pendingToken: string | undefined,
  proof: { code?: string | undefined; recoveryCode?: string | undefined },
  request: RequestContext,
): Promise<{ user: SignedInUser; amr: string[]; mfaAt: Date }> {
  const { db } = context;
  const now = context.now();
  const pending =
    pendingToken === undefined
      ? undefined
      : await countOneTimeAttempt(db, 'mfa_pending', pendingToken, now, MFA_MAX_ATTEMPTS);
  // An enrolment pending state only opens the enrolment routes: its seed is not confirmed yet.
  if (!pending?.user_id || pending.data.enroll === true) {
    throw new HavenError('MFA_PENDING_EXPIRED');
  }
  const user = await findTotpAccount(db, pending.user_id);
  // The pending state references the user row, so this would be a broken database.
  if (!user) throw new Error('MFA pending state without its account');
  const event = { actor: { type: 'user' as const, id: user.id }, action: 'auth.mfa', ...request };
  // Per account, not per pending state: however many fresh pending states the password has
  // opened, a backing-off account has even a right code refused.
  const backoffMs = await admitMfaAttempt(db, user.id, now, event);
  const method = await proveSecondFactor(context, services, user, proof, now);
  if (method === undefined || user.status !== 'active') {
    await recordAudit(db, { ...event, outcome: 'failure', details: { backoff_ms: backoffMs } });
    throw new HavenError('MFA_INVALID');
  }
  await useOneTimeTokenById(db, pending.id, now);
  // Only a verified second factor clears the count; the password step never touches it.
  await clearMfaFailures(db, user.id);
  await recordAudit(db, { ...event, outcome: 'success', details: { method } });
  return { user: toSignedInUser(user), amr: ['pwd', method === 'otp' ? 'otp' : 'mfa'], mfaAt: now };
}
