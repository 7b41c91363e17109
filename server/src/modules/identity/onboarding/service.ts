// Invitations (A11, A2): admins invite by emailed single-use link; accepting sets the password
// and proves the email. Links carry the token in the URL fragment, so it never reaches server
// logs or a Referer header; the database holds only its hash (one-time-tokens-repo.ts).
import type { Kysely } from 'kysely';
import type { DatabaseSchema, OrganizationRole, Role } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import type { RequestContext } from '../../../platform/http/request-context.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { auditOwnAccount } from '../account-events.js';
import type { IdentityServices, IdentitySettings } from '../dependencies.js';
import { assertPasswordAllowed } from '../passwords/policy.js';
import { leadingOrganizationRole, personRoleLabel, requiresMfa } from '../roles.js';
import { invitationMail } from './invitation-mail.js';
import { cleanDisplayName, toSignedInUser, type SignedInUser } from '../users.js';
import {
  LINK_LIFETIMES_MS,
  consumeOneTimeToken,
  issueOneTimeToken,
  peekOneTimeToken,
  voidOneTimeTokens,
} from './one-time-tokens-repo.js';
import {
  findInvitee,
  insertInvitedUser,
  invitationNames,
  inviteeOrganizationRoles,
  latestInvitationData,
  lockAccountByEmail,
  lockInvitee,
  lockInviteeStatus,
  resetInvitee,
  setInviteePassword,
} from './repo.js';

type Db = Kysely<DatabaseSchema>;
type Context = ModuleContext<IdentitySettings>;

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

/** A link to a page of the SPA with the token in the fragment. */
export const linkTo = (context: Pick<Context, 'publicOrigin'>, page: string, token: string) =>
  `${context.publicOrigin}/${page}#token=${token}`;

export interface InviteInput extends RequestContext {
  readonly email: string;
  readonly role: Role;
  readonly displayName?: string | undefined;
  /** The inviting admin's user id. */
  readonly invitedBy: string;
  /**
   * The clinic the mail names, when the invitation is not to a membership (a patient's portal
   * invitation names the record's organization); otherwise the invitee's membership names it.
   */
  readonly organizationName?: string | undefined;
  /**
   * The study a participant is invited to: their mail names it with the organization that runs
   * the study (a participant joins a study, not an organization).
   */
  readonly studyTitle?: string | undefined;
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
 * The name an invitee is shown by until they choose one (V1): the inviter's name for them, or
 * the placeholder. Organizations name an invitation of an existing account the same way, so
 * an org admin's list cannot tell it from one that created an account.
 */
export function inviteeDisplayName(email: string, displayName: string | undefined): string {
  const given = displayName?.trim() ?? '';
  return given.length > 0 ? cleanDisplayName(given) : placeholderName(email.trim());
}

/**
 * Issues an invitation token, voiding older ones: only the newest link works. The token data
 * records whether the admin named the invitee, so `inspect` can prefill only a real name.
 */
async function issueInvitation(
  trx: Db,
  userId: string,
  data: { role: Role; named: boolean; organizationName?: string; studyTitle?: string },
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

/** What an invitation mail says: where its link goes, until when, as whom, from whom. */
interface InvitationMail {
  readonly to: string;
  readonly token: string;
  readonly expiresAt: Date;
  /** The invitee's account role and the role an organization gave them, if any. */
  readonly role: Role;
  readonly organizationRoles: readonly OrganizationRole[];
  readonly inviterName: string | null;
  readonly organizationName: string | null;
  readonly studyTitle: string | null;
}

async function sendInvitationMail(
  context: Pick<Context, 'mailer' | 'publicOrigin' | 'settings'>,
  mail: InvitationMail,
): Promise<void> {
  await context.mailer.send(
    invitationMail({
      to: mail.to,
      link: linkTo(context, 'invite', mail.token),
      expiresAt: mail.expiresAt,
      // The same words the SPA shows the person once signed in (personRoleLabel): an org admin
      // is invited as "Organization administrator", not by their account role 'clinician'.
      roleLabel: personRoleLabel([mail.role], leadingOrganizationRole(mail.organizationRoles)),
      patient: mail.role === 'patient',
      inviterName: mail.inviterName,
      organizationName: mail.organizationName,
      studyTitle: mail.studyTitle,
      timeZone: context.settings.mailTimeZone,
    }),
  );
}

const invitedMeanwhile = () =>
  new HavenError('CONFLICT', 'An account with this email was created meanwhile; please try again.');

/**
 * A11: invites someone by email. Creates the user as 'invited' (no password) or refreshes an
 * invitation still pending; an active or disabled account with the email is a 409.
 */
export async function inviteUser(
  context: Pick<Context, 'db' | 'mailer' | 'now' | 'publicOrigin' | 'settings'>,
  input: InviteInput,
): Promise<{ userId: string; expiresAt: Date }> {
  const now = context.now();
  const email = input.email.trim();
  const named = (input.displayName?.trim() ?? '').length > 0;
  const displayName = inviteeDisplayName(email, input.displayName);
  const issued = await context.db.transaction().execute(async (trx) => {
    const existing = await lockAccountByEmail(trx, email);
    if (existing && existing.status !== 'invited') {
      throw new HavenError('CONFLICT', 'A user with this email already exists.');
    }
    // A re-invitation starts over: any password or unconfirmed MFA seed set through an
    // earlier link is dropped, so only the newest link can define the credentials.
    if (existing) await resetInvitee(trx, existing.id, now, { role: input.role, displayName });
    // Two invitations of one new email at once: the unique email index stops the second insert,
    // which answers 409 (try again: it then re-invites the account the first created).
    const userId =
      existing?.id ??
      (await insertInvitedUser(trx, { email, displayName, role: input.role }).catch(
        onUniqueViolation(invitedMeanwhile),
      ));
    if (input.withinTransaction) await input.withinTransaction(trx, userId);
    // Read after that work: an organization invitation has just given its membership role.
    const organizationRoles = await inviteeOrganizationRoles(trx, userId);
    const names = await invitationNames(trx, input.invitedBy, userId);
    const organizationName = input.organizationName ?? names.organizationName;
    const studyTitle = input.studyTitle ?? null;
    const token = await issueInvitation(
      trx,
      userId,
      {
        role: input.role,
        named,
        ...(organizationName !== null && { organizationName }),
        ...(studyTitle !== null && { studyTitle }),
      },
      now,
    );
    await recordUserEvent(trx, input.invitedBy, input, {
      action: input.auditAction ?? 'admin.user_invited',
      target: { type: 'user', id: userId },
      details: { role: input.role, reinvited: existing !== undefined },
    });
    return {
      userId,
      organizationRoles,
      organizationName,
      studyTitle,
      inviterName: names.inviterName,
      ...token,
    };
  });
  // Sent after commit: a mail must never point at a token that was rolled back.
  await sendInvitationMail(context, {
    to: email,
    token: issued.token,
    expiresAt: issued.expiresAt,
    role: input.role,
    organizationRoles: issued.organizationRoles,
    inviterName: issued.inviterName,
    organizationName: issued.organizationName,
    studyTitle: issued.studyTitle,
  });
  return { userId: issued.userId, expiresAt: issued.expiresAt };
}

/** Sends a fresh invitation link; the old one stops working. 404 unless the user is invited. */
export async function resendInvitation(
  context: Pick<Context, 'db' | 'mailer' | 'now' | 'publicOrigin' | 'settings'>,
  input: RequestContext & { readonly userId: string; readonly invitedBy: string },
): Promise<{ expiresAt: Date }> {
  const now = context.now();
  const issued = await context.db.transaction().execute(async (trx) => {
    const user = await lockInvitee(trx, input.userId);
    if (!user) throw new HavenError('NOT_FOUND');
    if (user.status !== 'invited') {
      throw new HavenError('CONFLICT', 'This user has already accepted an invitation.');
    }
    const previous = await latestInvitationData(trx, user.id);
    const role = user.roles[0] ?? 'patient';
    const named = previous?.named === true;
    // Same reset as a re-invitation: the new link alone defines the credentials.
    await resetInvitee(trx, user.id, now);
    // The organization the first invitation named (a patient's clinic has no membership row).
    const names = await invitationNames(trx, input.invitedBy, user.id);
    const organizationName =
      typeof previous?.organizationName === 'string'
        ? previous.organizationName
        : names.organizationName;
    // A participant's new link still names the study of the first invitation.
    const studyTitle = typeof previous?.studyTitle === 'string' ? previous.studyTitle : null;
    const token = await issueInvitation(
      trx,
      user.id,
      {
        role,
        named,
        ...(organizationName !== null && { organizationName }),
        ...(studyTitle !== null && { studyTitle }),
      },
      now,
    );
    await recordUserEvent(trx, input.invitedBy, input, {
      action: 'admin.invitation_resent',
      target: { type: 'user', id: user.id },
      details: { role },
    });
    return {
      email: user.email,
      role,
      organizationRoles: user.organization_roles,
      organizationName,
      studyTitle,
      inviterName: names.inviterName,
      ...token,
    };
  });
  await sendInvitationMail(context, {
    to: issued.email,
    token: issued.token,
    expiresAt: issued.expiresAt,
    role: issued.role,
    organizationRoles: issued.organizationRoles,
    inviterName: issued.inviterName,
    organizationName: issued.organizationName,
    studyTitle: issued.studyTitle,
  });
  return { expiresAt: issued.expiresAt };
}

export interface InvitationView {
  email: string;
  role: Role;
  /** The role an organization gave the invitee (the one they are named by), if any. */
  organizationRole: OrganizationRole | null;
  displayName: string | null;
  expiresAt: string;
}

/** Shows a live invitation without using it; unknown, used and expired answer the same 404. */
export async function inspectInvitation(
  context: Pick<Context, 'db' | 'now'>,
  token: string,
): Promise<InvitationView> {
  const record = await peekOneTimeToken(context.db, 'invitation', token, context.now());
  const user = record?.userId ? await findInvitee(context.db, record.userId) : undefined;
  if (!record || !user || user.status !== 'invited') throw new HavenError('NOT_FOUND');
  return {
    email: user.email,
    role: user.roles[0] ?? 'patient',
    organizationRole: leadingOrganizationRole(user.organization_roles),
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
  context: Context,
  services: Pick<IdentityServices, 'hashing' | 'passwordPolicy'>,
  input: { token: string; displayName: string; password: string },
  request: RequestContext,
): Promise<OnboardingResult> {
  const now = context.now();
  // Peek first so the policy can use the user's own email; a refused password keeps the link.
  const invitation = await inspectInvitation(context, input.token);
  const displayName = cleanDisplayName(input.displayName);
  const owner = { email: invitation.email, displayName };
  await assertPasswordAllowed(services.passwordPolicy, input.password, owner);
  const passwordHash = await services.hashing.hash(input.password);
  return context.db.transaction().execute(async (trx) => {
    const record = await consumeOneTimeToken(trx, 'invitation', input.token, now);
    if (!record?.userId) throw new HavenError('NOT_FOUND');
    const current = await lockInviteeStatus(trx, record.userId);
    if (!current || current.status !== 'invited') throw new HavenError('NOT_FOUND');
    const mfa = requiresMfa(current.roles, context.settings.mfaRequiredRoles);
    const values = { passwordHash, displayName, active: !mfa, now };
    const user = await setInviteePassword(trx, record.userId, values);
    await auditOwnAccount(trx, user.id, request, {
      action: 'auth.invitation_accepted',
      details: { next: mfa ? 'mfa_enrollment' : 'session' },
    });
    if (!mfa) return { kind: 'session' as const, user: toSignedInUser(user) };
    return {
      kind: 'enroll' as const,
      pendingToken: await issueEnrollmentPending(trx, user.id, now, request),
    };
  });
}
