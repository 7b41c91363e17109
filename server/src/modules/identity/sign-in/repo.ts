// Sign-in's reads and writes: the account by email, a rehash, and the login backoff rows
// (keyed by a hash, so a row reveals no email).
import { sql } from 'kysely';
import { userByEmail, type Db } from '../users-repo.js';

/** The account a sign-in names, by normalized email. */
export function findAccountByEmail(db: Db, emailNormalized: string) {
  return userByEmail(db, emailNormalized)
    .select(['id', 'email', 'display_name', 'roles', 'status', 'password_hash', 'totp_enrolled_at'])
    .executeTakeFirst();
}

export function readLoginThrottle(db: Db, key: string) {
  return db
    .selectFrom('login_throttle')
    .select(['backoff_until', 'failures'])
    .where('email_hash', '=', key)
    .executeTakeFirst();
}

/** Counts a failure atomically (concurrent failures on several nodes all count). */
export async function incrementLoginFailures(db: Db, key: string, now: Date): Promise<number> {
  const row = await db
    .insertInto('login_throttle')
    .values({ email_hash: key, failures: 1, updated_at: now })
    .onConflict((oc) =>
      oc
        .column('email_hash')
        .doUpdateSet({ failures: sql`login_throttle.failures + 1`, updated_at: now }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  return row.failures;
}

/**
 * The key's row, created empty when missing, locked until the caller's transaction ends: the
 * attempts on a key (on every node) are admitted one at a time. One upsert (its no-op update
 * takes the lock), so a row deleted concurrently by a success is simply created again.
 */
export function lockLoginThrottle(db: Db, key: string, now: Date) {
  return db
    .insertInto('login_throttle')
    .values({ email_hash: key, failures: 0, updated_at: now })
    .onConflict((oc) =>
      oc.column('email_hash').doUpdateSet({ failures: sql`login_throttle.failures` }),
    )
    .returning(['backoff_until', 'failures'])
    .executeTakeFirstOrThrow();
}

/** A new failure count, with the backoff it starts (none below the threshold). */
export async function storeLoginFailures(
  db: Db,
  key: string,
  failures: number,
  backoffUntil: Date | undefined,
  now: Date,
): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set({ failures, updated_at: now, ...(backoffUntil ? { backoff_until: backoffUntil } : {}) })
    .where('email_hash', '=', key)
    .execute();
}

export async function setBackoffUntil(db: Db, key: string, until: Date): Promise<void> {
  await db
    .updateTable('login_throttle')
    .set({ backoff_until: until })
    .where('email_hash', '=', key)
    .execute();
}

export async function deleteLoginThrottle(db: Db, key: string): Promise<void> {
  await db.deleteFrom('login_throttle').where('email_hash', '=', key).execute();
}
