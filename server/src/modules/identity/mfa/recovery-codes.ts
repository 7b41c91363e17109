// A9: single-use recovery codes for a lost authenticator. Codes are shown once and stored only
// as SHA-256 hashes; each is 10 Crockford base32 characters (50 bits, no I/L/O/U), printed as
// `xxxxx-xxxxx`, and typed back forgivingly (case, spaces, dashes, O→0, I/L→1).
import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sha256Hex } from '../../../platform/crypto.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { deleteRecoveryCodes, insertRecoveryCodes, spendRecoveryCode } from './repo.js';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const CODE_COUNT = 10;
const CODE_CHARS = 10; // 10 × 5 bits = 50 bits

/** Ten fresh codes, formatted `xxxxx-xxxxx`; show them to the user once. */
export function generateRecoveryCodes(): string[] {
  const codes = new Set<string>();
  while (codes.size < CODE_COUNT) {
    let raw = '';
    for (let i = 0; i < CODE_CHARS; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
    codes.add(`${raw.slice(0, 5)}-${raw.slice(5)}`);
  }
  return [...codes];
}

/** The canonical form of a typed code, or undefined if it cannot be one of ours. */
export function normalizeRecoveryCode(input: string): string | undefined {
  if (input.length > 64) return undefined;
  const code = input
    .toLowerCase()
    .replace(/[\s_-]/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1');
  return code.length === CODE_CHARS && [...code].every((c) => ALPHABET.includes(c))
    ? code
    : undefined;
}

// The user id is hashed in too: the same code for two users can never collide on the
// table-wide UNIQUE index, and a stolen hash can only be guessed against one account.
function hashCode(userId: string, normalized: string): string {
  return sha256Hex(`haven:recovery:${userId}:${normalized}`);
}

/** Replaces all of a user's codes (old ones stop working) atomically. */
export async function replaceRecoveryCodes(
  db: Kysely<DatabaseSchema>,
  userId: string,
  codes: readonly string[],
): Promise<void> {
  const hashes = codes.map((code) => {
    const normalized = normalizeRecoveryCode(code);
    if (normalized === undefined) throw new Error('not a recovery code');
    return hashCode(userId, normalized);
  });
  const replace = async (trx: Kysely<DatabaseSchema>): Promise<void> => {
    await deleteRecoveryCodes(trx, userId);
    await insertRecoveryCodes(trx, userId, hashes);
  };
  // Inside the caller's transaction when given one, so the codes commit with its change and
  // audit event; otherwise in a transaction of its own.
  if (db.isTransaction) await replace(db);
  else await db.transaction().execute(replace);
}

/** Spends a code: true exactly once per code, even under concurrent attempts. */
export async function consumeRecoveryCode(
  db: Kysely<DatabaseSchema>,
  userId: string,
  code: string,
): Promise<boolean> {
  const normalized = normalizeRecoveryCode(code);
  if (normalized === undefined) return false;
  return spendRecoveryCode(db, userId, hashCode(userId, normalized));
}
