// Session revocation reaches every node within a second (A7) without a database query per
// request: each node keeps the set of recently revoked session ids in memory and refreshes
// it from the sessions table every pollMs. A token outlives its session by at most the
// access-token lifetime, so ids known for longer than that (plus a margin) are dropped.
//
// No node's clock decides what a poll reads (issue 9: a node 3 s behind signed users out
// unseen). The cursor is the database's own notion of "what has committed":
//
// - Revoking a session stamps the row with the revoking transaction's id
//   (revocation_xid = pg_current_xact_id(), set in the revoking UPDATE and, for any other
//   writer, by a trigger; migration 0004).
// - Each poll takes one statement that returns pg_current_snapshot() together with the
//   rows whose revocation_xid was not yet visible in the previous poll's snapshot. A
//   transaction is visible in a snapshot exactly when it had committed before the snapshot
//   was taken, so every revocation is returned by the first poll after its commit and by no
//   other one.
//
// Why not a sequence number (revocation_seq > lastSeen): sequence values commit out of
// order (A takes 5, B takes 6 and commits first), and a gap cannot be told apart from a
// value whose transaction rolled back or crashed, so the gap has to be given up after some
// time; a revoking transaction held open longer than that is lost for good. A timestamp
// overlap window has the same hole. The snapshot records which transactions were still in
// flight, so nothing is waited for and nothing is guessed; the index on revocation_xid keeps
// the read to the rows at or above the previous snapshot's xmin.
//
// Retention is measured on this node's monotonic clock from the moment it learned of a
// revocation, and the first read after start selects recent revocations by revoked_at
// against the database's now() (revoked_at is the database's now() too), so neither depends
// on the nodes' clocks agreeing.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { logBackgroundFailure } from '../../../platform/db/faults.js';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { readRecentRevocations, readRevocationsSince } from './repo.js';

export interface RevocationCache {
  /** O(1), in memory: true when the session was revoked (as of the last refresh). */
  isRevoked(sessionId: string): boolean;
  /** Marks a session revoked locally at once (the node that revoked it need not wait). */
  markRevoked(sessionId: string): void;
  /** Reads revocations committed since the last refresh; runs on a timer, callable from tests. */
  refresh(): Promise<void>;
  start(): void;
  stop(): void;
}

export interface RevocationCacheOptions {
  readonly db: Kysely<DatabaseSchema>;
  readonly log: Logger;
  readonly pollMs?: number;
  /** How long a revoked id must stay known: access-token lifetime plus clock margin. */
  readonly retainMs?: number;
  /**
   * This node's clock in milliseconds, used only for durations (how long an id has been
   * known), never compared with the database or other nodes. Default: monotonic.
   */
  readonly now?: () => number;
}

/** xmax of a pg_snapshot text: every transaction id below it had started when it was taken. */
const snapshotXmax = (snapshot: string): bigint => BigInt(snapshot.split(':')[1] ?? '0');

export function createRevocationCache(options: RevocationCacheOptions): RevocationCache {
  const { db } = options;
  const pollMs = options.pollMs ?? 500;
  const retainMs = options.retainMs ?? 6 * 60_000;
  const now = options.now ?? (() => performance.now());
  const revoked = new Map<string, number>(); // session id → when it may be forgotten
  let snapshot: string | undefined; // of the last successful read; undefined: read all recent
  let timer: NodeJS.Timeout | undefined;
  let generation = 0; // bumped by start and stop: a poll of an earlier run schedules nothing

  const readRecent = () => readRecentRevocations(db, retainMs);
  const readSince = (previous: string) => readRevocationsSince(db, previous);

  const cache: RevocationCache = {
    isRevoked: (sessionId) => revoked.has(sessionId),
    markRevoked(sessionId) {
      revoked.set(sessionId, now() + retainMs);
    },
    async refresh() {
      const previous = snapshot;
      let { rows } = await (previous === undefined ? readRecent() : readSince(previous));
      const current = rows[0]?.snapshot;
      if (current === undefined) throw new Error('revocation poll returned no snapshot');
      if (previous !== undefined && snapshotXmax(current) < snapshotXmax(previous)) {
        // Transaction ids went backwards: a different database (restored from a dump, say).
        // The old snapshot says nothing about it; start over from recent revocations.
        options.log.warn('revocation poll: database transaction ids went backwards; rereading');
        rows = (await readRecent()).rows;
      }
      for (const row of rows) if (row.id !== null) cache.markRevoked(row.id);
      // Set only after the rows are marked. Concurrent refreshes may finish out of order and
      // leave an older snapshot here; the next read then returns a few rows again, which is
      // harmless. Nothing is skipped.
      snapshot = rows[0]?.snapshot ?? current;
      const at = now();
      for (const [id, forgetAt] of revoked) if (forgetAt < at) revoked.delete(id);
    },
    start() {
      if (timer) return;
      const run = ++generation;
      // The next poll is scheduled when this one settles, so a slow database never piles
      // up overlapping reads.
      const tick = (): void => {
        void cache
          .refresh()
          .catch((error: unknown) =>
            logBackgroundFailure(options.log, error, 'revocation refresh failed'),
          )
          .finally(() => {
            if (run !== generation) return;
            timer = setTimeout(tick, pollMs);
            timer.unref();
          });
      };
      tick();
    },
    stop() {
      generation++;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
  return cache;
}
