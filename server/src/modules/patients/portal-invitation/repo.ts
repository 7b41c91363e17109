// Linking a patient record to a portal account. The link is scoped by organization and patient;
// the account lookups are scoped by the one user id being linked (the look-ups by email are
// the organizations module's, which adding a member shares).
import { sql } from 'kysely';
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
