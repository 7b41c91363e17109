// The signed-in user's second factor: step-up (A9: a fresh TOTP check that sensitive routes
// demand within the last 5 minutes) and MFA settings (A9, Z5: status, new recovery codes,
// turning MFA off where the role allows).
import { HavenError } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit/audit.js';
import type { KeyRing } from '../../../platform/crypto.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { auditOwnAccount } from '../account-events.js';
import type { IdentitySettings } from '../dependencies.js';
import { requiresMfa } from '../roles.js';
import { toSignedInUser, type SignedInUser } from '../users.js';
import { admitMfaAttempt, clearMfaFailures } from './mfa-throttle.js';
import { generateRecoveryCodes, replaceRecoveryCodes } from './recovery-codes.js';
import {
  clearTotp,
  consumeTotpStep,
  deleteRecoveryCodes,
  findLiveSession,
  findMfaState,
  findTotpAccount,
  lockAccountRoles,
  recordSessionMfa,
  remainingRecoveryCodes,
} from './repo.js';
import { openTotpSecret, verifyTotp } from './totp.js';

type Context = ModuleContext<IdentitySettings>;

export interface SteppedUp {
  readonly user: SignedInUser;
  readonly mfaAt: Date;
  readonly session: Awaited<ReturnType<typeof recordSessionMfa>>;
}

/** Verifies a TOTP code for the caller's session and records the MFA time on it. */
export async function stepUp(
  context: Context,
  ring: KeyRing,
  caller: { userId: string; sessionId: string; code: string },
  request: RequestContext,
): Promise<SteppedUp> {
  const { db } = context;
  const { userId, sessionId } = caller;
  const now = context.now();
  const attempt = {
    actor: { type: 'user' as const, id: userId },
    action: 'auth.step_up',
    target: { type: 'session', id: sessionId },
    ...request,
  };
  const user = await findTotpAccount(db, userId);
  if (!user || user.status !== 'active') throw new HavenError('UNAUTHENTICATED');
  if (!user.totp_secret_enc) throw new HavenError('CONFLICT', 'Set up an authenticator app first.');
  // Step-up guesses and sign-in MFA guesses share the account's one count (mfa-throttle.ts).
  const backoffMs = await admitMfaAttempt(db, userId, now, attempt);
  const checked = verifyTotp({
    secret: openTotpSecret(ring, user.id, user.totp_secret_enc),
    code: caller.code,
    lastStep: user.totp_last_step === null ? null : BigInt(user.totp_last_step),
    now: now.getTime(),
  });
  const session = await db.transaction().execute(async (trx) => {
    // Winning the step is what makes the code single-use across nodes.
    if (!checked.ok || !(await consumeTotpStep(trx, user.id, checked.step))) return undefined;
    const current = await findLiveSession(trx, user.id, sessionId, now);
    if (!current) throw new HavenError('SESSION_EXPIRED');
    const updated = await recordSessionMfa(trx, sessionId, now, [
      ...new Set([...current.amr, 'otp']),
    ]);
    await recordAudit(trx, { ...attempt, outcome: 'success' });
    return updated;
  });
  if (!session) {
    await recordAudit(db, { ...attempt, outcome: 'failure', details: { backoff_ms: backoffMs } });
    throw new HavenError('MFA_INVALID');
  }
  await clearMfaFailures(db, userId);
  return { user: toSignedInUser(user), mfaAt: now, session };
}

export async function mfaStatus(context: Context, userId: string) {
  const user = await findMfaState(context.db, userId);
  if (!user) throw new HavenError('UNAUTHENTICATED');
  return {
    enrolled: user.totp_enrolled_at !== null,
    required: requiresMfa(user.roles, context.settings.mfaRequiredRoles),
    recoveryCodesRemaining: await remainingRecoveryCodes(context.db, userId),
  };
}

/** New recovery codes; the old ones stop working. 409 without an enrolled authenticator. */
export async function regenerateRecoveryCodes(
  context: Context,
  userId: string,
  request: RequestContext,
): Promise<string[]> {
  const user = await findMfaState(context.db, userId);
  if (!user) throw new HavenError('UNAUTHENTICATED');
  if (user.totp_enrolled_at === null) {
    throw new HavenError('CONFLICT', 'Set up an authenticator app first.');
  }
  const recoveryCodes = generateRecoveryCodes();
  await context.db.transaction().execute(async (trx) => {
    await replaceRecoveryCodes(trx, user.id, recoveryCodes);
    await auditOwnAccount(trx, user.id, request, {
      action: 'account.recovery_codes_regenerated',
      details: { count: recoveryCodes.length },
    });
  });
  return recoveryCodes;
}

/** Turns MFA off, unless one of the account's roles requires it. */
export async function disableMfa(
  context: Context,
  userId: string,
  request: RequestContext,
): Promise<void> {
  await context.db.transaction().execute(async (trx) => {
    // Locked so a concurrent role change cannot slip an MFA-required role in between.
    const user = await lockAccountRoles(trx, userId);
    if (!user) throw new HavenError('UNAUTHENTICATED');
    if (requiresMfa(user.roles, context.settings.mfaRequiredRoles)) {
      throw new HavenError('CONFLICT', 'Your role requires MFA, so it cannot be turned off.');
    }
    await clearTotp(trx, user.id, context.now());
    await deleteRecoveryCodes(trx, user.id);
    await auditOwnAccount(trx, user.id, request, { action: 'account.mfa_disabled' });
  });
}
