// Verification of the audit hash chain (L3), for `haven audit-log verify`: streams the log in seq
// order and reports the first edited, deleted, reordered or inserted row.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import { GENESIS_HASH, hashAuditRow, type AuditRowContent } from './audit.js';

export type AuditProblem = 'edited' | 'deleted' | 'reordered' | 'inserted';

export type AuditVerification =
  | { ok: true; checked: number; lastHash: string | null }
  | { ok: false; checked: number; firstBadSeq: string; problem: AuditProblem; message: string };

/** How far from its position a displaced row's original seq is searched for (one SHA-256 each). */
const DISPLACEMENT_WINDOW = 4096n;

interface StoredRow extends AuditRowContent {
  hash: string;
  /** false when occurred_at carries sub-millisecond digits, which the hashed ISO form cannot show. */
  ms_exact: boolean;
}

/** Whether the row's content hashes to its stored hash when placed at `seq`. */
function intactAt(row: StoredRow, seq: bigint): boolean {
  try {
    return row.ms_exact && hashAuditRow({ ...row, seq }) === row.hash;
  } catch {
    return false; // content that cannot even be canonicalized was not written by recordAudit
  }
}

/**
 * Checks every row in seq order with keyset pagination, holding one batch in memory.
 *
 * Each row must hash to its stored hash at its own seq, carry seq = previous + 1 and
 * prev_hash = previous row's hash. A row whose content is intact but sits at another seq
 * (found by re-hashing at nearby seqs) was moved: later than recorded means rows were swapped
 * (reordered) or removed and the rest renumbered (deleted); earlier means rows were inserted.
 *
 * Limits, stated honestly: the chain carries no secret, so someone who can rewrite the table can
 * also recompute every hash after an edit, and deleting the newest rows (tail truncation) leaves a
 * valid shorter chain. Both are only detectable against an anchor kept outside the database: record
 * `lastHash` (with `checked`) elsewhere and compare it on the next run.
 */
export async function verifyAuditChain(
  db: Kysely<DatabaseSchema>,
  options: { batchSize?: number } = {},
): Promise<AuditVerification> {
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error('batchSize must be a positive integer');
  }
  let checked = 0;
  let expectedSeq = 1n;
  let prevHash = GENESIS_HASH;
  for (;;) {
    const batch = await db
      .selectFrom('audit_events')
      .selectAll()
      .select(sql<boolean>`occurred_at = date_trunc('milliseconds', occurred_at)`.as('ms_exact'))
      .where('seq', '>', String(expectedSeq - 1n))
      .orderBy('seq')
      .limit(batchSize)
      .execute();
    for (const row of batch) {
      const seq = BigInt(String(row.seq)); // PGlite returns bigint as a number, node-postgres as a string
      const bad = (
        firstBadSeq: bigint,
        problem: AuditProblem,
        message: string,
        good = checked,
      ): AuditVerification => ({
        ok: false,
        checked: good,
        firstBadSeq: firstBadSeq.toString(),
        problem,
        message,
      });
      if (seq !== expectedSeq) {
        const missing =
          seq - 1n === expectedSeq
            ? `seq ${expectedSeq} is`
            : `seqs ${expectedSeq}..${seq - 1n} are`;
        return bad(seq, 'deleted', `${missing} missing before seq ${seq}`);
      }
      if (intactAt(row, seq)) {
        if (row.prev_hash !== prevHash) {
          // This row is untouched, so its predecessor is not the row it was chained to: that row
          // was rewritten (or replaced) with a freshly computed hash.
          if (seq === 1n) return bad(seq, 'edited', 'seq 1 does not start from the genesis hash');
          return bad(
            seq - 1n,
            'edited',
            `seq ${seq - 1n} was rewritten: seq ${seq} was chained to a different row`,
            checked - 1,
          );
        }
      } else if (row.prev_hash === prevHash) {
        return bad(seq, 'edited', `seq ${seq} does not match its hash`);
      } else {
        const origin = await originalSeq(db, row, seq);
        if (origin === undefined) {
          return bad(
            seq,
            'edited',
            `seq ${seq} does not match its hash and is not chained to seq ${seq - 1n}`,
          );
        }
        if (origin.seq < seq) {
          // The rows now at origin.seq..seq-1 chained cleanly, so they are the intruders.
          const message = `the event recorded as seq ${origin.seq} now sits at seq ${seq}: rows were inserted before it`;
          return bad(origin.seq, 'inserted', message, Number(origin.seq - 1n));
        }
        if (origin.predecessorPresent) {
          return bad(seq, 'reordered', `seq ${seq} holds the event recorded as seq ${origin.seq}`);
        }
        return bad(
          seq,
          'deleted',
          `the event recorded as seq ${origin.seq} now sits at seq ${seq}: rows before it were deleted and the rest renumbered`,
        );
      }
      checked += 1;
      prevHash = row.hash;
      expectedSeq = seq + 1n;
    }
    if (batch.length < batchSize) break;
  }
  return { ok: true, checked, lastHash: checked === 0 ? null : prevHash };
}

/** Finds where a displaced row was recorded, and whether the row it was chained to still exists. */
async function originalSeq(
  db: Kysely<DatabaseSchema>,
  row: StoredRow,
  seq: bigint,
): Promise<{ seq: bigint; predecessorPresent: boolean } | undefined> {
  for (let delta = 1n; delta <= DISPLACEMENT_WINDOW; delta += 1n) {
    for (const candidate of [seq + delta, seq - delta]) {
      if (candidate < 1n || !intactAt(row, candidate)) continue;
      const predecessor = await db
        .selectFrom('audit_events')
        .select('seq')
        .where('hash', '=', row.prev_hash)
        .limit(1)
        .executeTakeFirst();
      return {
        seq: candidate,
        predecessorPresent: row.prev_hash === GENESIS_HASH || predecessor !== undefined,
      };
    }
  }
  return undefined;
}

/** One line for the CLI. */
export function formatVerification(result: AuditVerification): string {
  if (result.ok) {
    return result.lastHash === null
      ? 'audit log OK: 0 events (empty log)'
      : `audit log OK: ${result.checked} events, last hash ${result.lastHash}`;
  }
  return `audit log FAILED at seq ${result.firstBadSeq} (${result.problem}): ${result.message}; ${result.checked} events verified before it`;
}
