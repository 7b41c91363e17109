// Members of an organization (Z4, L3, A11): listing, adding (see addMember), role changes and
// removal. The changes that could leave an organization without an administrator lock its
// member rows first (repo.lockMembers), so concurrent ones queue instead of racing.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { OrganizationRole } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';
import { accountRoleForMembership, requireAccess } from '../../../platform/access/index.js';
import { requestContext, type RequestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import type { IdentityApi } from '../../identity/index.js';
import { organizationRoleLabel } from '../../identity/schemas.js';
import type { Db } from '../repo.js';
import type { MemberView } from '../schemas.js';
import { requireOrganization } from '../service.js';
import * as repo from './repo.js';
import {
  changeInvitationRole,
  invitationNotice,
  inviteExistingAccount,
  kindChanges,
  refuseKindChange,
  withdrawInvitation,
} from '../invitations/service.js';
import * as invitationsRepo from '../invitations/repo.js';

/** What adding a member needs of identity: invitations for unknown emails, and their names. */
export type MemberInvitations = Pick<
  IdentityApi,
  'inviteUser' | 'inviteeDisplayName' | 'normalizeEmail'
>;

/** How an existing account joins: at once (platform admins) or by accepting (org admins'). */
export type AddingMode = 'at_once' | 'by_acceptance';

/** Where a failed notice after commit is logged: the request's logger. */
export type NoticeLog = Pick<Logger, 'error'>;

const alreadyMember = () => new HavenError('CONFLICT', 'This person is already a member.');
const createdMeanwhile = () =>
  new HavenError('CONFLICT', 'An account with this email was created meanwhile; please try again.');

async function memberView(db: Db, organizationId: string, userId: string): Promise<MemberView> {
  const member = await repo.findMember(db, organizationId, userId);
  if (!member) throw new HavenError('NOT_FOUND');
  return member;
}

/** Any member lists the members; the list shows colleagues' email addresses, so it is audited. */
export async function listMembers(
  ctx: ModuleContext,
  request: FastifyRequest,
  organizationId: string,
): Promise<MemberView[]> {
  const { userId } = await requireAccess(ctx.db, request, 'organization:read', { organizationId });
  const members = await repo.listMembers(ctx.db, organizationId);
  await recordUserEvent(ctx.db, userId, requestContext(request), {
    action: 'org.members_listed',
    target: { type: 'organization', id: organizationId },
    details: { results: members.length },
  });
  return members;
}

/** Who adds whom to which organization: the invitation form plus the caller. */
export interface MemberInvitation extends RequestContext {
  readonly organizationId: string;
  readonly email: string;
  readonly role: OrganizationRole;
  readonly displayName?: string | undefined;
  /** The platform admin or org admin adding the member. */
  readonly actorId: string;
}

export interface AddMemberInput extends MemberInvitation {
  /**
   * Re-checks, inside the transaction that adds the member, that the actor may still do so
   * (the organization exists; the caller is still its org_admin).
   */
  readonly authorize: (trx: Db) => Promise<void>;
}

export interface AddedMember {
  readonly member: MemberView;
  /** Set when an existing account was added or invited: it is told by mail after commit. */
  readonly notify?: { to: string; role: OrganizationRole; invited: boolean };
}

async function insertMembership(
  trx: Db,
  input: AddMemberInput,
  userId: string,
  via: 'existing_account' | 'invitation',
): Promise<void> {
  if (await repo.findMember(trx, input.organizationId, userId)) throw alreadyMember();
  await repo
    .insertMembership(trx, {
      organizationId: input.organizationId,
      userId,
      role: input.role,
      addedBy: input.actorId,
    })
    .catch(onUniqueViolation(alreadyMember));
  await recordUserEvent(trx, input.actorId, input, {
    action: 'org.member_added',
    target: { type: 'user', id: userId },
    details: { organizationId: input.organizationId, role: input.role, via },
  });
}

/**
 * An email with an account: invited to join (by_acceptance), or added at once when it is an
 * invited or active account of the role's kind (at_once). Undefined when no account has it.
 */
async function addExistingAccount(
  ctx: ModuleContext,
  invitations: MemberInvitations,
  input: AddMemberInput,
  mode: AddingMode,
): Promise<AddedMember | undefined> {
  const emailKey = invitations.normalizeEmail(input.email);
  return ctx.db.transaction().execute(async (trx) => {
    await input.authorize(trx);
    const user = await repo.lockAccountByEmail(trx, emailKey);
    if (!user) return undefined;
    if (await repo.findMember(trx, input.organizationId, user.id)) throw alreadyMember();
    if (mode === 'by_acceptance') {
      // A11, Z4: nothing about the account (its role, status or name) decides what happens or
      // what is answered; an invitation already open answers as an existing member does.
      if (await invitationsRepo.isInvited(trx, input.organizationId, user.id)) {
        throw alreadyMember();
      }
      const invited = await inviteExistingAccount(
        trx,
        {
          ...input,
          shownEmail: input.email.trim(),
          shownName: invitations.inviteeDisplayName(input.email, input.displayName),
        },
        user,
      );
      return { member: invited.member, notify: { ...invited.notify, invited: true } };
    }
    const accountRole = accountRoleForMembership(input.role);
    if (user.status === 'disabled' || !user.roles.includes(accountRole)) {
      throw new HavenError(
        'CONFLICT',
        `An account with this email exists but cannot join as ${input.role === 'researcher' ? 'a researcher' : 'staff'}: only invited or active ${accountRole} accounts can. Ask a platform administrator.`,
      );
    }
    await insertMembership(trx, input, user.id, 'existing_account');
    // An org admin's invitation of the same account is spent: it is a member now.
    await invitationsRepo.withdrawInvitationOf(trx, input.organizationId, user.id);
    return {
      member: await memberView(trx, input.organizationId, user.id),
      notify: { to: user.email, role: input.role, invited: false },
    };
  });
}

/** An unknown email gets an identity invitation (role clinician) that commits with the membership. */
async function inviteNewAccount(
  invitations: MemberInvitations,
  input: AddMemberInput,
): Promise<string> {
  const invited = await invitations
    .inviteUser({
      email: input.email,
      role: accountRoleForMembership(input.role),
      displayName: input.displayName,
      invitedBy: input.actorId,
      requestId: input.requestId,
      clientAddress: input.clientAddress,
      auditAction: 'org.member_invited',
      withinTransaction: async (trx: Db, userId: string) => {
        // inviteUser re-invites a pending account it finds; that is only right for the account
        // it has just created. One created by another request since our look-up (its created_at
        // is not this transaction's start) must not have its invitation reset: 409, try again.
        if (!(await repo.createdInThisTransaction(trx, userId))) {
          throw createdMeanwhile();
        }
        await input.authorize(trx);
        await insertMembership(trx, input, userId, 'invitation');
      },
    })
    // Two requests inviting the same new email at once: the second insert of the user loses.
    .catch(onUniqueViolation(createdMeanwhile));
  return invited.userId;
}

/**
 * Adds a member by email. An unknown email gets an identity invitation (account role from the
 * membership) that commits with the membership. An existing account is invited
 * (by_acceptance), or joins at once when it is an invited or active account of the role's
 * kind (at_once; any other is a 409). An existing member, or one invited, is a 409.
 */
export async function addMember(
  ctx: ModuleContext,
  invitations: MemberInvitations,
  input: AddMemberInput,
  mode: AddingMode,
): Promise<AddedMember> {
  const existing = await addExistingAccount(ctx, invitations, input, mode);
  if (existing) return existing;
  const userId = await inviteNewAccount(invitations, input);
  return { member: await memberView(ctx.db, input.organizationId, userId) };
}

/** Tells an existing account it was added, after commit; no organization name or PHI in mail. */
async function notifyAdded(ctx: ModuleContext, added: AddedMember, log: NoticeLog): Promise<void> {
  const notify = added.notify;
  if (!notify) return;
  try {
    await ctx.mailer.send({
      to: notify.to,
      ...(notify.invited
        ? invitationNotice(ctx.publicOrigin, notify)
        : {
            subject: 'You were added to an organization in Haven',
            text:
              // The role in the SPA's words (personRoleLabel): "Organization administrator".
              `An administrator added you to an organization in Haven as: ` +
              `${organizationRoleLabel(notify.role)}. Sign in at ` +
              `${ctx.publicOrigin}/ to see it.\n\n` +
              `If you did not expect this, contact your administrator.\n`,
          }),
    });
  } catch (error) {
    // The membership is committed; a failed notice must not turn that into an error answer.
    log.error(
      { mailError: error instanceof Error ? error.name : 'unknown' },
      'mail delivery failed',
    );
  }
}

/** A platform admin adds a member to any organization that exists. */
export async function addMemberAsPlatformAdmin(
  ctx: ModuleContext,
  invitations: MemberInvitations,
  invitation: MemberInvitation,
  log: NoticeLog,
): Promise<MemberView> {
  const { organizationId } = invitation;
  await requireOrganization(ctx.db, organizationId);
  const added = await addMember(
    ctx,
    invitations,
    { ...invitation, authorize: (trx) => requireOrganization(trx, organizationId) },
    'at_once',
  );
  await notifyAdded(ctx, added, log);
  return added.member;
}

/** An org admin adds a member to their own organization. */
export async function addMemberAsOrgAdmin(
  ctx: ModuleContext,
  invitations: MemberInvitations,
  request: FastifyRequest,
  invitation: MemberInvitation,
  log: NoticeLog,
): Promise<MemberView> {
  const administer = (db: Db) =>
    requireAccess(db, request, 'organization:administer', {
      organizationId: invitation.organizationId,
    });
  await administer(ctx.db);
  const added = await addMember(
    ctx,
    invitations,
    {
      ...invitation,
      // Still org_admin when the member is added (the membership is held FOR SHARE until
      // commit): a demotion in between cannot be bypassed.
      authorize: async (trx) => {
        await administer(trx);
      },
    },
    'by_acceptance',
  );
  await notifyAdded(ctx, added, log);
  return added.member;
}

interface MemberChange extends RequestContext {
  readonly organizationId: string;
  readonly userId: string;
  /** The org admin making the change. */
  readonly actorId: string;
}

/**
 * Runs a member change with the member rows locked, after re-checking the actor is org_admin.
 * The check before the transaction keeps outsiders from locking another organization's rows;
 * the one after the lock decides on the locked rows (taken in that order, since share-locking
 * one's own row first would let two admins deadlock on each other's).
 */
async function withLockedMembers<T>(
  ctx: ModuleContext,
  request: FastifyRequest,
  change: MemberChange,
  work: (trx: Db, target: { role: OrganizationRole }, adminCount: number) => Promise<T>,
  /** The same change to an invitation of an existing account, named by its id in the list. */
  onInvitation: (trx: Db, invitation: invitationsRepo.InvitationRow) => Promise<T>,
): Promise<T> {
  const administer = (db: Db) =>
    requireAccess(db, request, 'organization:administer', {
      organizationId: change.organizationId,
    });
  await administer(ctx.db);
  return ctx.db.transaction().execute(async (trx) => {
    const members = await repo.lockMembers(trx, change.organizationId);
    await administer(trx);
    const target = members.find((m) => m.user_id === change.userId);
    if (!target) {
      const invitation = await invitationsRepo.lockInvitation(
        trx,
        change.organizationId,
        change.userId,
      );
      if (!invitation) throw new HavenError('NOT_FOUND');
      return onInvitation(trx, invitation);
    }
    const adminCount = members.filter((m) => m.role === 'org_admin').length;
    return work(trx, target, adminCount);
  });
}

export async function changeMemberRole(
  ctx: ModuleContext,
  request: FastifyRequest,
  change: MemberChange & { role: OrganizationRole },
): Promise<MemberView> {
  return withLockedMembers(
    ctx,
    request,
    change,
    async (trx, target, adminCount) => {
      if (target.role !== change.role) {
        if (kindChanges(target.role, change.role)) throw refuseKindChange();
        if (target.role === 'org_admin' && adminCount <= 1) {
          throw new HavenError(
            'CONFLICT',
            'The last organization administrator cannot be demoted; make someone else an administrator first.',
          );
        }
        await repo.updateMemberRole(trx, change.organizationId, change.userId, change.role);
        await recordUserEvent(trx, change.actorId, change, {
          action: 'org.member_role_changed',
          target: { type: 'user', id: change.userId },
          details: {
            organizationId: change.organizationId,
            role: change.role,
            previous: target.role,
          },
        });
      }
      return memberView(trx, change.organizationId, change.userId);
    },
    (trx, invitation) => changeInvitationRole(trx, change, invitation),
  );
}

export async function removeMember(
  ctx: ModuleContext,
  request: FastifyRequest,
  change: MemberChange,
): Promise<void> {
  await withLockedMembers(
    ctx,
    request,
    change,
    async (trx, target, adminCount) => {
      if (target.role === 'org_admin' && adminCount <= 1) {
        throw new HavenError(
          'CONFLICT',
          'The last organization administrator cannot be removed; make someone else an administrator first.',
        );
      }
      await repo.deleteMembership(trx, change.organizationId, change.userId);
      // The removed member's sessions stop working in this organization at once.
      const sessionsCleared = await repo.clearActiveOrganization(
        trx,
        change.organizationId,
        change.userId,
      );
      await recordUserEvent(trx, change.actorId, change, {
        action: 'org.member_removed',
        target: { type: 'user', id: change.userId },
        details: { organizationId: change.organizationId, role: target.role, sessionsCleared },
      });
    },
    (trx, invitation) => withdrawInvitation(trx, change, invitation),
  );
}
