// The study team (Z4, L3, A11): the owner adds researchers of the study's organization; the owner
// and researchers add participants by email, and remove members (researchers: the owner only).
// Audited with ids only. Adding a participant is no way to learn about an account: an unknown
// email gets identity's invitation in the same transaction; an email with an account, whatever
// the account is, gets a team row with the role 'invited' that grants nothing until its owner
// accepts (reviews/invitations). Both answer 201 'invited' under the name the researcher typed,
// and whether the account may take part is decided at acceptance and told only to its owner.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { requireAccess, requireUser } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import { INVITATION_LINK_LIFETIME_MS, type IdentityApi } from '../../identity/index.js';
// The same account look-ups organization members and portal invitations use.
import { createdInThisTransaction, lockAccountByEmail } from '../../organizations/index.js';
import * as repo from './repo.js';
import type { Db } from './repo.js';
import type { StudyMemberView } from './schemas.js';
import { refuseIfClosed, requireOwner } from './service.js';

type Context = ModuleContext<Record<string, never>>;

/** What adding a participant needs of identity: invitations, and the name an invitee shows. */
export type ParticipantInvitations = Pick<
  IdentityApi,
  'inviteUser' | 'normalizeEmail' | 'inviteeDisplayName'
>;

const alreadyOnTeam = () => new HavenError('CONFLICT', 'This person is already on the team.');
const createdMeanwhile = () =>
  new HavenError('CONFLICT', 'An account with this email was created meanwhile; please try again.');

export async function listMembers(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
): Promise<StudyMemberView[]> {
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:read', { studyId });
    return repo.listTeam(trx, access.studyId);
  });
}

async function memberView(db: Db, studyId: string, userId: string): Promise<StudyMemberView> {
  const member = await repo.findTeamMember(db, studyId, userId);
  if (!member) throw new HavenError('NOT_FOUND', 'The member was not found.');
  return member;
}

/**
 * Seats the user on the team as `joining` says: a new row, or the old row (locked) of someone who
 * had left, as `role` or invited to take that role. Someone on the team (or invited) already, or
 * who was on it in another role, is a 409. True when they came back on an old row.
 */
async function seatOnTeam(
  trx: Db,
  member: { studyId: string; userId: string; addedBy: string },
  role: 'researcher' | 'participant',
  joining: repo.Joining,
): Promise<boolean> {
  const existing = await repo.lockMembership(trx, member.studyId, member.userId);
  if (existing && existing.removed_at === null) throw alreadyOnTeam();
  // An invitation declined or withdrawn was one to take part.
  const wasRole = existing?.role === 'invited' ? 'participant' : existing?.role;
  if (existing && wasRole !== role) {
    throw new HavenError(
      'CONFLICT',
      `This person was on the team as ${wasRole === 'participant' ? 'a participant' : 'a researcher'} and cannot come back in another role.`,
    );
  }
  if (existing) {
    await repo.restoreMembership(trx, member, joining);
    return true;
  }
  await repo.insertMembership(trx, member, joining).catch(onUniqueViolation(alreadyOnTeam));
  return false;
}

/**
 * Puts the user on the team with `role`: a new row, or the old row of someone who had left.
 * Someone on the team already, or who was on it in another role, is a 409.
 */
async function joinTeam(
  trx: Db,
  request: FastifyRequest,
  join: {
    studyId: string;
    userId: string;
    role: 'researcher' | 'participant';
    actorId: string;
    via: string;
  },
): Promise<void> {
  const member = { ...join, addedBy: join.actorId };
  const rejoined = await seatOnTeam(trx, member, join.role, join);
  await recordUserEvent(trx, join.actorId, requestContext(request), {
    action: 'study.member_added',
    target: { type: 'user', id: join.userId },
    details: {
      studyId: join.studyId,
      role: join.role,
      via: rejoined ? 'rejoined' : join.via,
    },
  });
}

/** The owner adds a researcher of the study's organization to the research team. */
export async function addResearcher(
  ctx: Context,
  invitations: ParticipantInvitations,
  request: FastifyRequest,
  studyId: string,
  email: string,
): Promise<StudyMemberView> {
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireOwner(trx, request, studyId, 'add researchers');
    refuseIfClosed(access, 'add researchers');
    const account = await lockAccountByEmail(trx, invitations.normalizeEmail(email));
    const orgRole =
      account && (await repo.organizationRoleOf(trx, access.organizationId, account.id));
    if (!account || orgRole !== 'researcher' || account.status === 'disabled') {
      throw new HavenError(
        'CONFLICT',
        "Only researchers of the study's organization can join its research team; ask an organization administrator to add them to the organization as a researcher first.",
      );
    }
    await joinTeam(trx, request, {
      studyId: access.studyId,
      userId: account.id,
      role: 'researcher',
      actorId: access.userId,
      via: 'existing_account',
    });
    return memberView(trx, access.studyId, account.id);
  });
}

/**
 * What an unknown email's invitation mail names, so it reads like the research team writing: the
 * study and the organization that runs it. Read under the caller's study access.
 */
interface StudyNaming {
  readonly title: string;
  readonly organizationName: string;
}

async function studyNaming(trx: Db, studyId: string, actorId: string): Promise<StudyNaming> {
  const study = await repo.findStudy(trx, studyId, actorId);
  if (!study) throw new HavenError('NOT_FOUND', 'The study was not found.');
  return { title: study.title, organizationName: study.organizationName };
}

/**
 * Invites the existing account with this email to take part, whatever the account is
 * (`invited`, with the address to tell); no `invited` when no account has the email. Either
 * way, what an unknown email's invitation mail names.
 */
async function inviteExistingAccount(
  ctx: Context,
  invitations: ParticipantInvitations,
  request: FastifyRequest,
  input: { studyId: string; email: string; displayName?: string | undefined },
): Promise<{ study: StudyNaming; invited?: { member: StudyMemberView; tell: Invitee } }> {
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:manage', { studyId: input.studyId });
    refuseIfClosed(access, 'add participants');
    const study = await studyNaming(trx, access.studyId, access.userId);
    const account = await lockAccountByEmail(trx, invitations.normalizeEmail(input.email));
    if (!account) return { study };
    // A11, Z4: nothing about the account decides what happens or what is answered.
    const member = { studyId: access.studyId, userId: account.id, addedBy: access.userId };
    const invited: repo.Joining = {
      invitation: {
        shownName: invitations.inviteeDisplayName(input.email, input.displayName),
        // As identity stores an unknown email's address: trimmed, in the case typed.
        shownEmail: input.email.trim(),
        // As long as the link an invitation of an unknown email sends: neither outlives the other.
        lifetimeMs: INVITATION_LINK_LIFETIME_MS,
        // An account Haven invited has no password until its owner opens their link; a pending
        // self sign-up has the one whoever typed the address chose.
        accountHeldByOwner: account.status === 'active' || !account.password_set,
      },
    };
    await seatOnTeam(trx, member, 'participant', invited);
    await recordUserEvent(trx, access.userId, requestContext(request), {
      action: 'study.participant_invited',
      target: { type: 'user', id: account.id },
      details: { studyId: access.studyId, via: 'existing_account' },
    });
    const view = await memberView(trx, access.studyId, account.id);
    const tell = { to: account.email, setUp: account.status === 'active' };
    return { study, invited: { member: view, tell } };
  });
}

/** An unknown email gets an identity invitation (role participant) that commits with the membership. */
async function inviteParticipant(
  ctx: Context,
  invitations: ParticipantInvitations,
  request: FastifyRequest,
  input: { studyId: string; email: string; displayName?: string | undefined },
  study: StudyNaming,
): Promise<StudyMemberView> {
  const { userId: actorId } = requireUser(request);
  let refusedByUs = false;
  const invited = await invitations
    .inviteUser({
      email: input.email,
      role: 'participant',
      displayName: input.displayName,
      invitedBy: actorId,
      // No membership names the organization: the mail names the study and who runs it.
      organizationName: study.organizationName,
      studyTitle: study.title,
      ...requestContext(request),
      auditAction: 'study.participant_invited',
      withinTransaction: async (trx: Db, userId: string) => {
        refusedByUs = true;
        // inviteUser re-invites a pending account it finds; that is only right for the account
        // it has just created. One created by another request since our look-up must not have
        // its invitation reset: 409, try again.
        if (!(await createdInThisTransaction(trx, userId))) throw createdMeanwhile();
        const access = await requireAccess(trx, request, 'study:manage', {
          studyId: input.studyId,
        });
        refuseIfClosed(access, 'add participants');
        await joinTeam(trx, request, {
          studyId: access.studyId,
          userId,
          role: 'participant',
          actorId,
          via: 'invitation',
        });
        refusedByUs = false;
      },
    })
    .catch((error: unknown) => {
      // inviteUser's own 409 (an active or disabled account appeared since our look-up) would
      // say that an account exists; the caller gets the "created meanwhile" answer instead.
      if (!refusedByUs && error instanceof HavenError && error.code === 'CONFLICT') {
        throw createdMeanwhile();
      }
      throw error;
    })
    // Two requests inviting the same new email at once: the second insert of the user loses.
    .catch(onUniqueViolation(createdMeanwhile));
  return memberView(ctx.db, input.studyId, invited.userId);
}

/** Whom to tell of an invitation, and whether their account is set up (they can sign in). */
interface Invitee {
  readonly to: string;
  readonly setUp: boolean;
}

/**
 * Tells an invited existing account, after commit. No study, organization or researcher name
 * (mail is not private, and a study's title can say what it is about): the invitee reads those
 * in Haven once signed in. Plain text only, no user text at all.
 */
async function notifyInvited(
  ctx: Context,
  invitee: Invitee,
  log: Pick<Logger, 'error'>,
): Promise<void> {
  const days = INVITATION_LINK_LIFETIME_MS / 86_400_000;
  const signIn = invitee.setUp
    ? `Sign in at ${ctx.publicOrigin}/ within ${days} days to accept or decline it.`
    : `First finish setting up your Haven account with the link in the invitation email you ` +
      `received earlier (if it has expired, ask whoever invited you to send a new one), then ` +
      `sign in at ${ctx.publicOrigin}/ within ${days} days to accept or decline it.`;
  try {
    await ctx.mailer.send({
      to: invitee.to,
      subject: 'You were invited to take part in a study on Haven',
      text:
        `Hello,\n\n` +
        `A research team invited you to take part in a study on Haven. ${signIn}\n\n` +
        `If you did not expect this, decline it or let it expire. Haven never asks for your ` +
        `password by email.\n`,
    });
  } catch (error) {
    // The membership is committed; a failed notice must not turn that into an error answer.
    log.error(
      { mailError: error instanceof Error ? error.name : 'unknown' },
      'mail delivery failed',
    );
  }
}

/**
 * Adds a participant by email: always an invitation, answered alike. An unknown email gets
 * identity's invitation (a new account, on the team at once); an existing account, whatever it
 * is, an invitation it accepts or declines once signed in (one who had left comes back so too).
 */
export async function addParticipant(
  ctx: Context,
  invitations: ParticipantInvitations,
  request: FastifyRequest,
  input: { studyId: string; email: string; displayName?: string | undefined },
): Promise<{ member: StudyMemberView; invited: true }> {
  const { study, invited } = await inviteExistingAccount(ctx, invitations, request, input);
  if (invited) {
    await notifyInvited(ctx, invited.tell, request.log);
    return { member: invited.member, invited: true };
  }
  const member = await inviteParticipant(ctx, invitations, request, input, study);
  return { member, invited: true };
}

/**
 * Removes a member (the row stays, with removed_at; their answers are kept). Participants need
 * `study:manage`, researchers `study:administer`; the owner cannot be removed.
 */
export async function removeMember(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
  userId: string,
): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:manage', { studyId });
    const target = await repo.lockMembership(trx, access.studyId, userId);
    if (!target || target.removed_at !== null) {
      throw new HavenError('NOT_FOUND', 'The member was not found.');
    }
    if (target.role === 'owner') {
      throw new HavenError('CONFLICT', "The study's owner cannot be removed from its team.");
    }
    if (target.role === 'researcher') {
      await requireOwner(trx, request, access.studyId, 'remove researchers');
    }
    await repo.markRemoved(trx, access.studyId, userId);
    await recordUserEvent(trx, access.userId, requestContext(request), {
      action: 'study.member_removed',
      target: { type: 'user', id: userId },
      details: { studyId: access.studyId, role: target.role },
    });
  });
}
