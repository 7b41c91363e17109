// The invitee's study invitations in the database (A11, Z4): team rows with the role 'invited'.
// Every query names the invitee in its WHERE clause, so one person can neither see nor answer
// another's invitation, and acts only on a row that is still an invitation.
import { sql } from 'kysely';
import type { StudyStatus } from '../../../platform/db/schema.js';
import type { Db } from '../studies/repo.js';
import { OWN_INVITATIONS_LIMIT } from './schemas.js';

export interface OwnInvitationRow {
  readonly study_id: string;
  readonly study_title: string;
  readonly study_status: StudyStatus;
  readonly organization_name: string;
  readonly invited_by: string | null;
  readonly answer_by: Date;
  readonly account_held_by_owner: boolean | null;
}

/** The invitee's invitations not yet answered, withdrawn or expired (the database's clock). */
function ownOpenInvitations(db: Db, userId: string) {
  return db
    .selectFrom('study_members as m')
    .innerJoin('studies as s', 's.id', 'm.study_id')
    .innerJoin('organizations as o', 'o.id', 's.organization_id')
    .leftJoin('users as inviter', 'inviter.id', 'm.added_by')
    .select([
      'm.study_id',
      's.title as study_title',
      's.status as study_status',
      'o.name as organization_name',
      'inviter.display_name as invited_by',
      // Never null here: an invitation's row has it (0018's CHECK), and the WHERE compares it.
      sql<Date>`m.answer_by`.as('answer_by'),
      'm.account_held_by_owner',
    ])
    .where('m.user_id', '=', userId)
    .where('m.role', '=', 'invited')
    .where('m.removed_at', 'is', null)
    .where('m.answer_by', '>', sql<Date>`now()`);
}

/** The invitee's open invitations, soonest to expire first. */
export function listOwnInvitations(db: Db, userId: string): Promise<OwnInvitationRow[]> {
  return ownOpenInvitations(db, userId)
    .orderBy('m.answer_by')
    .orderBy('m.study_id')
    .limit(OWN_INVITATIONS_LIMIT)
    .execute();
}

/**
 * The invitee's own open invitation to the study, its team row locked FOR UPDATE and the study
 * FOR SHARE (closing it waits for this acceptance, or this sees it closed); undefined when
 * there is none.
 */
export async function lockOwnOpenInvitation(
  db: Db,
  userId: string,
  studyId: string,
): Promise<OwnInvitationRow | undefined> {
  const row = await ownOpenInvitations(db, userId)
    .where('m.study_id', '=', studyId)
    .forUpdate('m')
    .executeTakeFirst();
  if (!row) return undefined;
  const study = await db
    .selectFrom('studies')
    .select('status')
    .where('id', '=', studyId)
    .forShare()
    .executeTakeFirstOrThrow();
  return { ...row, study_status: study.status };
}

/** The invitation becomes a participant's team row (the caller holds its lock). */
export async function takePart(db: Db, userId: string, studyId: string): Promise<void> {
  await db
    .updateTable('study_members')
    .set({
      role: 'participant',
      shown_name: null,
      shown_email: null,
      answer_by: null,
      account_held_by_owner: null,
    })
    .where('study_id', '=', studyId)
    .where('user_id', '=', userId)
    .where('role', '=', 'invited')
    .execute();
}

/**
 * The invitee declines their invitation (an expired one too): the row is marked removed, as a
 * removal by the team would; nothing of a study is deleted. False when there was none.
 */
export async function declineOwnInvitation(
  db: Db,
  userId: string,
  studyId: string,
): Promise<boolean> {
  const row = await db
    .updateTable('study_members')
    .set({ removed_at: sql<Date>`now()` })
    .where('study_id', '=', studyId)
    .where('user_id', '=', userId)
    .where('role', '=', 'invited')
    .where('removed_at', 'is', null)
    .returning('study_id')
    .executeTakeFirst();
  return row !== undefined;
}
