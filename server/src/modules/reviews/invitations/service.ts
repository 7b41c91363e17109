// The invitee's side of a study invitation (A11, Z4, L3): their open invitations, accepting and
// declining. A researcher who adds an email with an account invites it (studies/team-service);
// the account takes part only once its owner accepts here, signed in. Whether it may is decided
// now and told only to them: an active participant account whose password only the address's
// owner could hold when invited, to a study that has not closed. Only the person's own session: an app acting for them, or a machine
// client, may not put anyone into a study (requireUser).
import type { FastifyRequest } from 'fastify';
import { requireUser } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { recordUserEvent } from '../../../platform/user-event.js';
import {
  answerability,
  inviteeAccount,
  noSuchInvitation,
  type InviteeAccount,
} from '../../../platform/invitation-answers.js';
import { lockAccountById } from '../../organizations/index.js';
import * as repo from './repo.js';
import type { OwnStudyInvitationView, TakingPartView } from './schemas.js';

type Context = ModuleContext<Record<string, never>>;

/**
 * Why the account cannot accept the invitation, in words for its owner; null when it can. A
 * pending self sign-up holds a password chosen by whoever typed the address in, so an
 * invitation it got then would let them into the study once the owner confirms the address.
 */
function whyNot(account: InviteeAccount, invitation: repo.OwnInvitationRow): string | null {
  if (invitation.account_held_by_owner !== true) {
    return 'This invitation reached your address before your account was confirmed, so it cannot be accepted. Ask the research team to invite you again, or decline it.';
  }
  if (account.status !== 'active' || !account.roles.includes('participant')) {
    return 'Your account cannot take part in studies: only participant accounts can. Ask the research team to invite another address, or decline the invitation.';
  }
  if (invitation.study_status === 'closed') {
    return 'This study has closed and takes no new participants. Decline the invitation.';
  }
  return null;
}

/** The caller's open invitations to take part, each with whether their account may accept. */
export async function listOwnInvitations(
  ctx: Context,
  request: FastifyRequest,
): Promise<OwnStudyInvitationView[]> {
  const { userId } = requireUser(request);
  const rows = await repo.listOwnInvitations(ctx.db, userId);
  if (rows.length === 0) return [];
  const account = await inviteeAccount(ctx.db, userId);
  return rows.map((row) => ({
    studyId: row.study_id,
    studyTitle: row.study_title,
    organizationName: row.organization_name,
    ...(row.invited_by !== null && { invitedBy: row.invited_by }),
    expiresAt: row.answer_by.toISOString(),
    ...answerability(whyNot(account, row)),
  }));
}

/**
 * The invitee accepts: their invitation becomes a participant's team row, in one transaction.
 * Only their own open invitation, only for an account that may take part. Audited.
 */
export async function acceptInvitation(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
): Promise<TakingPartView> {
  const { userId } = requireUser(request);
  return ctx.db.transaction().execute(async (trx) => {
    // The account first, then the team row: the order a researcher's add locks them in, so an
    // acceptance and a re-invitation of the same address wait for each other, never deadlock.
    const account = await lockAccountById(trx, userId);
    if (!account) throw noSuchInvitation();
    const invitation = await repo.lockOwnOpenInvitation(trx, userId, studyId);
    if (!invitation) throw noSuchInvitation();
    const reason = whyNot(account, invitation);
    if (reason !== null) throw new HavenError('CONFLICT', reason);
    await repo.takePart(trx, userId, invitation.study_id);
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'study.member_added',
      target: { type: 'user', id: userId },
      details: { studyId: invitation.study_id, role: 'participant', via: 'accepted_invitation' },
    });
    return { studyId: invitation.study_id, studyTitle: invitation.study_title };
  });
}

/** The invitee declines (an expired invitation too): they leave the team's list. Audited. */
export async function declineInvitation(
  ctx: Context,
  request: FastifyRequest,
  studyId: string,
): Promise<void> {
  const { userId } = requireUser(request);
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await repo.declineOwnInvitation(trx, userId, studyId))) throw noSuchInvitation();
    await recordUserEvent(trx, userId, requestContext(request), {
      action: 'study.invitation_declined',
      target: { type: 'study', id: studyId },
      details: { studyId },
    });
  });
}
