// Linking a patient record to a portal account. The link is scoped by organization and patient;
// the account lookups are scoped by the one email or user id being linked.
import { sql, type Selectable } from 'kysely';
import type { UsersTable } from '../../../platform/db/schema.js';
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

/** The account with this normalized email, locked until commit so its roles cannot change. */
export async function lockAccountByEmail(
  db: Db,
  emailNormalized: string,
): Promise<Pick<Selectable<UsersTable>, 'id' | 'status' | 'roles'> | undefined> {
  return db
    .selectFrom('users')
    .select(['id', 'status', 'roles'])
    .where('email_normalized', '=', emailNormalized)
    .forUpdate()
    .executeTakeFirst();
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

/**
 * Whether the account was created by this very transaction: created_at is the transaction
 * start, now().
 */
export async function isCreatedInThisTransaction(db: Db, userId: string): Promise<boolean> {
  const account = await db
    .selectFrom('users')
    .select('id')
    .where('id', '=', userId)
    .where(sql<boolean>`created_at = now()`)
    .executeTakeFirst();
  return account !== undefined;
}
