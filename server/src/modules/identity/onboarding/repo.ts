// Onboarding's reads and writes of accounts: invitees, self-registered patients and the first
// admin. Every query names the user (or the normalized email) it works on.
import { sql } from 'kysely';
import type { Role } from '../../../platform/db/schema.js';
import { normalizeEmail } from '../users.js';
import { organizationRoles, userByEmail, userById, type Db } from '../users-repo.js';

/** The account holding an email, locked until the transaction ends. */
export function lockAccountByEmail(trx: Db, email: string) {
  return userByEmail(trx, normalizeEmail(email))
    .select(['id', 'status'])
    .forUpdate()
    .executeTakeFirst();
}

/** An invitee's account, locked until the transaction ends. */
export function lockInvitee(trx: Db, userId: string) {
  return userById(trx, userId)
    .select(['id', 'email', 'roles', 'status', organizationRoles])
    .forUpdate()
    .executeTakeFirst();
}

export function findInvitee(db: Db, userId: string) {
  return userById(db, userId)
    .select(['email', 'display_name', 'roles', 'status', organizationRoles])
    .executeTakeFirst();
}

/** The roles an invitee was given in organizations (by work run in the invitation's transaction). */
export async function inviteeOrganizationRoles(trx: Db, userId: string) {
  const row = await userById(trx, userId).select(organizationRoles).executeTakeFirst();
  return row?.organization_roles ?? [];
}

interface NewAccount {
  readonly email: string;
  readonly displayName: string;
  readonly role: Role;
  readonly passwordHash?: string;
}

/** The row of an account that is not active yet: 'invited' until its first step is done. */
function pendingAccountRow(user: NewAccount) {
  return {
    email: user.email,
    email_normalized: normalizeEmail(user.email),
    display_name: user.displayName,
    roles: [user.role],
    status: 'invited' as const,
    ...(user.passwordHash === undefined ? {} : { password_hash: user.passwordHash }),
  };
}

/** A new account without a password (invited, or the first admin with one). */
export async function insertInvitedUser(trx: Db, user: NewAccount): Promise<string> {
  const row = await trx
    .insertInto('users')
    .values(pendingAccountRow(user))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Drops an invitee's password and unconfirmed MFA seed (a new link alone defines the
 * credentials); a re-invitation also sets the role and name.
 */
export async function resetInvitee(
  trx: Db,
  userId: string,
  now: Date,
  profile?: { role: Role; displayName: string },
): Promise<void> {
  await trx
    .updateTable('users')
    .set({
      ...(profile ? { roles: [profile.role], display_name: profile.displayName } : {}),
      password_hash: null,
      totp_secret_enc: null,
      totp_enrolled_at: null,
      updated_at: now,
    })
    .where('id', '=', userId)
    .execute();
}

/** The data of the newest invitation issued to the user (used or not). */
export async function latestInvitationData(trx: Db, userId: string) {
  const row = await trx
    .selectFrom('one_time_tokens')
    .select('data')
    .where('user_id', '=', userId)
    .where('purpose', '=', 'invitation')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.data;
}

/** The invitee's roles and status, locked until the transaction ends. */
export function lockInviteeStatus(trx: Db, userId: string) {
  return userById(trx, userId).select(['roles', 'status']).forUpdate().executeTakeFirst();
}

/** Stores the password an invitee chose; active unless MFA enrolment must come first. */
export function setInviteePassword(
  trx: Db,
  userId: string,
  values: { passwordHash: string; displayName: string; active: boolean; now: Date },
) {
  return trx
    .updateTable('users')
    .set({
      password_hash: values.passwordHash,
      display_name: values.displayName,
      status: values.active ? 'active' : 'invited',
      updated_at: values.now,
    })
    .where('id', '=', userId)
    .returning(['id', 'email', 'display_name', 'roles'])
    .executeTakeFirstOrThrow();
}

/** A self-registered patient pending verification; undefined when the email is taken. */
export async function insertSignupUnlessTaken(
  trx: Db,
  user: { email: string; displayName: string; passwordHash: string },
): Promise<string | undefined> {
  const row = await trx
    .insertInto('users')
    .values(pendingAccountRow({ ...user, role: 'patient' }))
    .onConflict((oc) => oc.column('email_normalized').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/** Activates a self-registered account; undefined unless it was still pending. */
export async function activateSignup(
  trx: Db,
  userId: string,
  now: Date,
): Promise<string | undefined> {
  const row = await trx
    .updateTable('users')
    .set({ status: 'active', updated_at: now })
    .where('id', '=', userId)
    .where('status', '=', 'invited')
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/**
 * Serializes link issuing and setup across nodes ('hvnsetup' as a bigint): two nodes starting
 * together issue one link, and two setups at once cannot both see an empty users table.
 */
export const SETUP_LOCK_KEY = '7527325269098788208';

/** Held until the caller's transaction ends. */
export async function lockSetup(trx: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(${SETUP_LOCK_KEY}::bigint)`.execute(trx);
}

export async function hasUsers(trx: Db): Promise<boolean> {
  return (await trx.selectFrom('users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** When the newest live setup link expires; undefined when there is none. */
export async function liveSetupLinkExpiry(trx: Db, now: Date): Promise<Date | undefined> {
  const row = await trx
    .selectFrom('one_time_tokens')
    .select('expires_at')
    .where('purpose', '=', 'setup')
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('expires_at', 'desc')
    .executeTakeFirst();
  return row?.expires_at;
}

/** Voids every live setup link; returns how many there were. */
export async function voidSetupLinks(trx: Db, now: Date): Promise<number> {
  const result = await trx
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('purpose', '=', 'setup')
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Who an invitation mail names: the inviter's display name, and the organization the invitee
 * joins (their newest membership). Read here for the same reason as users-repo's
 * organizationRoles: the organizations module builds on identity, not the reverse.
 */
export async function invitationNames(trx: Db, inviterId: string, inviteeId: string) {
  const inviter = await userById(trx, inviterId).select('display_name').executeTakeFirst();
  const organization = await trx
    .selectFrom('organization_members as m')
    .innerJoin('organizations as o', 'o.id', 'm.organization_id')
    .select('o.name')
    .where('m.user_id', '=', inviteeId)
    .orderBy('m.created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return {
    inviterName: inviter?.display_name ?? null,
    organizationName: organization?.name ?? null,
  };
}
