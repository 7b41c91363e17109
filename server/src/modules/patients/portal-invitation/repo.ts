// Linking a patient record to a portal account. The link is scoped by organization and patient;
// the account lookups are scoped by the one user id being linked (the look-ups by email are
// the organizations module's, which adding a member shares); an invitee's queries name the
// invitee, so nobody sees or answers another person's invitation.
import { sql } from 'kysely';
import { INVITATION_LINK_LIFETIME_MS } from '../../identity/index.js';
import type { Db } from '../records/repo.js';

/**
 * Links the organization's live, unlinked patient to `userId`; false when the record is
 * archived or already linked (the condition is in the UPDATE, so a concurrent link loses).
 */
export async function linkPortalAccount(
  db: Db,
  organizationId: string,
  patientId: string,
  userId: string,
): Promise<boolean> {
  const linked = await db
    .updateTable('patients')
    .set({ portal_user_id: userId, updated_at: sql<Date>`now()` })
    .where('id', '=', patientId)
    .where('organization_id', '=', organizationId)
    .where('archived_at', 'is', null)
    .where('portal_user_id', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return linked !== undefined;
}

/** Whether any patient record (of any organization) is linked to the account already. */
export async function isAccountLinked(db: Db, userId: string): Promise<boolean> {
  const holder = await db
    .selectFrom('patients')
    .select('id')
    .where('portal_user_id', '=', userId)
    .executeTakeFirst();
  return holder !== undefined;
}

/** The organization's name, for the invitation mail ("Riverside Clinic invites you …"). */
export async function organizationName(
  db: Db,
  organizationId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('organizations')
    .select('name')
    .where('id', '=', organizationId)
    .executeTakeFirst();
  return row?.name;
}

/**
 * The patient's name as their portal account starts with: the accept form shows it filled in,
 * so the invitation reads as coming from the clinic that knows them (they may still change it).
 */
export async function patientDisplayName(db: Db, patientId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('patients')
    .select(['given_name', 'family_name'])
    .where('id', '=', patientId)
    .executeTakeFirst();
  return row && `${row.given_name} ${row.family_name}`.trim().slice(0, 100);
}

// ---------------------------------------------------------------------------------------------
// Invitations of existing accounts (A11): the record is linked only when the invitee accepts.

/** Whether the record has an invitation of an existing account, open or expired. */
export async function hasPortalInvitation(db: Db, patientId: string): Promise<boolean> {
  const row = await db
    .selectFrom('portal_invitations')
    .select('id')
    .where('patient_id', '=', patientId)
    .executeTakeFirst();
  return row !== undefined;
}

export async function insertPortalInvitation(
  db: Db,
  invitation: {
    organizationId: string;
    patientId: string;
    userId: string;
    invitedBy: string;
    accountWasActive: boolean;
  },
): Promise<void> {
  await db
    .insertInto('portal_invitations')
    .values({
      organization_id: invitation.organizationId,
      patient_id: invitation.patientId,
      user_id: invitation.userId,
      invited_by: invitation.invitedBy,
      account_was_active: invitation.accountWasActive,
      // As long as identity's invitation link; on the database's clock, which every node shares.
      expires_at: sql<Date>`now() + ${sql.lit(`${INVITATION_LINK_LIFETIME_MS} milliseconds`)}::interval`,
    })
    .execute();
}

/** An invitation as its invitee sees it: which clinic, until when. */
export interface OwnPortalInvitationRow {
  readonly id: string;
  readonly organization_id: string;
  readonly patient_id: string;
  readonly organization_name: string;
  readonly account_was_active: boolean;
  readonly created_at: Date;
  readonly expires_at: Date;
}

function ownInvitations(db: Db, userId: string) {
  return db
    .selectFrom('portal_invitations as i')
    .innerJoin('organizations as o', 'o.id', 'i.organization_id')
    .select([
      'i.id',
      'i.organization_id',
      'i.patient_id',
      'o.name as organization_name',
      'i.account_was_active',
      'i.created_at',
      'i.expires_at',
    ])
    .where('i.user_id', '=', userId)
    .where('i.expires_at', '>', sql<Date>`now()`);
}

/** The invitee's open invitations (not expired on the database's clock), newest first. */
export function listOwnPortalInvitations(
  db: Db,
  userId: string,
): Promise<OwnPortalInvitationRow[]> {
  return ownInvitations(db, userId)
    .orderBy('i.created_at', 'desc')
    .orderBy('i.id')
    .limit(100)
    .execute();
}

/** The invitee's own open invitation, row-locked; undefined when not theirs, gone or expired. */
export function lockOwnPortalInvitation(
  db: Db,
  userId: string,
  invitationId: string,
): Promise<OwnPortalInvitationRow | undefined> {
  return ownInvitations(db, userId)
    .where('i.id', '=', invitationId)
    .forUpdate('i')
    .executeTakeFirst();
}

export async function deletePortalInvitation(db: Db, invitationId: string): Promise<void> {
  await db.deleteFrom('portal_invitations').where('id', '=', invitationId).execute();
}

/** The invitee's own invitation, open or expired; deleted by declining. */
export async function deleteOwnPortalInvitation(
  db: Db,
  userId: string,
  invitationId: string,
): Promise<{ patientId: string; organizationId: string } | undefined> {
  const row = await db
    .deleteFrom('portal_invitations')
    .where('user_id', '=', userId)
    .where('id', '=', invitationId)
    .returning(['patient_id', 'organization_id'])
    .executeTakeFirst();
  return row && { patientId: row.patient_id, organizationId: row.organization_id };
}
