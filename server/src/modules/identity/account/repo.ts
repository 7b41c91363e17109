// The signed-in user's own account row: name and email address. Every query names the user.
import { normalizeEmail } from '../users.js';
import { userById, type Db } from '../users-repo.js';

export function setDisplayName(db: Db, userId: string, displayName: string, now: Date) {
  return db
    .updateTable('users')
    .set({ display_name: displayName, updated_at: now })
    .where('id', '=', userId)
    .returning(['id', 'email', 'display_name', 'roles'])
    .executeTakeFirst();
}

export function findEmailOf(db: Db, userId: string) {
  return userById(db, userId).select(['id', 'email', 'email_normalized']).executeTakeFirst();
}

/** Whether another account (not `exceptUserId`) holds the address. */
export async function emailTaken(db: Db, email: string, exceptUserId?: string): Promise<boolean> {
  let query = db
    .selectFrom('users')
    .select('id')
    .where('email_normalized', '=', normalizeEmail(email));
  if (exceptUserId !== undefined) query = query.where('id', '!=', exceptUserId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** Moves the account to a new address (a unique violation when someone took it meanwhile). */
export function setEmail(db: Db, userId: string, email: string, now: Date) {
  return db
    .updateTable('users')
    .set({ email, email_normalized: normalizeEmail(email), updated_at: now })
    .where('id', '=', userId)
    .returning(['id', 'email', 'display_name', 'roles'])
    .executeTakeFirstOrThrow();
}
