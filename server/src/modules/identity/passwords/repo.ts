// Password rows: the stored argon2id hash, and the accounts a reset or change is about.
import { userByEmail, userById, type Db } from '../users-repo.js';

/** Stores a new hash; `onlyIfActive` leaves an account that was disabled meanwhile alone. */
export async function storePasswordHash(
  db: Db,
  userId: string,
  passwordHash: string,
  now: Date,
  onlyIfActive = false,
): Promise<void> {
  let query = db
    .updateTable('users')
    .set({ password_hash: passwordHash, updated_at: now })
    .where('id', '=', userId);
  if (onlyIfActive) query = query.where('status', '=', 'active');
  await query.execute();
}

/** The account a reset request names, by normalized email. */
export function findAccountForReset(db: Db, emailNormalized: string) {
  return userByEmail(db, emailNormalized).select(['id', 'email', 'status']).executeTakeFirst();
}

/** The account a reset link or a password change is about, with what the policy needs. */
export function findPasswordOwner(db: Db, userId: string) {
  return userById(db, userId)
    .select(['id', 'email', 'display_name', 'status', 'password_hash'])
    .executeTakeFirst();
}
