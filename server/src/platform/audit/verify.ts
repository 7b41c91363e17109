// Verification of the audit hash chain (L3), for `haven audit-log verify` and the admin API:
// walks the chain in position order and reports the first edited, deleted, reordered or
// inserted event, then how many events are still waiting for the sealer (seal.ts).
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import { GENESIS_HASH, HASHED_EVENT_COLUMNS, hashAuditRow, type AuditRowContent } from './audit.js';

export type AuditProblem = 'edited' | 'deleted' | 'reordered' | 'inserted';

/** Events not in the chain yet, as seen by the verification. */
export interface SealingBacklog {
  /** Committed events the sealer has not reached: normally only the last second or so. */
  unsealed: number;
  /** Of those, recorded more than `staleAfterMs` ago: the sealer is not running (or an open
   *  transaction holds it back). Those events are not protected by the chain yet. */
  staleUnsealed: number;
  /** Database time the oldest unsealed event was recorded, or null. */
  oldestUnsealedAt: Date | null;
  staleAfterMs: number;
}

export type AuditVerification =
  | ({ ok: true; checked: number; lastHash: string | null } & SealingBacklog)
  | {
      ok: false;
      checked: number;
      /** seq of the event where the problem shows. */
      firstBadSeq: string;
      /** Its chain position; null for an event that is not in the chain at all. */
      firstBadPosition: string | null;
      problem: AuditProblem;
      message: string;
    };

/** How far from its position a displaced event's original position is searched (one SHA-256 each). */
const DISPLACEMENT_WINDOW = 4096n;
/** Default age after which an unsealed event is reported as stale. */
export const STALE_UNSEALED_MS = 5 * 60_000;

/** One batch of the chain: each seal with its event (all event columns null if it is gone). */
function readBatch(db: Kysely<DatabaseSchema>, after: bigint, limit: number) {
  return db
    .selectFrom('audit_seals as s')
    .leftJoin('audit_events as e', 'e.seq', 's.seq')
    .select([
      's.chain_position',
      's.seq as sealed_seq',
      sql<string | null>`s.xid::text`.as('sealed_xid'),
      's.prev_hash',
      's.hash',
      ...HASHED_EVENT_COLUMNS.map((column) => `e.${column}` as const),
      sql<string | null>`e.xid::text`.as('xid'),
      // false when occurred_at carries sub-millisecond digits, which the hashed ISO form cannot show
      sql<boolean | null>`e.occurred_at = date_trunc('milliseconds', e.occurred_at)`.as('ms_exact'),
    ])
    .where('s.chain_position', '>', after.toString())
    .orderBy('s.chain_position')
    .limit(limit)
    .execute();
}

type ChainRow = Awaited<ReturnType<typeof readBatch>>[number];

/** The sealed event's content, or undefined when the event row is missing. */
function eventOf(row: ChainRow): AuditRowContent | undefined {
  const { seq, id, occurred_at, actor_type, action, outcome, details } = row;
  if (seq === null || id === null || occurred_at === null || actor_type === null) return undefined;
  if (action === null || outcome === null || details === null) return undefined;
  return { ...row, seq, id, occurred_at, actor_type, action, outcome, details };
}

/** Whether the event hashes to the stored hash when placed at `position`. */
function intactAt(row: ChainRow, position: bigint): boolean {
  const event = eventOf(row);
  if (event === undefined || row.ms_exact !== true) return false;
  // A pre-0005 event's hash binds its seq, which was its position.
  if (event.xid === null && BigInt(String(event.seq)) !== position) return false;
  try {
    return hashAuditRow(event, { position, prev_hash: row.prev_hash }) === row.hash;
  } catch {
    return false; // content that cannot even be canonicalized was not written by recordAudit
  }
}

/**
 * Checks the chain with keyset pagination over chain_position, holding one batch in memory,
 * in one read-only REPEATABLE READ transaction so the walk and the backlog count agree. It
 * only reads: it can run on a replica, and it never seals (that would hide a stopped sealer).
 *
 * Each position must follow the previous one with no gap, name an event that still exists
 * and whose content hashes, at that position, to the stored hash, with prev_hash = previous
 * position's hash, in (xid, seq) order. An event whose content is intact but that sits at
 * another position (found by re-hashing at nearby positions) was moved: later than sealed
 * means events were swapped (reordered) or removed and the rest renumbered (deleted); earlier
 * means events were inserted. Finally, an unsealed event that sorts before the last sealed
 * one can never be sealed: it was inserted behind the sealer's back (or its seal removed).
 *
 * Limits, stated honestly: the chain carries no secret, so someone who can rewrite the tables
 * can also recompute every hash after an edit, and deleting the newest events with their seals
 * (tail truncation) leaves a valid shorter chain. Both are only detectable against an anchor
 * kept outside the database: record `lastHash` (with `checked`) elsewhere and compare it on the
 * next run. Events not yet sealed (`unsealed`) are not covered by the chain at all.
 */
export async function verifyAuditChain(
  db: Kysely<DatabaseSchema>,
  options: { batchSize?: number; staleAfterMs?: number } = {},
): Promise<AuditVerification> {
  const batchSize = options.batchSize ?? 1000;
  const staleAfterMs = options.staleAfterMs ?? STALE_UNSEALED_MS;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error('batchSize must be a positive integer');
  }
  if (!Number.isFinite(staleAfterMs) || staleAfterMs < 0) {
    throw new Error('staleAfterMs must be a non-negative number');
  }
  if (db.isTransaction) return verifyIn(db, batchSize, staleAfterMs);
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute((trx) => verifyIn(trx, batchSize, staleAfterMs));
}

async function verifyIn(
  db: Kysely<DatabaseSchema>,
  batchSize: number,
  staleAfterMs: number,
): Promise<AuditVerification> {
  let checked = 0;
  let expected = 1n;
  let prevHash = GENESIS_HASH;
  let previous: { seq: string; xid: string | null } | undefined;
  for (;;) {
    const batch = await readBatch(db, expected - 1n, batchSize);
    for (const row of batch) {
      // PGlite returns bigint as a number, node-postgres as a string.
      const position = BigInt(String(row.chain_position));
      const seq = String(row.sealed_seq);
      const at = `position ${position} (seq ${seq})`;
      const bad = (
        problem: AuditProblem,
        message: string,
        where: { seq: string; position: bigint } = { seq, position },
        good = checked,
      ): AuditVerification => ({
        ok: false,
        checked: good,
        firstBadSeq: where.seq,
        firstBadPosition: where.position.toString(),
        problem,
        message,
      });
      if (position !== expected) {
        const missing =
          position - 1n === expected
            ? `position ${expected} is`
            : `positions ${expected}..${position - 1n} are`;
        return bad('deleted', `chain ${missing} missing before ${at}`);
      }
      if (eventOf(row) === undefined) return bad('deleted', `the event sealed at ${at} is missing`);
      if (row.xid !== row.sealed_xid) {
        return bad('edited', `${at}: the event's transaction id differs from the sealed one`);
      }
      if (intactAt(row, position)) {
        if (row.prev_hash !== prevHash) {
          // This event is untouched, so its predecessor is not the event it was chained to:
          // that one was rewritten (or replaced) with a freshly computed hash.
          if (previous === undefined) {
            return bad('edited', `${at} does not start from the genesis hash`);
          }
          return bad(
            'edited',
            `position ${position - 1n} (seq ${previous.seq}) was rewritten: ${at} was chained to a different event`,
            { seq: previous.seq, position: position - 1n },
            checked - 1,
          );
        }
        if (
          previous !== undefined &&
          previous.xid !== null &&
          row.xid !== null &&
          !follows(row, previous)
        ) {
          return bad('reordered', `${at} is out of the sealing order (xid, seq)`);
        }
      } else if (row.prev_hash === prevHash) {
        return bad('edited', `${at} does not match its hash`);
      } else {
        const origin = await originalPosition(db, row, position);
        if (origin === undefined) {
          return bad(
            'edited',
            `${at} does not match its hash and is not chained to position ${position - 1n}`,
          );
        }
        if (origin.position < position) {
          // The events now at origin..position-1 chained cleanly, so they are the intruders.
          const intruder = await db
            .selectFrom('audit_seals')
            .select('seq')
            .where('chain_position', '=', origin.position.toString())
            .executeTakeFirst();
          return bad(
            'inserted',
            `the event sealed at position ${origin.position} now sits at ${at}: events were inserted before it`,
            { seq: intruder === undefined ? seq : String(intruder.seq), position: origin.position },
            Number(origin.position - 1n),
          );
        }
        if (origin.predecessorPresent) {
          return bad('reordered', `${at} holds the event sealed at position ${origin.position}`);
        }
        return bad(
          'deleted',
          `the event sealed at position ${origin.position} now sits at ${at}: events before it were deleted and the rest renumbered`,
        );
      }
      checked += 1;
      prevHash = row.hash;
      previous = { seq: String(row.seq), xid: row.xid };
      expected = position + 1n;
    }
    if (batch.length < batchSize) break;
  }

  const behind = await unsealedBehindTheChain(db);
  if (behind !== undefined) {
    return {
      ok: false,
      checked,
      firstBadSeq: behind,
      firstBadPosition: null,
      problem: 'inserted',
      message: `seq ${behind} is not in the chain but sorts before its last sealed event: it was inserted behind the sealer's back, or its seal was removed`,
    };
  }
  const backlog = await sql<{ unsealed: number; stale: number; oldest: Date | null }>`
    select count(*)::int as unsealed,
           (count(*) filter (
             where e.inserted_at < now() - ${staleAfterMs}::float8 * interval '1 millisecond'
           ))::int as stale,
           min(e.inserted_at) as oldest
    from audit_events e
    where not exists (select 1 from audit_seals s where s.seq = e.seq)`.execute(db);
  const counts = backlog.rows[0];
  return {
    ok: true,
    checked,
    lastHash: checked === 0 ? null : prevHash,
    unsealed: counts?.unsealed ?? 0,
    staleUnsealed: counts?.stale ?? 0,
    oldestUnsealedAt: counts?.oldest ?? null,
    staleAfterMs,
  };
}

/** Whether `row` comes after `previous` in the sealer's (xid, seq) order. */
function follows(row: ChainRow, previous: { seq: string; xid: string | null }): boolean {
  const [xid, prevXid] = [BigInt(row.xid ?? 0), BigInt(previous.xid ?? 0)];
  return xid > prevXid || (xid === prevXid && BigInt(String(row.seq)) > BigInt(previous.seq));
}

/**
 * The seq of an unsealed event that sorts before the last sealed one, if any. The sealer only
 * ever appends events that sort after its last seal (seal.ts), so such an event cannot be
 * sealed any more: it was written behind its back (an insert with the stamping trigger
 * disabled, or a pre-0005 event without a seal).
 */
async function unsealedBehindTheChain(db: Kysely<DatabaseSchema>): Promise<string | undefined> {
  const result = await sql<{ seq: string | number }>`
    with tail as (
      select xid, seq from audit_seals order by chain_position desc limit 1
    )
    select e.seq from audit_events e
    where not exists (select 1 from audit_seals s where s.seq = e.seq)
      and (e.xid is null
           or exists (select 1 from tail where tail.xid is not null and (e.xid, e.seq) < (tail.xid, tail.seq)))
    order by e.seq
    limit 1`.execute(db);
  const row = result.rows[0];
  return row === undefined ? undefined : String(row.seq);
}

/** Finds where a displaced event was sealed, and whether the event it was chained to still exists. */
async function originalPosition(
  db: Kysely<DatabaseSchema>,
  row: ChainRow,
  position: bigint,
): Promise<{ position: bigint; predecessorPresent: boolean } | undefined> {
  for (let delta = 1n; delta <= DISPLACEMENT_WINDOW; delta += 1n) {
    for (const candidate of [position + delta, position - delta]) {
      if (candidate < 1n || !intactAt(row, candidate)) continue;
      const predecessor = await db
        .selectFrom('audit_seals')
        .select('chain_position')
        .where('hash', '=', row.prev_hash)
        .limit(1)
        .executeTakeFirst();
      return {
        position: candidate,
        predecessorPresent: row.prev_hash === GENESIS_HASH || predecessor !== undefined,
      };
    }
  }
  return undefined;
}

/** One line for the CLI. */
export function formatVerification(result: AuditVerification): string {
  if (!result.ok) {
    return `audit log FAILED at seq ${result.firstBadSeq} (${result.problem}): ${result.message}; ${result.checked} events verified before it`;
  }
  const chain =
    result.lastHash === null
      ? result.unsealed === 0
        ? 'audit log OK: 0 events (empty log)'
        : 'audit log OK: 0 events sealed'
      : `audit log OK: ${result.checked} events, last hash ${result.lastHash}`;
  if (result.unsealed === 0) return chain;
  const waiting = `${chain}; ${result.unsealed} newer ${result.unsealed === 1 ? 'event is' : 'events are'} not sealed yet`;
  if (result.staleUnsealed === 0) return waiting;
  const minutes = Math.round(result.staleAfterMs / 60_000);
  return (
    `${waiting}; WARNING: ${result.staleUnsealed} of them recorded more than ${minutes} min ago ` +
    `(oldest ${result.oldestUnsealedAt?.toISOString() ?? '?'}) and not protected by the chain: ` +
    'the sealer (job audit.seal, run by `haven worker` or the embedded server) is not running, ' +
    'or a long-open transaction holds it back'
  );
}
