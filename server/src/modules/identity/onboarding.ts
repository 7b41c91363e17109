// Onboarding (A11, A2): admin invitations by emailed single-use link, and optional self sign-up
// with email verification. Links carry the token in the URL fragment, so it never reaches
// server logs or a Referer header; the database holds only its hash (one-time-tokens.ts).
import type { Kysely } from 'kysely';
import type { DatabaseSchema, Role } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { normalizeEmail } from './login-throttle.js';
import {
  LINK_LIFETIMES_MS,
  consumeOneTimeToken,
  issueOneTimeToken,
  peekOneTimeToken,
  voidOneTimeTokens,
} from './one-time-tokens.js';
import { checkPasswordPolicy, hashPassword } from './passwords.js';
import { requiresMfa } from './roles.js';
import type { IdentityContext } from './session-kit.js';
import type { RequestContext, SignedInUser } from './sign-in.js';

type Db = Kysely<DatabaseSchema>;

/**
 * How long an onboarding "password set, now enrol MFA" state lives. Longer than the 5 minutes
 * of a sign-in MFA step: a new user may first have to install an authenticator app.
 */
export const ENROLLMENT_PENDING_SECONDS = 15 * 60;

/** The server-side pending state (A9) that only the enrolment routes accept. */
export async function issueEnrollmentPending(
  db: Db,
  userId: string,
  now: Date,
  context: RequestContext,
): Promise<string> {
  const { token } = await issueOneTimeToken(db, {
    purpose: 'mfa_pending',
    userId,
    data: { enroll: true, client_address: context.clientAddress },
    lifetimeMs: ENROLLMENT_PENDING_SECONDS * 1000,
    now,
  });
  return token;
}

/** A2: refuses a password with 400 PASSWORD_REJECTED, judged with the user's own details. */
export async function assertPasswordAllowed(
  ctx: IdentityContext,
  password: string,
  owner: { email: string; displayName: string },
): Promise<void> {
  const verdict = await checkPasswordPolicy(password, owner, ctx.passwordPolicy);
  if (!verdict.ok) {
    throw new HavenError('PASSWORD_REJECTED', verdict.message, {
      errors: [{ field: 'password', message: verdict.message }],
    });
  }
}

const link = (ctx: IdentityContext, page: string, token: string): string =>
  `${ctx.config.publicOrigin}/${page}#token=${token}`;

const toSignedInUser = (row: {
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

// ---------------------------------------------------------------------------------------------
// Invitations

export interface InviteInput extends RequestContext {
  readonly email: string;
  readonly role: Role;
  readonly displayName?: string | undefined;
  /** The inviting admin's user id. */
  readonly invitedBy: string;
  /** Audit action of the invitation; organization and portal invitations name their own. */
  readonly auditAction?: string;
  /**
   * Work that must commit or roll back with the invitation (an organization membership, a
   * patient record link). Runs after the user row exists, before the link is issued.
   */
  readonly withinTransaction?: (trx: Db, userId: string) => Promise<void>;
}

/** The placeholder name of an invitee the admin did not name (the column is NOT NULL). */
function placeholderName(email: string): string {
  return (email.split('@')[0] ?? '').slice(0, 100) || 'invited user';
}

/**
 * Issues an invitation token, voiding older ones: only the newest link works. The token data
 * records whether the admin named the invitee, so `inspect` can prefill only a real name.
 */
async function issueInvitation(
  trx: Db,
  userId: string,
  data: { role: Role; named: boolean },
  now: Date,
): Promise<{ token: string; expiresAt: Date }> {
  await voidOneTimeTokens(trx, 'invitation', userId, now);
  // An enrolment step begun from an older link must not finish on the reset account.
  await voidOneTimeTokens(trx, 'mfa_pending', userId, now);
  return issueOneTimeToken(trx, {
    purpose: 'invitation',
    userId,
    data,
    lifetimeMs: LINK_LIFETIMES_MS.invitation,
    now,
  });
}

async function sendInvitationMail(
  ctx: IdentityContext,
  to: string,
  token: string,
  expiresAt: Date,
): Promise<void> {
  await ctx.mailer.send({
    to,
    subject: 'You are invited to Haven',
    text:
      `You have been invited to Haven. Open this link to choose your password:\n\n` +
      `${link(ctx, 'invite', token)}\n\n` +
      `The link works once and expires at ${expiresAt.toISOString()}. ` +
      `If you did not expect this invitation, ignore this message.\n`,
  });
}

/**
 * A11: invites someone by email. Creates the user as 'invited' (no password) or refreshes an
 * invitation still pending; an active or disabled account with the email is a 409.
 */
export async function inviteUser(
  ctx: IdentityContext,
  input: InviteInput,
): Promise<{ userId: string; expiresAt: Date }> {
  const now = ctx.now();
  const email = input.email.trim();
  const given = input.displayName?.trim() ?? '';
  const named = given.length > 0;
  const displayName = named ? given : placeholderName(email);
  const issued = await ctx.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('users')
      .select(['id', 'status'])
      .where('email_normalized', '=', normalizeEmail(email))
      .forUpdate()
      .executeTakeFirst();
    if (existing && existing.status !== 'invited') {
      throw new HavenError('CONFLICT', 'A user with this email already exists.');
    }
    // A re-invitation starts over: any password or unconfirmed MFA seed set through an
    // earlier link is dropped, so only the newest link can define the credentials.
    const user = existing
      ? await trx
          .updateTable('users')
          .set({
            roles: [input.role],
            display_name: displayName,
            password_hash: null,
            totp_secret_enc: null,
            totp_enrolled_at: null,
            updated_at: now,
          })
          .where('id', '=', existing.id)
          .returning('id')
          .executeTakeFirstOrThrow()
      : await trx
          .insertInto('users')
          .values({
            email,
            email_normalized: normalizeEmail(email),
            display_name: displayName,
            roles: [input.role],
            status: 'invited',
          })
          .returning('id')
          .executeTakeFirstOrThrow();
    if (input.withinTransaction) await input.withinTransaction(trx, user.id);
    const token = await issueInvitation(trx, user.id, { role: input.role, named }, now);
    await recordAudit(trx, {
      actor: { type: 'user', id: input.invitedBy },
      action: input.auditAction ?? 'admin.user_invited',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      details: { role: input.role, reinvited: existing !== undefined },
      requestId: input.requestId,
      clientAddress: input.clientAddress,
    });
    return { userId: user.id, ...token };
  });
  // Sent after commit: a mail must never point at a token that was rolled back.
  await sendInvitationMail(ctx, email, issued.token, issued.expiresAt);
  return { userId: issued.userId, expiresAt: issued.expiresAt };
}

/** Sends a fresh invitation link; the old one stops working. 404 unless the user is invited. */
export async function resendInvitation(
  ctx: IdentityContext,
  input: RequestContext & { readonly userId: string; readonly invitedBy: string },
): Promise<{ expiresAt: Date }> {
  const now = ctx.now();
  const issued = await ctx.db.transaction().execute(async (trx) => {
    const user = await trx
      .selectFrom('users')
      .select(['id', 'email', 'roles', 'status'])
      .where('id', '=', input.userId)
      .forUpdate()
      .executeTakeFirst();
    if (!user) throw new HavenError('NOT_FOUND');
    if (user.status !== 'invited') {
      throw new HavenError('CONFLICT', 'This user has already accepted an invitation.');
    }
    const previous = await trx
      .selectFrom('one_time_tokens')
      .select('data')
      .where('user_id', '=', user.id)
      .where('purpose', '=', 'invitation')
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    const role = user.roles[0] ?? 'patient';
    const named = previous?.data.named === true;
    // Same reset as a re-invitation: the new link alone defines the credentials.
    await trx
      .updateTable('users')
      .set({ password_hash: null, totp_secret_enc: null, totp_enrolled_at: null, updated_at: now })
      .where('id', '=', user.id)
      .execute();
    const token = await issueInvitation(trx, user.id, { role, named }, now);
    await recordAudit(trx, {
      actor: { type: 'user', id: input.invitedBy },
      action: 'admin.invitation_resent',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      details: { role },
      requestId: input.requestId,
      clientAddress: input.clientAddress,
    });
    return { email: user.email, ...token };
  });
  await sendInvitationMail(ctx, issued.email, issued.token, issued.expiresAt);
  return { expiresAt: issued.expiresAt };
}

export interface InvitationView {
  email: string;
  role: Role;
  displayName: string | null;
  expiresAt: string;
}

/** Shows a live invitation without using it; unknown, used and expired answer the same 404. */
export async function inspectInvitation(
  ctx: IdentityContext,
  token: string,
): Promise<InvitationView> {
  const record = await peekOneTimeToken(ctx.db, 'invitation', token, ctx.now());
  const user = record?.userId
    ? await ctx.db
        .selectFrom('users')
        .select(['email', 'display_name', 'roles', 'status'])
        .where('id', '=', record.userId)
        .executeTakeFirst()
    : undefined;
  if (!record || !user || user.status !== 'invited') throw new HavenError('NOT_FOUND');
  return {
    email: user.email,
    role: user.roles[0] ?? 'patient',
    displayName: record.data.named === true ? user.display_name : null,
    expiresAt: record.expiresAt.toISOString(),
  };
}

export type OnboardingResult =
  | { readonly kind: 'session'; readonly user: SignedInUser }
  | { readonly kind: 'enroll'; readonly pendingToken: string };

/**
 * A11: accepts an invitation. The token is consumed in the same transaction that sets the
 * password, so two racing accepts cannot both succeed. Accepting proves the email. Roles that
 * require MFA stay 'invited' (no session) until enrolment is confirmed.
 */
export async function acceptInvitation(
  ctx: IdentityContext,
  input: { token: string; displayName: string; password: string },
  context: RequestContext,
): Promise<OnboardingResult> {
  const now = ctx.now();
  // Peek first so the policy can use the user's own email; a refused password keeps the link.
  const invitation = await inspectInvitation(ctx, input.token);
  const displayName = input.displayName.trim();
  await assertPasswordAllowed(ctx, input.password, { email: invitation.email, displayName });
  const passwordHash = await hashPassword(input.password, ctx.hashing);
  return ctx.db.transaction().execute(async (trx) => {
    const record = await consumeOneTimeToken(trx, 'invitation', input.token, now);
    if (!record?.userId) throw new HavenError('NOT_FOUND');
    const current = await trx
      .selectFrom('users')
      .select(['roles', 'status'])
      .where('id', '=', record.userId)
      .forUpdate()
      .executeTakeFirst();
    if (!current || current.status !== 'invited') throw new HavenError('NOT_FOUND');
    const mfa = requiresMfa(current.roles, ctx.mfaRequiredRoles);
    const user = await trx
      .updateTable('users')
      .set({
        password_hash: passwordHash,
        display_name: displayName,
        status: mfa ? 'invited' : 'active',
        updated_at: now,
      })
      .where('id', '=', record.userId)
      .returning(['id', 'email', 'display_name', 'roles'])
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      actor: { type: 'user', id: user.id },
      action: 'auth.invitation_accepted',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      details: { next: mfa ? 'mfa_enrollment' : 'session' },
      ...context,
    });
    if (!mfa) return { kind: 'session' as const, user: toSignedInUser(user) };
    return {
      kind: 'enroll' as const,
      pendingToken: await issueEnrollmentPending(trx, user.id, now, context),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Self sign-up (off unless HAVEN_SELF_SIGNUP=true)

export function assertSelfSignupEnabled(ctx: IdentityContext): void {
  if (!ctx.config.identity.selfSignup) throw new HavenError('NOT_FOUND');
}

/**
 * Registers a patient pending email verification. A taken email gets the same answer and
 * costs the same argon2id hash and one mail (telling the owner they already have an account),
 * so neither the response nor its timing reveals who is registered.
 */
export async function signUp(
  ctx: IdentityContext,
  input: { email: string; displayName: string; password: string },
  context: RequestContext,
): Promise<void> {
  assertSelfSignupEnabled(ctx);
  const now = ctx.now();
  const email = input.email.trim();
  const displayName = input.displayName.trim();
  await assertPasswordAllowed(ctx, input.password, { email, displayName });
  const passwordHash = await hashPassword(input.password, ctx.hashing);
  const created = await ctx.db.transaction().execute(async (trx) => {
    const user = await trx
      .insertInto('users')
      .values({
        email,
        email_normalized: normalizeEmail(email),
        display_name: displayName,
        roles: ['patient'],
        status: 'invited',
        password_hash: passwordHash,
      })
      .onConflict((oc) => oc.column('email_normalized').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!user) {
      await recordAudit(trx, {
        actor: { type: 'anonymous' },
        action: 'auth.signup',
        outcome: 'denied',
        details: { reason: 'email_taken' },
        ...context,
      });
      return undefined;
    }
    const issued = await issueOneTimeToken(trx, {
      purpose: 'email_verification',
      userId: user.id,
      // Marks the token as a sign-up verification, not an email-change confirmation.
      data: { kind: 'signup' },
      lifetimeMs: LINK_LIFETIMES_MS.email_verification,
      now,
    });
    await recordAudit(trx, {
      actor: { type: 'anonymous' },
      action: 'auth.signup',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      ...context,
    });
    return issued;
  });
  await ctx.mailer.send(
    created
      ? {
          to: email,
          subject: 'Confirm your email for Haven',
          text:
            `Open this link to confirm your email and activate your Haven account:\n\n` +
            `${link(ctx, 'verify-email', created.token)}\n\n` +
            `The link works once and expires at ${created.expiresAt.toISOString()}. ` +
            `If you did not sign up, ignore this message.\n`,
        }
      : {
          to: email,
          subject: 'Your Haven account',
          text:
            `Someone tried to sign up for Haven with this email, but you already have an ` +
            `account. Sign in at ${ctx.config.publicOrigin}/ or reset your password there. ` +
            `If this was not you, ignore this message.\n`,
        },
  );
}

/** Activates a self-registered account from its verification link (proves the email). */
export async function verifySignup(
  ctx: IdentityContext,
  token: string,
  context: RequestContext,
): Promise<void> {
  assertSelfSignupEnabled(ctx);
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const record = await consumeOneTimeToken(trx, 'email_verification', token, now);
    // Throwing rolls the consume back, so an email-change token presented here stays usable.
    if (!record?.userId || record.data.kind !== 'signup') throw new HavenError('NOT_FOUND');
    const user = await trx
      .updateTable('users')
      .set({ status: 'active', updated_at: now })
      .where('id', '=', record.userId)
      .where('status', '=', 'invited')
      .returning('id')
      .executeTakeFirst();
    if (!user) throw new HavenError('NOT_FOUND');
    await recordAudit(trx, {
      actor: { type: 'user', id: user.id },
      action: 'auth.email_verified',
      target: { type: 'user', id: user.id },
      outcome: 'success',
      details: { reason: 'signup' },
      ...context,
    });
  });
}
