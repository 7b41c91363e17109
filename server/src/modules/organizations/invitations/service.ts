// Invitations of existing accounts (A11, Z4, L3). When an org admin adds an email that already
// has an account, the account is not added: it is invited, and joins only if the person accepts
// once signed in. What the org admin sees is the same whatever the account is (a clinician, a
// patient, a researcher, disabled) and the same as for an email with no account: an 'invited'
// member named as they typed it. So adding a member is no way to learn whether someone has a
// Haven account, what it is called, or that they are a patient somewhere. Whether the account
// may join is decided when its owner accepts, and told only to them.
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../../../platform/errors.js';
import { accountRoleForMembership, requireUser } from '../../../platform/access/index.js';
import { requestContext, type RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import {
  answerability,
  inviteeAccount,
  noSuchInvitation,
  type InviteeAccount,
} from '../../../platform/invitation-answers.js';
import type { OrganizationRole } from '../../../platform/db/schema.js';
import { INVITATION_LINK_LIFETIME_MS } from '../../identity/index.js';
import { organizationRoleLabel } from '../../identity/schemas.js';
import type { Db } from '../repo.js';
import type { JoinedView, MemberView, OwnInvitationView } from '../schemas.js';
import * as members from '../members/repo.js';
import * as repo from './repo.js';

/** The invitation of an existing account, as recorded, and whom to tell after commit. */
export interface InvitedAccount {
  readonly member: MemberView;
  readonly notify: { to: string; role: OrganizationRole };
}

/**
 * Records an invitation of an existing account (the caller holds its row lock and has checked
 * it is neither a member nor invited). Audited with the account, for the audit's readers.
 */
export async function inviteExistingAccount(
  trx: Db,
  input: RequestContext & {
    organizationId: string;
    role: OrganizationRole;
    actorId: string;
    /** What the org admin typed, as an invitation of an unknown email would store it. */
    shownEmail: string;
    shownName: string;
  },
  account: { id: string; email: string },
): Promise<InvitedAccount> {
  const row = await repo.insertInvitation(trx, {
    organizationId: input.organizationId,
    userId: account.id,
    email: input.shownEmail,
    displayName: input.shownName,
    role: input.role,
    invitedBy: input.actorId,
    // As long as the link an invitation of an unknown email sends: neither outlives the other.
    lifetimeMs: INVITATION_LINK_LIFETIME_MS,
  });
  await recordUserEvent(trx, input.actorId, input, {
    action: 'org.member_invited',
    target: { type: 'user', id: account.id },
    details: { organizationId: input.organizationId, role: input.role, via: 'existing_account' },
  });
  return {
    member: repo.invitationAsMember(row),
    notify: { to: account.email, role: input.role },
  };
}

/** Whether a role change would move a member (or an invitation) between staff and research. */
export const kindChanges = (from: OrganizationRole, to: OrganizationRole): boolean =>
  accountRoleForMembership(from) !== accountRoleForMembership(to);

export const refuseKindChange = (): HavenError =>
  new HavenError(
    'CONFLICT',
    'A researcher cannot become clinical staff, nor staff a researcher: the account itself has a different role.',
  );

/** An org admin's change, as members/service.ts takes it. */
interface InvitationChange extends RequestContext {
  readonly organizationId: string;
  readonly actorId: string;
}

/**
 * An org admin changes the role of an invitation (its id stands in the member list): as the
 * invited member it reads as would change, within staff or not at all. Audited.
 */
export async function changeInvitationRole(
  trx: Db,
  change: InvitationChange & { role: OrganizationRole },
  invitation: repo.InvitationRow,
): Promise<MemberView> {
  if (invitation.role === change.role) return repo.invitationAsMember(invitation);
  if (kindChanges(invitation.role, change.role)) throw refuseKindChange();
  const changed = await repo.updateInvitationRole(trx, invitation.id, change.role);
  await recordUserEvent(trx, change.actorId, change, {
    action: 'org.invitation_role_changed',
    target: { type: 'user', id: invitation.user_id },
    details: {
      organizationId: change.organizationId,
      role: change.role,
      previous: invitation.role,
    },
  });
  return repo.invitationAsMember(changed);
}

/** An org admin withdraws an invitation: its invitee can no longer accept it. Audited. */
export async function withdrawInvitation(
  trx: Db,
  change: InvitationChange,
  invitation: repo.InvitationRow,
): Promise<void> {
  await repo.deleteInvitation(trx, invitation.id);
  await recordUserEvent(trx, change.actorId, change, {
    action: 'org.invitation_withdrawn',
    target: { type: 'user', id: invitation.user_id },
    details: { organizationId: change.organizationId, role: invitation.role },
  });
}

/** The mail an invited existing account gets: no organization name (mail is not private). */
export function invitationNotice(
  origin: string,
  notify: InvitedAccount['notify'],
): { subject: string; text: string } {
  return {
    subject: 'You were invited to join an organization in Haven',
    text:
      `An administrator invited you to join an organization in Haven as: ` +
      `${organizationRoleLabel(notify.role)}. Sign in at ${origin}/ within ` +
      `${INVITATION_LINK_LIFETIME_MS / 86_400_000} days to accept or decline it.\n\n` +
      `If you did not expect this, decline it or let it expire.\n`,
  };
}

/** Why an account cannot join in a role, in words for its owner; null when it can. */
function whyNot(account: InviteeAccount, role: OrganizationRole): string | null {
  const needed = accountRoleForMembership(role);
  if (account.status === 'active' && account.roles.includes(needed)) return null;
  return `Your account cannot join as ${role === 'researcher' ? 'a researcher' : 'staff'}: only ${needed} accounts can. Ask a platform administrator, or decline the invitation.`;
}

/** The caller's open invitations, each with whether their account may accept it. */
export async function listOwnInvitations(
  ctx: ModuleContext,
  request: FastifyRequest,
): Promise<OwnInvitationView[]> {
  const { userId } = requireUser(request);
  const rows = await repo.listOwnInvitations(ctx.db, userId);
  if (rows.length === 0) return [];
  const account = await inviteeAccount(ctx.db, userId);
  return rows.map((row) => ({
    id: row.id,
    organizationId: row.organization_id,
    organizationName: row.organization_name,
    role: row.role,
    invitedAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    ...answerability(whyNot(account, row.role)),
  }));
}

/**
 * The invitee accepts: they become a member with the invited role, in the same transaction
 * that ends the invitation. Only their own open invitation, and only when their account may
 * join in that role (an active account holding the role's account role).
 */
export async function acceptInvitation(
  ctx: ModuleContext,
  request: FastifyRequest,
  invitationId: string,
): Promise<JoinedView> {
  const { userId } = requireUser(request);
  const context = requestContext(request);
  return ctx.db.transaction().execute(async (trx) => {
    const invitation = await repo.lockOwnOpenInvitation(trx, userId, invitationId);
    if (!invitation) throw noSuchInvitation();
    const account = await members.lockAccountById(trx, userId);
    if (!account) throw noSuchInvitation();
    const reason = whyNot(account, invitation.role);
    if (reason !== null) throw new HavenError('CONFLICT', reason);
    const joined = {
      organizationId: invitation.organization_id,
      organizationName: invitation.organization_name,
      role: invitation.role,
    };
    await repo.deleteInvitation(trx, invitation.id);
    // Made a member meanwhile (a platform administrator added them): the invitation is spent.
    const existing = await members.findMember(trx, invitation.organization_id, userId);
    if (existing) return { ...joined, role: existing.role };
    await members.insertMembership(trx, {
      organizationId: invitation.organization_id,
      userId,
      role: invitation.role,
      addedBy: userId,
    });
    await recordUserEvent(trx, userId, context, {
      action: 'org.member_added',
      target: { type: 'user', id: userId },
      details: {
        organizationId: invitation.organization_id,
        role: invitation.role,
        via: 'accepted_invitation',
      },
    });
    return joined;
  });
}

/** The invitee declines (an expired invitation too): it is gone, audited. */
export async function declineInvitation(
  ctx: ModuleContext,
  request: FastifyRequest,
  invitationId: string,
): Promise<void> {
  const { userId } = requireUser(request);
  await ctx.db.transaction().execute(async (trx) => {
    const declined = await repo.deleteOwnInvitation(trx, userId, invitationId);
    if (!declined) throw noSuchInvitation();
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'org.invitation_declined',
      target: { type: 'organization', id: declined.organizationId },
    });
  });
}
