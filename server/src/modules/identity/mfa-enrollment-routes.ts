// A9: TOTP enrolment. Two entrances with one procedure: after onboarding or sign-in (a pending
// cookie marked `enroll`, no session yet) and from a signed-in session (optional MFA). The seed
// is stored sealed but unconfirmed (totp_enrolled_at NULL) until a code proves the app has it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { PUBLIC, requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { sha256Hex } from '../../platform/crypto.js';
import { MFA_PENDING_COOKIE, clearCookie, readCookie } from './browser-credentials.js';
import { peekOneTimeToken } from './one-time-tokens.js';
import { generateRecoveryCodes, replaceRecoveryCodes } from './recovery-codes.js';
import {
  SignedIn,
  createSessionKit,
  requireSameSite,
  type IdentityContext,
} from './session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import type { RequestContext, SignedInUser } from './sign-in.js';
import {
  consumeTotpStep,
  generateTotpSecret,
  openTotpSecret,
  sealTotpSecret,
  totpQrSvg,
  totpUri,
  verifyTotp,
} from './totp.js';

/** Wrong codes allowed per pending state before the user must start over (as at sign-in). */
const MAX_ATTEMPTS = 5;

const Empty = Type.Object({}, { additionalProperties: false });
const CodeBody = Type.Object(
  { code: Type.String({ pattern: '^[0-9]{6}$', maxLength: 6 }) },
  { additionalProperties: false },
);
const EnrollmentSecret = Type.Object(
  {
    secret: Type.String({ maxLength: 64 }),
    otpauthUri: Type.String({ maxLength: 1024 }),
    qrSvg: Type.String({ maxLength: 200_000 }),
  },
  { additionalProperties: false },
);
const RecoveryCodes = Type.Array(Type.String({ maxLength: 11 }), { minItems: 10, maxItems: 10 });
const SignedInWithCodes = Type.Object(
  { ...SignedIn.properties, recoveryCodes: RecoveryCodes },
  { additionalProperties: false },
);

/** Generates and stores a fresh unconfirmed seed; 409 when TOTP is already enrolled. */
async function startEnrollment(ctx: IdentityContext, userId: string, context: RequestContext) {
  const user = await ctx.db
    .selectFrom('users')
    .select(['email', 'totp_enrolled_at'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!user) throw new HavenError('MFA_PENDING_EXPIRED');
  if (user.totp_enrolled_at !== null) {
    throw new HavenError('CONFLICT', 'MFA is already enrolled; disable it first to re-enrol.');
  }
  const secret = generateTotpSecret();
  await ctx.db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('users')
      .set({ totp_secret_enc: sealTotpSecret(ctx.ring, userId, secret), updated_at: ctx.now() })
      .where('id', '=', userId)
      .where('totp_enrolled_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!updated) throw new HavenError('CONFLICT', 'MFA is already enrolled.');
    await recordAudit(trx, {
      actor: { type: 'user', id: userId },
      action: 'auth.mfa_enrollment_started',
      target: { type: 'user', id: userId },
      outcome: 'success',
      ...context,
    });
  });
  const otpauthUri = totpUri({ secret, accountName: user.email, issuer: 'Haven' });
  return { secret, otpauthUri, qrSvg: await totpQrSvg(otpauthUri) };
}

/** Checks a code against the unconfirmed seed and spends its step, so it cannot be reused. */
async function proveCode(
  ctx: IdentityContext,
  userId: string,
  code: string,
  context: RequestContext,
): Promise<void> {
  const user = await ctx.db
    .selectFrom('users')
    .select(['totp_secret_enc', 'totp_enrolled_at', 'totp_last_step'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (user && user.totp_enrolled_at !== null) {
    throw new HavenError('CONFLICT', 'MFA is already enrolled.');
  }
  let ok = false;
  if (user?.totp_secret_enc) {
    const result = verifyTotp({
      secret: openTotpSecret(ctx.ring, userId, user.totp_secret_enc),
      code,
      lastStep: user.totp_last_step === null ? null : BigInt(user.totp_last_step),
      now: ctx.now().getTime(),
    });
    ok = result.ok && (await consumeTotpStep(ctx.db, userId, result.step));
  }
  if (!ok) {
    await recordAudit(ctx.db, {
      actor: { type: 'user', id: userId },
      action: 'auth.mfa_enrolled',
      target: { type: 'user', id: userId },
      outcome: 'failure',
      ...context,
    });
    throw new HavenError('MFA_INVALID');
  }
}

/**
 * Marks TOTP enrolled (and an invited user active) with its audit event; `pendingId`, when
 * given, is spent in the same transaction so two confirmations cannot both finish.
 */
async function finishEnrollment(
  ctx: IdentityContext,
  userId: string,
  pendingId: string | undefined,
  context: RequestContext,
): Promise<{ user: SignedInUser; recoveryCodes: string[] }> {
  const now = ctx.now();
  const recoveryCodes = generateRecoveryCodes();
  const user = await ctx.db.transaction().execute(async (trx) => {
    if (pendingId !== undefined) {
      const spent = await trx
        .updateTable('one_time_tokens')
        .set({ used_at: now })
        .where('id', '=', pendingId)
        .where('used_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!spent) throw new HavenError('MFA_PENDING_EXPIRED');
    }
    // Only a user who has set a password (onboarding) or is already active may become active.
    const row = await trx
      .updateTable('users')
      .set({ totp_enrolled_at: now, status: 'active', updated_at: now })
      .where('id', '=', userId)
      .where('totp_enrolled_at', 'is', null)
      .where('status', 'in', ['invited', 'active'])
      .where('password_hash', 'is not', null)
      .returning(['id', 'email', 'display_name', 'roles'])
      .executeTakeFirst();
    if (!row) {
      throw new HavenError('CONFLICT', 'MFA is already enrolled, or the account is unavailable.');
    }
    await recordAudit(trx, {
      actor: { type: 'user', id: userId },
      action: 'auth.mfa_enrolled',
      target: { type: 'user', id: userId },
      outcome: 'success',
      details: { method: 'totp' },
      ...context,
    });
    await replaceRecoveryCodes(trx, userId, recoveryCodes);
    return row;
  });
  return {
    user: { id: user.id, email: user.email, displayName: user.display_name, roles: user.roles },
    recoveryCodes,
  };
}

/** The pending state for enrolment, without spending an attempt (starting costs nothing). */
async function pendingUserId(ctx: IdentityContext, request: FastifyRequest): Promise<string> {
  const token = readCookie(request, MFA_PENDING_COOKIE);
  const record = token
    ? await peekOneTimeToken(ctx.db, 'mfa_pending', token, ctx.now())
    : undefined;
  if (!record?.userId || record.data.enroll !== true) throw new HavenError('MFA_PENDING_EXPIRED');
  return record.userId;
}

/** Counts a confirmation attempt against the pending state atomically (at most MAX_ATTEMPTS). */
async function countPendingAttempt(ctx: IdentityContext, request: FastifyRequest) {
  const token = readCookie(request, MFA_PENDING_COOKIE);
  const pending = token
    ? await ctx.db
        .updateTable('one_time_tokens')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('token_hash', '=', sha256Hex(token))
        .where('purpose', '=', 'mfa_pending')
        .where('used_at', 'is', null)
        .where('expires_at', '>', ctx.now())
        .where('attempts', '<', MAX_ATTEMPTS)
        .returning(['id', 'user_id', 'data'])
        .executeTakeFirst()
    : undefined;
  if (!pending?.user_id || pending.data.enroll !== true) {
    throw new HavenError('MFA_PENDING_EXPIRED');
  }
  return { id: pending.id, userId: pending.user_id };
}

export function registerMfaEnrollmentRoutes(app: FastifyInstance, ctx: IdentityContext): void {
  const { startSession } = createSessionKit(ctx);

  app.post(
    '/api/auth/mfa/enrollment',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      schema: { body: Empty, response: { 200: EnrollmentSecret } },
    },
    async (request) => {
      requireSameSite(request, ctx.allowedOrigins);
      return startEnrollment(ctx, await pendingUserId(ctx, request), requestContext(request));
    },
  );

  app.post(
    '/api/auth/mfa/enrollment/confirm',
    {
      config: { access: PUBLIC, rateClass: 'auth' },
      schema: { body: CodeBody, response: { 200: SignedInWithCodes } },
    },
    async (request, reply: FastifyReply) => {
      requireSameSite(request, ctx.allowedOrigins);
      const { code } = request.body as { code: string };
      const context = requestContext(request);
      const pending = await countPendingAttempt(ctx, request);
      await proveCode(ctx, pending.userId, code, context);
      const { user, recoveryCodes } = await finishEnrollment(
        ctx,
        pending.userId,
        pending.id,
        context,
      );
      clearCookie(reply, MFA_PENDING_COOKIE);
      const signedIn = await startSession(request, reply, user, ['pwd', 'otp'], ctx.now());
      return { ...signedIn, recoveryCodes };
    },
  );

  app.post(
    '/api/account/mfa/enrollment',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      schema: { body: Empty, response: { 200: EnrollmentSecret } },
    },
    async (request) =>
      startEnrollment(ctx, requirePrincipal(request).subject, requestContext(request)),
  );

  app.post(
    '/api/account/mfa/enrollment/confirm',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      schema: {
        body: CodeBody,
        response: {
          200: Type.Object({ recoveryCodes: RecoveryCodes }, { additionalProperties: false }),
        },
      },
    },
    async (request) => {
      const { subject } = requirePrincipal(request);
      const { code } = request.body as { code: string };
      const context = requestContext(request);
      await proveCode(ctx, subject, code, context);
      const { recoveryCodes } = await finishEnrollment(ctx, subject, undefined, context);
      return { recoveryCodes };
    },
  );
}
