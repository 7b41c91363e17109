// The export's own queries, keyed on the caller's user id.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

/** The caller's own account, as the export shows it. */
export function findAccount(db: Db, userId: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'display_name', 'roles', 'created_at', 'totp_enrolled_at'])
    .where('id', '=', userId)
    .executeTakeFirst();
}

/**
 * The patient record linked to the caller's account, if any. Not requireAccess: having no linked
 * record is an ordinary answer here, not a 404, and the link itself is the caller's own data.
 */
export async function findLinkedPatientId(db: Db, userId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('patients')
    .select('id')
    .where('portal_user_id', '=', userId)
    .executeTakeFirst();
  return row?.id;
}
