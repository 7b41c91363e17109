// Single-use links (setup, invitation, password reset, email verification) and the MFA-pending
// state: 256-bit random tokens stored only as SHA-256, with an expiry, consumed by one
// conditional UPDATE so two racing requests cannot both use one (A9, A10, A11).
import type { ExpressionBuilder } from 'kysely';
import type { DatabaseSchema, OneTimePurpose } from '../../../platform/db/schema.js';
import { randomToken, sha256Hex } from '../../../platform/crypto.js';
import type { Db } from '../users-repo.js';

export const LINK_LIFETIMES_MS: Readonly<Record<Exclude<OneTimePurpose, 'mfa_pending'>, number>> =
  Object.freeze({
    setup: 24 * 3_600_000,
    invitation: 72 * 3_600_000,
    password_reset: 30 * 60_000,
    email_verification: 24 * 3_600_000,
  });

export const INVITATION_LINK_LIFETIME_MS = LINK_LIFETIMES_MS.invitation;

export interface OneTimeRecord {
  readonly id: string;
  readonly userId: string | null;
  readonly data: Record<string, unknown>;
  readonly expiresAt: Date;
}

/** Issues a link token; only its hash is stored. Returns the token to put in the link. */
export async function issueOneTimeToken(
  db: Db,
  input: {
    purpose: OneTimePurpose;
    userId: string | null;
    data?: Record<string, unknown>;
    lifetimeMs: number;
    now: Date;
  },
): Promise<{ token: string; id: string; expiresAt: Date }> {
  const token = randomToken(32);
  const expiresAt = new Date(input.now.getTime() + input.lifetimeMs);
  const row = await db
    .insertInto('one_time_tokens')
    .values({
      purpose: input.purpose,
      token_hash: sha256Hex(token),
      user_id: input.userId,
      data: JSON.stringify(input.data ?? {}),
      created_at: input.now,
      expires_at: expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { token, id: row.id, expiresAt };
}

/** The token, if it is of `purpose`, unused and unexpired: the one test of a usable link. */
const isLive =
  (purpose: OneTimePurpose, token: string, now: Date) =>
  (eb: ExpressionBuilder<DatabaseSchema, 'one_time_tokens'>) =>
    eb.and([
      eb('token_hash', '=', sha256Hex(token)),
      eb('purpose', '=', purpose),
      eb('used_at', 'is', null),
      eb('expires_at', '>', now),
    ]);

function toRecord(row: {
  id: string;
  user_id: string | null;
  data: Record<string, unknown>;
  expires_at: Date;
}): OneTimeRecord {
  return { id: row.id, userId: row.user_id, data: row.data, expiresAt: row.expires_at };
}

const RECORD_COLUMNS = ['id', 'user_id', 'data', 'expires_at'] as const;

/**
 * The live token of `purpose`, read as it is or used up in the same statement; undefined when
 * unknown, used, expired or of another purpose.
 */
async function findLiveToken(
  db: Db,
  purpose: OneTimePurpose,
  token: string,
  now: Date,
  use: 'peek' | 'consume',
): Promise<OneTimeRecord | undefined> {
  const live = isLive(purpose, token, now);
  const row =
    use === 'consume'
      ? await db
          .updateTable('one_time_tokens')
          .set({ used_at: now })
          .where(live)
          .returning(RECORD_COLUMNS)
          .executeTakeFirst()
      : await db
          .selectFrom('one_time_tokens')
          .select(RECORD_COLUMNS)
          .where(live)
          .executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

type LiveTokenLookup = (
  db: Db,
  purpose: OneTimePurpose,
  token: string,
  now: Date,
) => Promise<OneTimeRecord | undefined>;

/** Reads a live token without using it (to show an invitation before it is accepted). */
export const peekOneTimeToken: LiveTokenLookup = (db, purpose, token, now) =>
  findLiveToken(db, purpose, token, now, 'peek');

/** Uses a token exactly once: of two racing requests, one gets the record, the other nothing. */
export const consumeOneTimeToken: LiveTokenLookup = (db, purpose, token, now) =>
  findLiveToken(db, purpose, token, now, 'consume');

/** Marks the user's unused tokens used: all of them, or those of one purpose. */
async function voidUnusedTokens(
  db: Db,
  userId: string,
  now: Date,
  purpose?: OneTimePurpose,
): Promise<void> {
  let query = db
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('used_at', 'is', null);
  if (purpose !== undefined) query = query.where('purpose', '=', purpose);
  await query.execute();
}

/** Voids every live token of a purpose for a user (a new reset link replaces older ones). */
export function voidOneTimeTokens(
  db: Db,
  purpose: OneTimePurpose,
  userId: string,
  now: Date,
): Promise<void> {
  return voidUnusedTokens(db, userId, now, purpose);
}

/**
 * Counts an attempt against a live token atomically and returns it, or undefined when it is
 * unknown, used, expired, of another purpose or out of attempts (at most `maxAttempts`).
 */
export function countOneTimeAttempt(
  db: Db,
  purpose: OneTimePurpose,
  token: string,
  now: Date,
  maxAttempts: number,
) {
  return db
    .updateTable('one_time_tokens')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where(isLive(purpose, token, now))
    .where('attempts', '<', maxAttempts)
    .returning(['id', 'user_id', 'data'])
    .executeTakeFirst();
}

/** Uses a token found earlier by id; false when it was already used. */
export async function useOneTimeTokenById(db: Db, id: string, now: Date): Promise<boolean> {
  const row = await db
    .updateTable('one_time_tokens')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Voids every live token of a user, whatever its purpose (the account was disabled). */
export function voidAllOneTimeTokens(db: Db, userId: string, now: Date): Promise<void> {
  return voidUnusedTokens(db, userId, now);
}
