// The second factor in the database: the sealed TOTP seed and its last used step on the user
// row, recovery code hashes, and the session's MFA time after a step-up. Every query names
// the user (and the session) it works on.
import { sql } from 'kysely';
import { userById, type Db } from '../users-repo.js';

/** The account with its sealed seed: sign-in's MFA step and step-up verify against it. */
export function findTotpAccount(db: Db, userId: string) {
  return userById(db, userId)
    .select(['id', 'email', 'display_name', 'roles', 'status', 'totp_secret_enc', 'totp_last_step'])
    .executeTakeFirst();
}

/**
 * Records `step` as used, atomically: true only for the one caller whose update moved
 * `totp_last_step` forward, so two nodes verifying the same code cannot both accept it.
 */
export async function consumeTotpStep(db: Db, userId: string, step: bigint): Promise<boolean> {
  const value = step.toString();
  const row = await db
    .updateTable('users')
    .set({ totp_last_step: value })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', value)]))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Whether MFA is enrolled and which roles the account has. */
export function findMfaState(db: Db, userId: string) {
  return userById(db, userId)
    .select(['id', 'email', 'roles', 'totp_enrolled_at'])
    .executeTakeFirst();
}

/** The enrolment state of the seed, to check a confirmation code against. */
export function findUnconfirmedSeed(db: Db, userId: string) {
  return userById(db, userId)
    .select(['totp_secret_enc', 'totp_enrolled_at', 'totp_last_step'])
    .executeTakeFirst();
}

/** Stores a fresh sealed seed unless MFA is already enrolled; false when it is. */
export async function storeUnconfirmedSeed(
  db: Db,
  userId: string,
  sealedSeed: string,
  now: Date,
): Promise<boolean> {
  const row = await db
    .updateTable('users')
    .set({ totp_secret_enc: sealedSeed, updated_at: now })
    .where('id', '=', userId)
    .where('totp_enrolled_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Marks TOTP enrolled and the account active. Only a user who has set a password (onboarding)
 * or is already active may become active; undefined otherwise, or when already enrolled.
 */
export function confirmEnrollment(db: Db, userId: string, now: Date) {
  return db
    .updateTable('users')
    .set({ totp_enrolled_at: now, status: 'active', updated_at: now })
    .where('id', '=', userId)
    .where('totp_enrolled_at', 'is', null)
    .where('status', 'in', ['invited', 'active'])
    .where('password_hash', 'is not', null)
    .returning(['id', 'email', 'display_name', 'roles'])
    .executeTakeFirst();
}

/** The account's roles, locked so a concurrent role change waits (turning MFA off). */
export function lockAccountRoles(db: Db, userId: string) {
  return userById(db, userId).select(['id', 'roles']).forUpdate().executeTakeFirst();
}

/** Forgets the seed: MFA is off for the account. */
export async function clearTotp(db: Db, userId: string, now: Date): Promise<void> {
  await db
    .updateTable('users')
    .set({ totp_secret_enc: null, totp_enrolled_at: null, totp_last_step: null, updated_at: now })
    .where('id', '=', userId)
    .execute();
}

export async function deleteRecoveryCodes(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
}

export async function insertRecoveryCodes(
  db: Db,
  userId: string,
  codeHashes: readonly string[],
): Promise<void> {
  if (codeHashes.length === 0) return;
  await db
    .insertInto('recovery_codes')
    .values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash })))
    .execute();
}

/** Spends an unused code by its hash: true exactly once per code, even under concurrency. */
export async function spendRecoveryCode(
  db: Db,
  userId: string,
  codeHash: string,
): Promise<boolean> {
  const row = await db
    .updateTable('recovery_codes')
    .set({ used_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** How many unused codes the user has left (shown so they regenerate before running out). */
export async function remainingRecoveryCodes(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('recovery_codes')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The caller's own session while it is live, to record a step-up on. */
export function findLiveSession(db: Db, userId: string, sessionId: string, now: Date) {
  return db
    .selectFrom('sessions')
    .select(['amr'])
    .where('id', '=', sessionId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('absolute_expires_at', '>', now)
    .executeTakeFirst();
}

/** Stored on the session so refreshed access tokens keep the fresh MFA time too. */
export function recordSessionMfa(db: Db, sessionId: string, now: Date, amr: string[]) {
  return db
    .updateTable('sessions')
    .set({ mfa_at: now, amr })
    .where('id', '=', sessionId)
    .returning(['amr', 'created_at', 'idle_expires_at', 'absolute_expires_at'])
    .executeTakeFirstOrThrow();
}
