// Queries about org admins' invitations of existing accounts (A11, Z4). An organization's
// queries name the organization in their WHERE clause; the invitee's name the invitee, so one
// person can neither see nor answer another's invitation.
import { sql } from 'kysely';
import type { OrganizationRole } from '../../../platform/db/schema.js';
import type { Db } from '../repo.js';
import { MAX_LISTED, type MemberView } from '../schemas.js';

export interface InvitationRow {
  readonly id: string;
  readonly organization_id: string;
  readonly user_id: string;
  readonly email: string;
  readonly display_name: string;
  readonly role: OrganizationRole;
  readonly invited_by: string | null;
  readonly created_at: Date;
  readonly expires_at: Date;
}

/**
 * An invitation as the organization's member list shows it: the address and name the org
 * admin typed, 'invited', and the invitation's own id. It reads exactly like the member an
 * invitation of an unknown email creates, so the list tells nothing about the account.
 */
export function invitationAsMember(row: InvitationRow): MemberView {
  return {
    userId: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    status: 'invited',
    addedAt: row.created_at.toISOString(),
  };
}

const COLUMNS = [
  'id',
  'organization_id',
  'user_id',
  'email',
  'display_name',
  'role',
  'invited_by',
  'created_at',
  'expires_at',
] as const;

export async function insertInvitation(
  db: Db,
  invitation: {
    organizationId: string;
    userId: string;
    email: string;
    displayName: string;
    role: OrganizationRole;
    invitedBy: string;
    lifetimeMs: number;
  },
): Promise<InvitationRow> {
  return db
    .insertInto('organization_invitations')
    .values({
      organization_id: invitation.organizationId,
      user_id: invitation.userId,
      email: invitation.email,
      display_name: invitation.displayName,
      role: invitation.role,
      invited_by: invitation.invitedBy,
      // The database's clock, the one every node shares, as the rest of expiry is judged.
      expires_at: sql<Date>`now() + ${`${invitation.lifetimeMs} milliseconds`}::interval`,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

/** Whether the account has an invitation to the organization, open or expired. */
export async function isInvited(db: Db, organizationId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('organization_invitations')
    .select('id')
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

/** One invitation of the organization, row-locked until the transaction ends. */
export function lockInvitation(
  db: Db,
  organizationId: string,
  invitationId: string,
): Promise<InvitationRow | undefined> {
  return db
    .selectFrom('organization_invitations')
    .select(COLUMNS)
    .where('organization_id', '=', organizationId)
    .where('id', '=', invitationId)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateInvitationRole(
  db: Db,
  invitationId: string,
  role: OrganizationRole,
): Promise<InvitationRow> {
  return db
    .updateTable('organization_invitations')
    .set({ role })
    .where('id', '=', invitationId)
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
}

export async function deleteInvitation(db: Db, invitationId: string): Promise<void> {
  await db.deleteFrom('organization_invitations').where('id', '=', invitationId).execute();
}

/** An invitation as its invitee sees it: which organization, as what, until when. */
export interface OwnInvitationRow {
  readonly id: string;
  readonly organization_id: string;
  readonly organization_name: string;
  readonly role: OrganizationRole;
  readonly created_at: Date;
  readonly expires_at: Date;
}

/** The invitee's invitations not yet expired on the database's clock. */
function ownOpenInvitations(db: Db, userId: string) {
  return db
    .selectFrom('organization_invitations as i')
    .innerJoin('organizations as o', 'o.id', 'i.organization_id')
    .select([
      'i.id',
      'i.organization_id',
      'o.name as organization_name',
      'i.role',
      'i.created_at',
      'i.expires_at',
    ])
    .where('i.user_id', '=', userId)
    .where('i.expires_at', '>', sql<Date>`now()`);
}

/** The invitee's open invitations, newest first. */
export async function listOwnInvitations(db: Db, userId: string): Promise<OwnInvitationRow[]> {
  return ownOpenInvitations(db, userId)
    .orderBy('i.created_at', 'desc')
    .orderBy('i.id')
    .limit(MAX_LISTED)
    .execute();
}

/**
 * The invitee's own open invitation, row-locked; undefined when it is not theirs, was
 * withdrawn, or has expired (all the same to the caller: 404).
 */
export function lockOwnOpenInvitation(
  db: Db,
  userId: string,
  invitationId: string,
): Promise<OwnInvitationRow | undefined> {
  return ownOpenInvitations(db, userId)
    .where('i.id', '=', invitationId)
    .forUpdate('i')
    .executeTakeFirst();
}

/** The invitee's own invitation, open or expired; deleted by declining. */
export async function deleteOwnInvitation(
  db: Db,
  userId: string,
  invitationId: string,
): Promise<{ organizationId: string } | undefined> {
  const row = await db
    .deleteFrom('organization_invitations')
    .where('user_id', '=', userId)
    .where('id', '=', invitationId)
    .returning('organization_id')
    .executeTakeFirst();
  return row && { organizationId: row.organization_id };
}

/** Ends the account's invitation to the organization, if any (it became a member otherwise). */
export async function withdrawInvitationOf(
  db: Db,
  organizationId: string,
  userId: string,
): Promise<void> {
  await db
    .deleteFrom('organization_invitations')
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .execute();
}
