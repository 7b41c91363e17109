// Queries about the members of one organization (Z4). Each takes the organization as an
// argument and names it in its WHERE clause; services pass their transaction as `db` for work
// that must commit together.
import { sql } from 'kysely';
import type { OrganizationRole, Role } from '../../../platform/db/schema.js';
import type { Db } from '../repo.js';
import { MAX_LISTED, type MemberView } from '../schemas.js';

/** Clears the organization from every session of the user that works in it; how many there were. */
export async function clearActiveOrganization(
  db: Db,
  organizationId: string,
  userId: string,
): Promise<number> {
  const cleared = await db
    .updateTable('sessions')
    .set({ active_organization_id: null })
    .where('user_id', '=', userId)
    .where('active_organization_id', '=', organizationId)
    .executeTakeFirst();
  return Number(cleared.numUpdatedRows);
}

function membersOf(db: Db, organizationId: string) {
  return db
    .selectFrom('organization_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'u.email', 'u.display_name', 'm.role', 'u.status', 'm.created_at'])
    .where('m.organization_id', '=', organizationId);
}
type MemberRow = NonNullable<Awaited<ReturnType<ReturnType<typeof membersOf>['executeTakeFirst']>>>;

function toMemberView(row: MemberRow): MemberView {
  return {
    userId: row.user_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    status: row.status,
    addedAt: row.created_at.toISOString(),
  };
}

/**
 * The members and the open or expired invitations of existing accounts (invitations/repo.ts),
 * in one order: an invitation reads as the 'invited' member an invitation of an unknown email
 * makes, named by what the org admin typed, and sits where such a member would.
 */
export async function listMembers(db: Db, organizationId: string): Promise<MemberView[]> {
  const invitations = db
    .selectFrom('organization_invitations as i')
    .select([
      'i.id as user_id',
      'i.email',
      'i.display_name',
      'i.role',
      sql<MemberView['status']>`'invited'`.as('status'),
      'i.created_at',
      sql<string>`lower(i.display_name)`.as('sort_name'),
    ])
    .where('i.organization_id', '=', organizationId);
  const rows = await membersOf(db, organizationId)
    .select(sql<string>`lower(u.display_name)`.as('sort_name'))
    .unionAll(invitations)
    .orderBy('sort_name')
    .orderBy('user_id')
    .limit(MAX_LISTED)
    .execute();
  return rows.map(toMemberView);
}

export async function findMember(
  db: Db,
  organizationId: string,
  userId: string,
): Promise<MemberView | undefined> {
  const row = await membersOf(db, organizationId)
    .where('m.user_id', '=', userId)
    .executeTakeFirst();
  return row && toMemberView(row);
}

/**
 * Every member row of the organization, locked in a fixed order for the rest of the
 * transaction: concurrent demotions or removals queue behind each other, so two of them cannot
 * both see "another org_admin remains" and together leave none.
 */
export function lockMembers(
  db: Db,
  organizationId: string,
): Promise<Array<{ user_id: string; role: OrganizationRole }>> {
  return db
    .selectFrom('organization_members')
    .select(['user_id', 'role'])
    .where('organization_id', '=', organizationId)
    .orderBy('user_id')
    .forUpdate()
    .execute();
}

/** Fails with the driver's unique violation when the user is already a member. */
export async function insertMembership(
  db: Db,
  membership: { organizationId: string; userId: string; role: OrganizationRole; addedBy: string },
): Promise<void> {
  await db
    .insertInto('organization_members')
    .values({
      organization_id: membership.organizationId,
      user_id: membership.userId,
      role: membership.role,
      added_by: membership.addedBy,
    })
    .execute();
}

export async function updateMemberRole(
  db: Db,
  organizationId: string,
  userId: string,
  role: OrganizationRole,
): Promise<void> {
  await db
    .updateTable('organization_members')
    .set({ role })
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .execute();
}

export async function deleteMembership(
  db: Db,
  organizationId: string,
  userId: string,
): Promise<void> {
  await db
    .deleteFrom('organization_members')
    .where('organization_id', '=', organizationId)
    .where('user_id', '=', userId)
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Accounts met while adding a member, or linking a patient record (the patients module's
// portal invitation uses these through the front door)

/** The account with the normalized email, row-locked until the transaction ends. */
export function lockAccountByEmail(
  db: Db,
  emailKey: string,
): Promise<
  | {
      id: string;
      email: string;
      roles: Role[];
      status: 'invited' | 'active' | 'disabled';
      /** Whether the account has a password (an invitee has none until they open their link). */
      password_set: boolean;
    }
  | undefined
> {
  return db
    .selectFrom('users')
    .select([
      'id',
      'email',
      'roles',
      'status',
      sql<boolean>`password_hash is not null`.as('password_set'),
    ])
    .where('email_normalized', '=', emailKey)
    .forUpdate()
    .executeTakeFirst();
}

/** The account's roles and status, row-locked: what decides whether it may accept an invitation. */
export function lockAccountById(
  db: Db,
  userId: string,
): Promise<{ roles: Role[]; status: 'invited' | 'active' | 'disabled' } | undefined> {
  return db
    .selectFrom('users')
    .select(['roles', 'status'])
    .where('id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
}

/** True when the user row was inserted by the transaction `db` runs in (created_at = now()). */
export async function createdInThisTransaction(db: Db, userId: string): Promise<boolean> {
  const created = await db
    .selectFrom('users')
    .select('id')
    .where('id', '=', userId)
    .where(sql<boolean>`created_at = now()`)
    .executeTakeFirst();
  return created !== undefined;
}
