// A9: TOTP enrolment. Two entrances with one procedure: after onboarding or sign-in (a pending
// token marked `enroll`, no session yet) and from a signed-in session (optional MFA). The seed
// is stored sealed but unconfirmed (totp_enrolled_at NULL) until a code proves the app has it.
import { HavenError } from '../../../platform/errors.js';
import type { KeyRing } from '../../../platform/crypto.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { auditOwnAccount } from '../account-events.js';
import type { IdentitySettings } from '../dependencies.js';
import {
  countOneTimeAttempt,
  peekOneTimeToken,
  useOneTimeTokenById,
} from '../onboarding/one-time-tokens-repo.js';
import { toSignedInUser, type SignedInUser } from '../users.js';
import { generateRecoveryCodes, replaceRecoveryCodes } from './recovery-codes.js';
import {
  confirmEnrollment,
  consumeTotpStep,
  findMfaState,
  findUnconfirmedSeed,
  storeUnconfirmedSeed,
} from './repo.js';
import {
  generateTotpSecret,
  openTotpSecret,
  sealTotpSecret,
  totpQrSvg,
  totpUri,
  verifyTotp,
} from './totp.js';

type Context = ModuleContext<IdentitySettings>;

/** Wrong codes allowed per pending state before the user must start over (as at sign-in). */
const MAX_ATTEMPTS = 5;

export interface EnrollmentSecret {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

/** Generates and stores a fresh unconfirmed seed; 409 when TOTP is already enrolled. */
export async function startEnrollment(
  context: Context,
  ring: KeyRing,
  userId: string,
  request: RequestContext,
): Promise<EnrollmentSecret> {
  const user = await findMfaState(context.db, userId);
  if (!user) throw new HavenError('MFA_PENDING_EXPIRED');
  if (user.totp_enrolled_at !== null) {
    throw new HavenError('CONFLICT', 'MFA is already enrolled; disable it first to re-enrol.');
  }
  const secret = generateTotpSecret();
  await context.db.transaction().execute(async (trx) => {
    const sealed = sealTotpSecret(ring, userId, secret);
    if (!(await storeUnconfirmedSeed(trx, userId, sealed, context.now()))) {
      throw new HavenError('CONFLICT', 'MFA is already enrolled.');
    }
    await auditOwnAccount(trx, userId, request, { action: 'auth.mfa_enrollment_started' });
  });
  const otpauthUri = totpUri({ secret, accountName: user.email, issuer: 'Haven' });
  return { secret, otpauthUri, qrSvg: await totpQrSvg(otpauthUri) };
}

/** Checks a code against the unconfirmed seed and spends its step, so it cannot be reused. */
export async function proveCode(
  context: Context,
  ring: KeyRing,
  userId: string,
  code: string,
  request: RequestContext,
): Promise<void> {
  const user = await findUnconfirmedSeed(context.db, userId);
  if (user && user.totp_enrolled_at !== null) {
    throw new HavenError('CONFLICT', 'MFA is already enrolled.');
  }
  let ok = false;
  if (user?.totp_secret_enc) {
    const result = verifyTotp({
      secret: openTotpSecret(ring, userId, user.totp_secret_enc),
      code,
      lastStep: user.totp_last_step === null ? null : BigInt(user.totp_last_step),
      now: context.now().getTime(),
    });
    ok = result.ok && (await consumeTotpStep(context.db, userId, result.step));
  }
  if (!ok) {
    await auditOwnAccount(context.db, userId, request, {
      action: 'auth.mfa_enrolled',
      outcome: 'failure',
    });
    throw new HavenError('MFA_INVALID');
  }
}

/**
 * Marks TOTP enrolled (and an invited user active) with its audit event and fresh recovery
 * codes; `pendingId`, when given, is spent in the same transaction so two confirmations cannot
 * both finish.
 */
export async function finishEnrollment(
  context: Context,
  userId: string,
  pendingId: string | undefined,
  request: RequestContext,
): Promise<{ user: SignedInUser; recoveryCodes: string[] }> {
  const now = context.now();
  const recoveryCodes = generateRecoveryCodes();
  const user = await context.db.transaction().execute(async (trx) => {
    if (pendingId !== undefined && !(await useOneTimeTokenById(trx, pendingId, now))) {
      throw new HavenError('MFA_PENDING_EXPIRED');
    }
    const row = await confirmEnrollment(trx, userId, now);
    if (!row) {
      throw new HavenError('CONFLICT', 'MFA is already enrolled, or the account is unavailable.');
    }
    await auditOwnAccount(trx, userId, request, {
      action: 'auth.mfa_enrolled',
      details: { method: 'totp' },
    });
    await replaceRecoveryCodes(trx, userId, recoveryCodes);
    return row;
  });
  return { user: toSignedInUser(user), recoveryCodes };
}

/** The user of an enrolment pending state, without spending an attempt (starting is free). */
export async function pendingEnrolleeId(context: Context, token: string | undefined) {
  const record = token
    ? await peekOneTimeToken(context.db, 'mfa_pending', token, context.now())
    : undefined;
  if (!record?.userId || record.data.enroll !== true) throw new HavenError('MFA_PENDING_EXPIRED');
  return record.userId;
}

/** Counts a confirmation attempt against the pending state atomically (at most MAX_ATTEMPTS). */
export async function countEnrollmentAttempt(context: Context, token: string | undefined) {
  const pending = token
    ? await countOneTimeAttempt(context.db, 'mfa_pending', token, context.now(), MAX_ATTEMPTS)
    : undefined;
  if (!pending?.user_id || pending.data.enroll !== true) {
    throw new HavenError('MFA_PENDING_EXPIRED');
  }
  return { id: pending.id, userId: pending.user_id };
}
