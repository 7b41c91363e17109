// Password rows: the stored argon2id hash, and the accounts a reset or change is about.
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';

type Db = Kysely<DatabaseSchema>;

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
  return db
    .selectFrom('users')
    .select(['id', 'email', 'status'])
    .where('email_normalized', '=', emailNormalized)
    .executeTakeFirst();
}

/** The account a reset link or a password change is about, with what the policy needs. */
export function findPasswordOwner(db: Db, userId: string) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'display_name', 'status', 'password_hash'])
    .where('id', '=', userId)
    .executeTakeFirst();
}
