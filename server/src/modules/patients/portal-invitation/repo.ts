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
