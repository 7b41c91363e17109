// The newest security events (L3), filtered in SQL with bound values only. Like the search, it
// spans every organization by design (audit:read, platform admins only).
//
// Why one small query per kind: audit_events is indexed on (action, occurred_at), not on seq
// with action. Each kind therefore reads its own action's index entries backwards from now and
// stops after `limit` matches, so reuse and break-glass (rare actions) cost a few index reads
// however large the log is. A lockout kind also checks details->>'reason' on each entry it
// reads; the `since` window bounds that walk to the recent sign-in attempts of its action, so a
// log of years of ordinary sign-ins without a lockout is never read to the end. The union is
// then at most kinds × limit seqs, looked up by primary key and cut to `limit`.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { selectEvents, type AuditEventRow } from '../repo.js';

type Db = Kysely<DatabaseSchema>;

/** One kind of event the panel shows: an action, and the `details.reason` it must carry, if any. */
export interface SecurityEventKind {
  readonly action: string;
  readonly reason?: string;
}

/** The newest `limit` events of one kind since `since`: seqs only. */
function newestOfKind(db: Db, kind: SecurityEventKind, since: Date, limit: number) {
  let query = db
    .selectFrom('audit_events')
    .select(['seq'])
    .where('action', '=', kind.action)
    .where('occurred_at', '>=', since);
  if (kind.reason !== undefined) {
    query = query.where(sql<string>`details ->> 'reason'`, '=', kind.reason);
  }
  return query.orderBy('occurred_at', 'desc').orderBy('seq', 'desc').limit(limit);
}

/**
 * The newest `limit` events of any of `kinds` since `since`, newest first (time, then seq for
 * events of one instant). Every kind is ordered the same way, so the newest `limit` of the union
 * of each kind's newest `limit` are exactly the newest `limit` overall.
 */
export async function newestSecurityEvents(
  db: Db,
  kinds: readonly SecurityEventKind[],
  since: Date,
  limit: number,
): Promise<AuditEventRow[]> {
  // Each kind in a derived table of its own: a bare ORDER BY ... LIMIT inside UNION ALL would
  // apply to the whole union, not to that kind.
  const picked = kinds
    .map((kind) =>
      db.selectFrom(newestOfKind(db, kind, since, limit).as('kind')).select('kind.seq'),
    )
    .reduce((union, next) => union.unionAll(next));
  return selectEvents(db)
    .where('e.seq', 'in', picked)
    .orderBy('e.occurred_at', 'desc')
    .orderBy('e.seq', 'desc')
    .limit(limit)
    .execute();
}
