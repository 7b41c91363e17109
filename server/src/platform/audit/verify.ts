// Verification of the audit hash chain (L3), for `haven audit-log verify` and the admin API:
// walks the chain in position order and reports the first edited, deleted, reordered or
// inserted event, checks it against the anchors published outside the database (a cut tail),
// then counts the events still waiting for the sealer (seal.ts).
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import type { AuditAnchor } from './anchors.js';
import { GENESIS_HASH, HASHED_EVENT_COLUMNS, hashAuditRow, type AuditRowContent } from './audit.js';
import type { AuditChainKey } from './chain-key.js';
import { anchorsByPosition, keyingProblem, newestAnchor, tailCut } from './verify-checks.js';

export { formatVerification } from './verify-format.js';

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

/** What the anchors confirmed. */
export interface AnchorCheck {
  /** Anchors whose position was found in the chain with the anchored hash. */
  matched: number;
  /** The anchor with the highest position, or null when none were given. */
  newest: AuditAnchor | null;
}

export type AuditVerification =
  | ({
      ok: true;
      checked: number;
      lastHash: string | null;
      /** Of `checked`, seals authenticated under the chain key (the rest predate migration 0006). */
      keyed: number;
      anchors: AnchorCheck;
    } & SealingBacklog)
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

export interface VerifyOptions {
  /** Seals read per query (default 1000). */
  batchSize?: number;
  /** Age after which an unsealed event is reported as stale (default 5 min). */
  staleAfterMs?: number;
  /** The chain key; required once the chain holds keyed seals. */
  key?: AuditChainKey;
  /**
   * The chain key of the master key that was replaced (S2): seals that name it are checked
   * with it. Seals are append-only and never re-made, so the old key is what proves them.
   */
  previousKey?: AuditChainKey;
  /** Anchors published outside the database to check the chain against. */
  anchors?: readonly AuditAnchor[];
}

/** How far from its position a displaced event's original position is searched (one hash each). */
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
      's.key_id',
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

/**
 * Whether the event hashes to the stored hash when placed at `position`: its HMAC under the
 * chain key when the seal names one (false if that is not `key`), else its plain SHA-256.
 */
function intactAt(row: ChainRow, position: bigint, key: AuditChainKey | undefined): boolean {
  const event = eventOf(row);
  if (event === undefined || row.ms_exact !== true) return false;
  // A pre-0005 event's hash binds its seq, which was its position.
  if (event.xid === null && BigInt(String(event.seq)) !== position) return false;
  if (row.key_id !== null && row.key_id !== key?.id) return false;
  const sealKey = row.key_id === null ? undefined : key;
  try {
    return hashAuditRow(event, { position, prev_hash: row.prev_hash }, sealKey) === row.hash;
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
 * Keyed seals (migration 0006) are HMACs under `key`, which the database does not hold, so a
 * rewritten event cannot be given a seal that verifies. Plain SHA-256 seals are accepted only
 * before the first keyed one: after it, one is a forger's downgrade. Each anchor (anchors.ts)
 * must name a position of the chain with the same hash, and the chain must reach the newest
 * anchor: deleting the newest events with their seals (cutting the tail) is caught there.
 *
 * Limits, stated honestly: events sealed after the newest anchor can be cut unnoticed; a
 * chain whose keyed seals were all replaced by plain ones looks like a pre-0006 log unless an
 * anchor covers a keyed position (`keyed` in the result tells how many were authenticated);
 * events not yet sealed (`unsealed`) are not covered by the chain at all. Throws when the
 * chain is keyed and no key is given: it cannot be checked then.
 */
export async function verifyAuditChain(
  db: Kysely<DatabaseSchema>,
  options: VerifyOptions = {},
): Promise<AuditVerification> {
  const batchSize = options.batchSize ?? 1000;
  const staleAfterMs = options.staleAfterMs ?? STALE_UNSEALED_MS;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error('batchSize must be a positive integer');
  }
  if (!Number.isFinite(staleAfterMs) || staleAfterMs < 0) {
    throw new Error('staleAfterMs must be a non-negative number');
  }
  const walk = {
    batchSize,
    staleAfterMs,
    key: options.key,
    previousKey: options.previousKey,
    anchors: options.anchors ?? [],
  };
  if (db.isTransaction) return verifyIn(db, walk);
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute((trx) => verifyIn(trx, walk));
}

type Walk = Required<Omit<VerifyOptions, 'key' | 'previousKey'>> & {
  key: AuditChainKey | undefined;
  previousKey: AuditChainKey | undefined;
};

async function verifyIn(db: Kysely<DatabaseSchema>, walk: Walk): Promise<AuditVerification> {
  const { batchSize, staleAfterMs, previousKey } = walk;
  const anchorsAt = anchorsByPosition(walk.anchors);
  let anchorsMatched = 0;
  let keyed = 0;
  let firstKeyed: bigint | undefined;
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
      // The key the seal names, when it is the previous one; else the current key.
      const key = row.key_id !== null && row.key_id === previousKey?.id ? previousKey : walk.key;
      const refused = keyingProblem(row.key_id, key, firstKeyed);
      if (refused !== undefined) return bad('edited', `${at} ${refused}`);
      if (intactAt(row, position, key)) {
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
        const origin = await originalPosition(db, row, position, key);
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
      for (const anchor of anchorsAt.get(position) ?? []) {
        if (anchor.hash !== row.hash) {
          return bad(
            'edited',
            `${at} differs from the anchor published ${anchor.at}: the chain was rewritten at or before it`,
          );
        }
        anchorsMatched += 1;
      }
      if (row.key_id !== null) {
        keyed += 1;
        firstKeyed ??= position;
      }
      checked += 1;
      prevHash = row.hash;
      previous = { seq: String(row.seq), xid: row.xid };
      expected = position + 1n;
    }
    if (batch.length < batchSize) break;
  }

  const cut = tailCut(walk.anchors, expected - 1n, checked);
  if (cut !== undefined) return cut;
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
    keyed,
    anchors: { matched: anchorsMatched, newest: newestAnchor(walk.anchors) },
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
  key: AuditChainKey | undefined,
): Promise<{ position: bigint; predecessorPresent: boolean } | undefined> {
  for (let delta = 1n; delta <= DISPLACEMENT_WINDOW; delta += 1n) {
    for (const candidate of [position + delta, position - delta]) {
      if (candidate < 1n || !intactAt(row, candidate, key)) continue;
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
