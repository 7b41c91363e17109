// Sign-in (A3, A9): password check with uniform failure, per-account backoff, then either a
// session or a short-lived server-side "password ok, MFA pending" state bound to a cookie.
import type { Kysely } from 'kysely';
import type { DatabaseSchema, Role } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { randomToken, sha256Hex, type KeyRing } from '../../platform/crypto.js';
import {
  clearLoginFailures,
  loginThrottleState,
  normalizeEmail,
  recordLoginFailure,
} from './login-throttle.js';
import {
  hashPassword,
  needsRehash,
  verifyPassword,
  type PasswordHashingOptions,
} from './passwords.js';
import { requiresMfa } from './roles.js';
import { consumeTotpStep, openTotpSecret, verifyTotp } from './totp.js';
import { consumeRecoveryCode } from './recovery-codes.js';
import type { RequestContext } from '../../platform/http/request-context.js';

export const MFA_PENDING_SECONDS = 5 * 60;
const MFA_MAX_ATTEMPTS = 5;

export type { RequestContext };

export interface SignedInUser {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly roles: Role[];
}

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

export interface SignInDependencies {
  readonly db: Kysely<DatabaseSchema>;
  readonly ring: KeyRing;
  readonly hashing: PasswordHashingOptions;
  readonly dummyVerify: (password: string) => Promise<false>;
  /** Roles that cannot hold a session without MFA (A9), from configuration. */
  readonly mfaRequiredRoles: ReadonlySet<string>;
}

const toUser = (row: {
  id: string;
  email: string;
  display_name: string;
  roles: Role[];
}): SignedInUser => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  roles: row.roles,
});

/**
 * Checks email and password. Unknown email, wrong password and disabled account take the
 * same time (a dummy argon2id verify) and produce the same error; only the audit log knows.
 */
export async function checkPassword(
  deps: SignInDependencies,
  email: string,
  password: string,
  now: Date,
  context: RequestContext,
): Promise<PasswordStepResult> {
  const { db } = deps;
  // Both reads at once (one round trip of latency instead of two): the account row is only
  // used once the backoff has been found clear, exactly as if it were read afterwards.
  const [throttle, user] = await Promise.all([
    loginThrottleState(db, email, now),
    db
      .selectFrom('users')
      .select([
        'id',
        'email',
        'display_name',
        'roles',
        'status',
        'password_hash',
        'totp_enrolled_at',
      ])
      .where('email_normalized', '=', normalizeEmail(email))
      .executeTakeFirst(),
  ]);
  const { backoffMs } = throttle;
  if (backoffMs > 0) {
    await recordAudit(db, {
      actor: { type: 'anonymous' },
      action: 'auth.login',
      outcome: 'denied',
      details: { reason: 'backoff' },
      ...context,
    });
    const seconds = Math.ceil(backoffMs / 1000);
    throw new HavenError('LOGIN_BACKOFF', `Try again in ${seconds} seconds.`, {
      headers: { 'retry-after': String(seconds) },
    });
  }
  const passwordOk = user?.password_hash
    ? await verifyPassword(user.password_hash, password)
    : await deps.dummyVerify(password);
  // An invited user who already set a password (accepted the link) but lost the enrolment
  // step may finish enrolment by signing in; without this the first admin could be locked out.
  const resumingEnrollment =
    user?.status === 'invited' &&
    user.password_hash !== null &&
    user.totp_enrolled_at === null &&
    requiresMfa(user.roles, deps.mfaRequiredRoles);
  if (!user || !passwordOk || (user.status !== 'active' && !resumingEnrollment)) {
    const { backoffMs: nextBackoff } = await recordLoginFailure(db, email, now);
    await recordAudit(db, {
      actor: { type: 'anonymous' },
      action: 'auth.login',
      outcome: 'failure',
      ...(user ? { target: { type: 'user', id: user.id } } : {}),
      details: {
        reason: !user
          ? 'unknown_account'
          : !passwordOk
            ? 'wrong_password'
            : `status_${user.status}`,
        backoff_ms: nextBackoff,
      },
      ...context,
    });
    throw new HavenError('INVALID_CREDENTIALS');
  }
  // Nothing to clear when no failure was counted (most sign-ins): a statement saved. A failure
  // counted concurrently after the read above is kept, which only errs on the strict side.
  if (throttle.failures > 0) await clearLoginFailures(db, email);
  if (user.password_hash && needsRehash(user.password_hash, deps.hashing)) {
    const rehashed = await hashPassword(password, deps.hashing);
    await db
      .updateTable('users')
      .set({ password_hash: rehashed, updated_at: now })
      .where('id', '=', user.id)
      .execute();
  }
  if (
    !requiresMfa(user.roles, deps.mfaRequiredRoles) &&
    user.totp_enrolled_at === null &&
    !resumingEnrollment
  ) {
    return { kind: 'session', user: toUser(user), amr: ['pwd'], mfaAt: null };
  }
  // MFA is required but not enrolled: no session until enrolment; the pending state says so.
  const enroll = user.totp_enrolled_at === null;
  const pendingToken = randomToken(32);
  await db
    .insertInto('one_time_tokens')
    .values({
      purpose: 'mfa_pending',
      token_hash: sha256Hex(pendingToken),
      user_id: user.id,
      data: JSON.stringify({
        client_address: context.clientAddress,
        ...(enroll ? { enroll: true } : {}),
      }),
      created_at: now,
      expires_at: new Date(now.getTime() + MFA_PENDING_SECONDS * 1000),
    })
    .execute();
  await recordAudit(db, {
    actor: { type: 'user', id: user.id },
    action: 'auth.password_ok',
    outcome: 'success',
    details: { next: enroll ? 'mfa_enrollment' : 'mfa' },
    ...context,
  });
  return { kind: enroll ? 'enroll' : 'mfa', pendingToken };
}

/** Completes an MFA-pending sign-in with a TOTP code or a recovery code. */
export async function completeMfa(
  deps: SignInDependencies,
  pendingToken: string | undefined,
  proof: { code?: string | undefined; recoveryCode?: string | undefined },
  now: Date,
  context: RequestContext,
): Promise<{ user: SignedInUser; amr: string[]; mfaAt: Date }> {
  const { db } = deps;
  const pending =
    pendingToken === undefined
      ? undefined
      : await db
          .updateTable('one_time_tokens')
          .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
          .where('token_hash', '=', sha256Hex(pendingToken))
          .where('purpose', '=', 'mfa_pending')
          .where('used_at', 'is', null)
          .where('expires_at', '>', now)
          .where('attempts', '<', MFA_MAX_ATTEMPTS)
          .returning(['id', 'user_id', 'data'])
          .executeTakeFirst();
  // An enrolment pending state only opens the enrolment routes: its seed is not confirmed yet.
  if (!pending?.user_id || pending.data.enroll === true) {
    throw new HavenError('MFA_PENDING_EXPIRED');
  }
  const user = await db
    .selectFrom('users')
    .select(['id', 'email', 'display_name', 'roles', 'status', 'totp_secret_enc', 'totp_last_step'])
    .where('id', '=', pending.user_id)
    .executeTakeFirstOrThrow();
  let method: 'otp' | 'recovery' | undefined;
  if (proof.code !== undefined && user.totp_secret_enc) {
    const secret = openTotpSecret(deps.ring, user.id, user.totp_secret_enc);
    const lastStep = user.totp_last_step === null ? null : BigInt(user.totp_last_step);
    const result = verifyTotp({ secret, code: proof.code, lastStep, now: now.getTime() });
    if (result.ok && (await consumeTotpStep(db, user.id, result.step))) method = 'otp';
  } else if (
    proof.recoveryCode !== undefined &&
    (await consumeRecoveryCode(db, user.id, proof.recoveryCode))
  ) {
    method = 'recovery';
  }
  if (method === undefined || user.status !== 'active') {
    await recordAudit(db, {
      actor: { type: 'user', id: user.id },
      action: 'auth.mfa',
      outcome: 'failure',
      ...context,
    });
    throw new HavenError('MFA_INVALID');
  }
  await db
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('id', '=', pending.id)
    .execute();
  await recordAudit(db, {
    actor: { type: 'user', id: user.id },
    action: 'auth.mfa',
    outcome: 'success',
    details: { method },
    ...context,
  });
  return { user: toUser(user), amr: ['pwd', method === 'otp' ? 'otp' : 'mfa'], mfaAt: now };
}
