// The portal invitation (A11, Z4): links a patient record to a portal account. An email with no
// account: identity invites a new patient account and the link commits (or not) with that
// invitation. An email that has an account, whatever it is: that account is invited to see the
// record, and the record is linked only when its owner accepts, signed in, and only if the
// account may hold it (an active patient-only account not linked to another record). The
// clinician's answer is 'invited' either way, so inviting a patient is no way to learn whether
// an address has a Haven account, or that its owner is a patient of another clinic.
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../../../platform/errors.js';
import { auditPhi, requireUser, type PatientAccess } from '../../../platform/access/index.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { isUniqueViolation } from '../../../platform/db/sql-text.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import {
  answerability,
  inviteeAccount,
  noSuchInvitation,
  type InviteeAccount,
} from '../../../platform/invitation-answers.js';
import { INVITATION_LINK_LIFETIME_MS, type IdentityApi } from '../../identity/index.js';
import type { Db } from '../records/repo.js';
import { onPatient } from '../records/service.js';
import {
  createdInThisTransaction,
  lockAccountByEmail,
  lockAccountById,
} from '../../organizations/index.js';
import {
  deleteOwnPortalInvitation,
  deletePortalInvitation,
  hasPortalInvitation,
  insertPortalInvitation,
  isAccountLinked,
  linkPortalAccount,
  listOwnPortalInvitations,
  lockOwnPortalInvitation,
  organizationName,
  patientDisplayName,
} from './repo.js';
import type { OwnPortalInvitationView } from './schemas.js';

const alreadyLinked = () =>
  new HavenError('CONFLICT', 'This patient record is already linked to a portal account.');
// Only a race reaches it: another invitation of the record, or an account with this email
// created, at the same moment. It says nothing about any account.
const raced = () =>
  new HavenError(
    'CONFLICT',
    'The record was changed at the same moment (another invitation, perhaps); look at it again.',
  );

/** Who links which record: the staff access requireAccess allowed, and its request. */
interface Inviter {
  readonly request: FastifyRequest;
  readonly access: PatientAccess;
}

/** Links the record to `userId` unless it (or the account) is linked already; audited. */
async function link(trx: Db, inviter: Inviter, userId: string) {
  const { organizationId, patientId } = inviter.access;
  if (!(await linkPortalAccount(trx, organizationId, patientId, userId))) throw alreadyLinked();
  await auditPhi(trx, inviter.request, { action: 'patient.portal_invited', patientId });
}

/**
 * Invites the existing account with this email to see the record, whatever the account is.
 * Answers the access the record was reached with, and the address to tell (none when no
 * account has the email). A record already linked, or with an invitation, is a 409 alike.
 */
async function inviteExistingAccount(
  db: Db,
  identity: IdentityApi,
  request: FastifyRequest,
  patientId: string,
  email: string,
): Promise<{ inviter: Inviter; tell: string | null }> {
  return onPatient(db, request, patientId, 'write', async (trx, patient, access) => {
    const inviter = { request, access };
    if (patient.portal_user_id !== null) throw alreadyLinked();
    if (await hasPortalInvitation(trx, patientId)) throw alreadyLinked();
    const account = await lockAccountByEmail(trx, identity.normalizeEmail(email));
    if (!account) return { inviter, tell: null };
    // A11, Z4: nothing about the account decides what happens or what is answered; whether it
    // may hold the record is decided when its owner accepts, and told only to them.
    await insertPortalInvitation(trx, {
      organizationId: access.organizationId,
      patientId,
      userId: account.id,
      invitedBy: access.userId,
      accountWasActive: account.status === 'active',
    });
    await auditPhi(trx, request, { action: 'patient.portal_invited', patientId });
    return { inviter, tell: account.email };
  });
}

/** The mail an invited existing account gets: no clinic or patient name (mail is not private). */
function invitationNotice(origin: string): { subject: string; text: string } {
  return {
    subject: 'You were invited to see a patient record in Haven',
    text:
      `A clinic invited you to see the record it keeps about you in Haven. Sign in at ` +
      `${origin}/ within ${INVITATION_LINK_LIFETIME_MS / 86_400_000} days to accept or ` +
      `decline it.\n\nIf you did not expect this, decline it or let it expire.\n`,
  };
}

/** Invites the patient to the portal: a new account, or the existing one to accept. */
export async function invitePatientToPortal(
  ctx: ModuleContext,
  identity: IdentityApi,
  request: FastifyRequest,
  patientId: string,
  email: string,
): Promise<'invited'> {
  const db = ctx.db;
  try {
    const existing = await inviteExistingAccount(db, identity, request, patientId, email);
    if (existing.tell !== null) {
      await tellInvitee(ctx, request, existing.tell);
      return 'invited';
    }
    // No account with this email: invite one; the link commits (or not) with the invitation.
    // The mail names the clinic keeping the record (a patient has no membership to name it).
    await identity.inviteUser({
      email,
      role: 'patient',
      displayName: await patientDisplayName(db, existing.inviter.access.patientId),
      invitedBy: existing.inviter.access.userId,
      organizationName: await organizationName(db, existing.inviter.access.organizationId),
      auditAction: 'portal.user_invited',
      withinTransaction: async (trx, userId) => {
        // Only an account created by this very transaction: had another one with this email
        // appeared since the check above, inviteUser would have re-invited it as a patient,
        // which must not stand.
        if (!(await createdInThisTransaction(trx, userId))) throw raced();
        await link(trx, existing.inviter, userId);
      },
      ...requestContext(request),
    });
    return 'invited';
  } catch (error) {
    // Two invitations of the record at once (UNIQUE patient_id of portal_invitations).
    if (isUniqueViolation(error)) throw raced();
    throw error;
  }
}

/** Tells an invited existing account by mail, after commit; a failed mail fails nothing. */
async function tellInvitee(ctx: ModuleContext, request: FastifyRequest, to: string) {
  try {
    await ctx.mailer.send({ to, ...invitationNotice(ctx.publicOrigin) });
  } catch (error) {
    request.log.error(
      { mailError: error instanceof Error ? error.name : 'unknown' },
      'mail delivery failed',
    );
  }
}

/**
 * Why the account cannot accept the invitation, in words for its owner; null when it can. Only
 * an active patient-only account that shows no other record, and only when it was active when
 * invited: a pending self sign-up holds a password chosen by whoever typed the address in, so
 * an invitation it got then would hand the record to them once the owner confirms the address.
 */
async function whyNot(
  db: Db,
  userId: string,
  account: InviteeAccount,
  invitation: { account_was_active: boolean },
): Promise<string | null> {
  if (!invitation.account_was_active) {
    return 'This invitation reached your address before your account was confirmed, so it cannot be accepted. Ask the clinic to invite you again, or decline it.';
  }
  const patientOnly = account.roles.length > 0 && account.roles.every((r) => r === 'patient');
  if (!patientOnly || account.status !== 'active') {
    return 'Your account cannot see a patient record: only a patient account can. Ask the clinic to invite another address, or decline the invitation.';
  }
  if (await isAccountLinked(db, userId)) {
    return 'Your account already shows a patient record, and one account shows one record. Ask the clinic to invite another address, or decline the invitation.';
  }
  return null;
}

/** The caller's open invitations to see a record, each with whether their account may accept. */
export async function listOwnPortalInvitationViews(
  ctx: ModuleContext,
  request: FastifyRequest,
): Promise<OwnPortalInvitationView[]> {
  const { userId } = requireUser(request);
  const rows = await listOwnPortalInvitations(ctx.db, userId);
  if (rows.length === 0) return [];
  const account = await inviteeAccount(ctx.db, userId);
  const views: OwnPortalInvitationView[] = [];
  for (const row of rows) {
    views.push({
      id: row.id,
      organizationName: row.organization_name,
      invitedAt: row.created_at.toISOString(),
      expiresAt: row.expires_at.toISOString(),
      ...answerability(await whyNot(ctx.db, userId, account, row)),
    });
  }
  return views;
}

/**
 * The invitee accepts: the record is linked to their account in the same transaction that ends
 * the invitation. Only their own open invitation, only for an account that may hold a record.
 */
export async function acceptPortalInvitation(
  ctx: ModuleContext,
  request: FastifyRequest,
  invitationId: string,
): Promise<{ organizationName: string }> {
  const { userId } = requireUser(request);
  return ctx.db.transaction().execute(async (trx) => {
    const invitation = await lockOwnPortalInvitation(trx, userId, invitationId);
    if (!invitation) throw noSuchInvitation();
    const account = await lockAccountById(trx, userId);
    if (!account) throw noSuchInvitation();
    const reason = await whyNot(trx, userId, account, invitation);
    if (reason !== null) throw new HavenError('CONFLICT', reason);
    await deletePortalInvitation(trx, invitation.id);
    // An archived record (or one linked meanwhile) takes no link: the invitation is not open.
    const linked = await linkPortalAccount(
      trx,
      invitation.organization_id,
      invitation.patient_id,
      userId,
    ).catch((error: unknown) => {
      if (isUniqueViolation(error)) throw new HavenError('CONFLICT', ALREADY_SHOWS_A_RECORD);
      throw error;
    });
    if (!linked) throw noSuchInvitation();
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'patient.portal_linked',
      target: { type: 'patient', id: invitation.patient_id },
      details: { organizationId: invitation.organization_id, via: 'accepted_invitation' },
    });
    return { organizationName: invitation.organization_name };
  });
}

const ALREADY_SHOWS_A_RECORD =
  'Your account already shows a patient record, and one account shows one record.';

/** The invitee declines (an expired invitation too): it is gone, audited. */
export async function declinePortalInvitation(
  ctx: ModuleContext,
  request: FastifyRequest,
  invitationId: string,
): Promise<void> {
  const { userId } = requireUser(request);
  await ctx.db.transaction().execute(async (trx) => {
    const declined = await deleteOwnPortalInvitation(trx, userId, invitationId);
    if (!declined) throw noSuchInvitation();
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'patient.portal_invitation_declined',
      target: { type: 'patient', id: declined.patientId },
      details: { organizationId: declined.organizationId },
    });
  });
}
