// The study team (Z4, L3): the owner adds researchers of the study's organization; the owner and
// researchers add participants by email — an existing participant account joins at once, an
// unknown email gets identity's invitation in the same transaction, any other account is the one
// documented 409 — and remove members (researchers: the owner only). Audited with ids only.
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { requireAccess, requireUser } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import type { IdentityApi } from '../../identity/index.js';
// The same account look-ups organization members and portal invitations use.
import { createdInThisTransaction, lockAccountByEmail } from '../../organizations/index.js';
import * as repo from './repo.js';
import type { Db } from './repo.js';
import type { StudyMemberView } from './schemas.js';
import { refuseIfClosed, requireOwner } from './service.js';

type Context = ModuleContext<Record<string, never>>;

/** What adding a participant needs of identity: invitations for unknown emails. */
export type ParticipantInvitations = Pick<IdentityApi, 'inviteUser' | 'normalizeEmail'>;

const alreadyOnTeam = () => new HavenError('CONFLICT', 'This person is already on the team.');
const createdMeanwhile = () =>
  new HavenError('CONFLICT', 'An account with this email was created meanwhile; please try again.');
/**
 * The one answer for an email whose account cannot take part, whatever kind of account it is
 * (staff, researcher, patient, disabled): a researcher learns no more than the documented 409.
 */
const cannotTakePart = () =>
  new HavenError(
    'CONFLICT',
    'An account with this email exists but cannot take part in studies: only participant accounts can. Ask a platform administrator.',
  );

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
  const existing = await repo.lockMembership(trx, join.studyId, join.userId);
  if (existing && existing.removed_at === null) throw alreadyOnTeam();
  if (existing && existing.role !== join.role) {
    throw new HavenError(
      'CONFLICT',
      `This person was on the team as ${existing.role === 'participant' ? 'a participant' : 'a researcher'} and cannot come back in another role.`,
    );
  }
  if (existing) {
    await repo.restoreMembership(trx, { ...join, addedBy: join.actorId });
  } else {
    await repo
      .insertMembership(trx, { ...join, addedBy: join.actorId })
      .catch(onUniqueViolation(alreadyOnTeam));
  }
  await recordUserEvent(trx, join.actorId, requestContext(request), {
    action: 'study.member_added',
    target: { type: 'user', id: join.userId },
    details: {
      studyId: join.studyId,
      role: join.role,
      via: existing ? 'rejoined' : join.via,
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
 * What a participant's mail names, so it reads like the research team writing: the study, the
 * organization that runs it, and who added them. Read under the caller's study access.
 */
interface StudyNaming {
  readonly title: string;
  readonly organizationName: string;
  readonly addedBy: string;
}

async function studyNaming(trx: Db, studyId: string, actorId: string): Promise<StudyNaming> {
  const study = await repo.findStudy(trx, studyId, actorId);
  const actor = await repo.findTeamMember(trx, studyId, actorId);
  if (!study || !actor) throw new HavenError('NOT_FOUND', 'The study was not found.');
  return {
    title: study.title,
    organizationName: study.organizationName,
    addedBy: actor.displayName,
  };
}

/**
 * An existing invited or active participant joins at once (`joined`); no `joined` when no
 * account has the email. Either way, what the participant's mail names.
 */
async function addExistingParticipant(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
  emailKey: string,
): Promise<{ study: StudyNaming; joined?: { member: StudyMemberView; email: string } }> {
  return ctx.db.transaction().execute(async (trx) => {
    const access = await requireAccess(trx, request, 'study:manage', { studyId });
    refuseIfClosed(access, 'add participants');
    const study = await studyNaming(trx, access.studyId, access.userId);
    const account = await lockAccountByEmail(trx, emailKey);
    if (!account) return { study };
    if (account.status === 'disabled' || !account.roles.includes('participant')) {
      throw cannotTakePart();
    }
    await joinTeam(trx, request, {
      studyId: access.studyId,
      userId: account.id,
      role: 'participant',
      actorId: access.userId,
      via: 'existing_account',
    });
    const member = await memberView(trx, access.studyId, account.id);
    return { study, joined: { member, email: account.email } };
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

/**
 * Tells an existing account it was added, after commit, naming the study, its organization and
 * who added them. Plain text only, and the subject carries no user text, so a title can neither
 * inject markup nor break a header.
 */
async function notifyAdded(
  ctx: Context,
  to: string,
  study: StudyNaming,
  log: Pick<Logger, 'error'>,
): Promise<void> {
  try {
    await ctx.mailer.send({
      to,
      subject: 'You were added to a study on Haven',
      text:
        `Hello,\n\n` +
        `${study.addedBy} added you to the study "${study.title}" at ` +
        `${study.organizationName} on Haven. Sign in at ${ctx.publicOrigin}/ to see it.\n\n` +
        `If you did not expect this, contact the research team. Haven never asks for your ` +
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
 * Adds a participant by email. An existing invited or active participant account joins at once
 * (one who had left comes back); an unknown email gets an invitation; any other account is 409.
 */
export async function addParticipant(
  ctx: Context,
  invitations: ParticipantInvitations,
  request: FastifyRequest,
  input: { studyId: string; email: string; displayName?: string | undefined },
): Promise<{ member: StudyMemberView; invited: boolean }> {
  const { study, joined } = await addExistingParticipant(
    ctx,
    request,
    input.studyId,
    invitations.normalizeEmail(input.email),
  );
  if (joined) {
    await notifyAdded(ctx, joined.email, study, request.log);
    return { member: joined.member, invited: false };
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
