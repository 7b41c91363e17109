// The audit sealer (L3, issue 9): links committed audit events into the keyed hash chain.
//
// Why writers do not chain their own events. Appending to one chain at write time needs the
// chain's tail, so every audited transaction used to take one global advisory lock and hold it
// until commit: audited writes ran one at a time across all nodes, and a second node added no
// throughput. Now a writer only INSERTs its event (no lock, no read); the database stamps it
// with seq (a sequence) and xid (pg_current_xact_id(), the writing transaction). A single
// sealer, run every second or so from the job queue, puts the events into the chain later.
//
// The order, and why no event can ever have to go before one already sealed. Events are
// sealed in (xid, seq) order, but only those whose xid is below the xmin of the sealer's
// snapshot. xmin is the oldest transaction still running when the snapshot was taken, so:
//  - every transaction with a smaller xid has ended: its events are all visible now
//    (committed), or will never exist (rolled back);
//  - every transaction still running, or not yet started, has an xid >= xmin, and xid8 values
//    only grow (64 bits, no wraparound), so each event written from now on sorts after
//    everything below xmin.
// The events below xmin are therefore a final prefix of the (xid, seq) order, and the sealer
// gives them chain positions tail+1, tail+2, ... with prev_hash and hash (audit.ts,
// hashAuditRow). Neither seq order (taken at insert, not commit: a transaction that inserts
// first and commits last would have to be skipped or waited for) nor commit order (not exposed
// by PostgreSQL; track_commit_timestamp is off by default and not strictly ordered) can do this.
// The sealing is deterministic: whoever runs it, the chain comes out the same.
//
// Its price: a transaction that has written something holds xmin back for as long as it stays
// open, anywhere in the PostgreSQL cluster, and events recorded after it began wait for it
// before they are sealed (they are recorded and committed as usual; only sealing waits).
// Haven's own transactions are bounded (pool statement_timeout, idle_in_transaction timeout);
// verifyAuditChain reports events that stay unsealed longer than a few minutes.
//
// One sealer at a time: pg_try_advisory_xact_lock on its own key; a second sealer returns at
// once. Were two to race anyway, the primary key on chain_position and UNIQUE (seq) in
// audit_seals refuse the second chain rather than fork it. Sealing INSERTs into audit_seals,
// itself append-only; audit_events is never updated (its triggers are those of 0001).
//
// What sealing protects, and from when: an event is covered by the chain once sealed, about a
// second after its transaction ends; before that only the append-only triggers protect it.
// Seals are HMAC-SHA256 under the chain key (chain-key.ts, migration 0006), which is not in
// the database: someone able to disable the triggers can still edit or delete rows, but cannot
// recompute a seal that verifies. Deleting the newest events with their seals leaves a shorter
// chain that is valid in itself; anchors published outside the database (anchors.ts) expose it.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../db/schema.js';
import { GENESIS_HASH, HASHED_EVENT_COLUMNS, hashAuditRow, xidText } from './audit.js';
import type { AuditChainKey } from './chain-key.js';

/** pg_try_advisory_xact_lock key of the sealer, on every node ('hvnseals' as a bigint). */
export const AUDIT_SEAL_LOCK_KEY = '7527325269097540723';

export interface SealOptions {
  /**
   * The chain key. The job always passes it; only tests and benchmarks seal without one,
   * producing the plain SHA-256 seals of before 0006, which are refused once the chain is keyed.
   */
  key?: AuditChainKey;
  /** Events sealed per transaction (default 500). */
  batchSize?: number;
  /** Stop after this many events (default: until caught up); the next run continues. */
  maxEvents?: number;
}

/** A chain position as an anchor names it (anchors.ts). */
export interface SealedTail {
  position: string;
  seq: string;
  hash: string;
  keyId: string | null;
}

export interface SealResult {
  /** Events added to the chain by this call. */
  sealed: number;
  /** True when another sealer held the lock: this call stopped (and sealed nothing more). */
  busy: boolean;
  /** The last seal this call wrote; absent when it sealed nothing. */
  last?: SealedTail;
}

/**
 * Seals every committed event that can be sealed now, in batches of one short transaction
 * each. Safe to call from any node at any time (the job 'audit.seal' does so every second);
 * pass the database handle, not a transaction: each batch must commit on its own, and
 * events of the caller's own open transaction could not be sealed anyway.
 */
export async function sealAuditChain(
  db: Kysely<DatabaseSchema>,
  options: SealOptions = {},
): Promise<SealResult> {
  if (db.isTransaction) {
    throw new Error('sealAuditChain: pass the database handle; each batch commits on its own');
  }
  const batchSize = options.batchSize ?? 500;
  const maxEvents = options.maxEvents ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error('sealAuditChain: batchSize must be a positive integer');
  }
  if (!(maxEvents >= 1)) throw new Error('sealAuditChain: maxEvents must be at least 1');
  let sealed = 0;
  let last: SealedTail | undefined;
  const result = (busy: boolean): SealResult => ({ sealed, busy, ...(last && { last }) });
  while (sealed < maxEvents) {
    const limit = Math.min(batchSize, maxEvents - sealed);
    // READ COMMITTED whatever the server default: each statement must see the seals the
    // previous lock holder committed before it released the lock.
    const batch = await db
      .transaction()
      .setIsolationLevel('read committed')
      .execute((trx) => sealBatch(trx, limit, options.key));
    if (batch === undefined) return result(true);
    sealed += batch.length;
    last = batch.at(-1) ?? last;
    if (batch.length < limit) break;
  }
  return result(false);
}

async function sealBatch(
  trx: Kysely<DatabaseSchema>,
  limit: number,
  key: AuditChainKey | undefined,
): Promise<SealedTail[] | undefined> {
  const lock = await sql<{
    locked: boolean;
  }>`select pg_try_advisory_xact_lock(${AUDIT_SEAL_LOCK_KEY}::bigint) as locked`.execute(trx);
  if (lock.rows[0]?.locked !== true) return undefined;
  // Taken in its own statement, before the events are read: any transaction below this xmin
  // had ended before this snapshot, so the later read sees all of its events. (The reverse, a
  // cutoff from a later snapshot than the read, could skip a row committed in between.)
  const snapshot = await sql<{
    cutoff: string;
  }>`select pg_snapshot_xmin(pg_current_snapshot())::text as cutoff`.execute(trx);
  const cutoff = snapshot.rows[0]?.cutoff;
  if (cutoff === undefined) throw new Error('sealAuditChain: no snapshot');
  const tail = await trx
    .selectFrom('audit_seals')
    .select(['chain_position', 'seq', 'hash', 'key_id', xidText.as('xid')])
    .orderBy('chain_position', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (key === undefined && tail !== undefined && tail.key_id !== null) {
    // An unkeyed seal after a keyed one is what a forger would write: the verifier refuses it.
    throw new Error('sealAuditChain: the chain is keyed; seal with the chain key');
  }
  let query = trx
    .selectFrom('audit_events')
    .select([...HASHED_EVENT_COLUMNS, xidText.as('xid')])
    .where(sql<boolean>`xid < ${cutoff}::xid8`);
  // Resume after the last seal: everything sealed so far sorts before every unsealed event.
  // (A tail without xid is an event from before migration 0005; all later events follow it.)
  query =
    tail === undefined || tail.xid === null
      ? query.where('xid', 'is not', null)
      : query.where(sql<boolean>`(xid, seq) > (${tail.xid}::xid8, ${String(tail.seq)}::bigint)`);
  // Qualified: a bare `xid` in ORDER BY names the output column, the text form selected above,
  // and '10' sorts before '9' — the chain would be sealed out of (xid, seq) order each time the
  // cluster's transaction ids gain a digit, and verify would report it reordered.
  const events = await query
    .orderBy('audit_events.xid')
    .orderBy('audit_events.seq')
    .limit(limit)
    .execute();
  if (events.length === 0) return [];

  let position = tail === undefined ? 0n : BigInt(String(tail.chain_position));
  let prevHash = tail?.hash ?? GENESIS_HASH;
  const seals = events.map((event) => {
    position += 1n;
    const link = { position, prev_hash: prevHash };
    const hash = hashAuditRow(event, link, key);
    const seal = {
      chain_position: position.toString(),
      seq: String(event.seq),
      xid: event.xid,
      prev_hash: prevHash,
      hash,
      key_id: key?.id ?? null,
    };
    prevHash = hash;
    return seal;
  });
  await trx.insertInto('audit_seals').values(seals).execute();
  return seals.map((s) => ({
    position: s.chain_position,
    seq: s.seq,
    hash: s.hash,
    keyId: s.key_id,
  }));
}
