// The audit-log search query (L3). Audit administration spans every organization by design
// (scope audit:read, platform admins only), so the caller's scope here is the filter set
// itself: every filter the admin gave is a WHERE condition, nothing else narrows or widens it.
import { sql, type Kysely } from 'kysely';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { escapeLike } from '../../platform/db/sql-text.js';

type Db = Kysely<DatabaseSchema>;

/** The search filters, with the date-times already checked and turned into Dates. */
export interface AuditEventFilters {
  readonly actorId?: string | undefined;
  readonly targetType?: string | undefined;
  readonly targetId?: string | undefined;
  /** An exact action, or a prefix when it ends with a dot ('auth.'). */
  readonly action?: string | undefined;
  readonly outcome?: 'success' | 'failure' | 'denied' | undefined;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  /** Only events older than this seq (the page before ended there). */
  readonly before?: string | undefined;
}

function selectEvents(db: Db) {
  return (
    db
      .selectFrom('audit_events as e')
      // actor_id is text (user ids, client ids, nothing): cast only what is a uuid, so the
      // join uses the users primary key and a client id can never fail the cast.
      .leftJoin('users as u', (join) =>
        join.on(
          sql<boolean>`e.actor_type = 'user' and u.id = (case when e.actor_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then e.actor_id::uuid end)`,
        ),
      )
      .select([
        'e.seq',
        'e.id',
        'e.occurred_at',
        'e.actor_type',
        'e.actor_id',
        'u.display_name as actor_display_name',
        'e.action',
        'e.target_type',
        'e.target_id',
        'e.outcome',
        'e.request_id',
        'e.details',
      ])
  );
}
export type AuditEventRow = Awaited<ReturnType<ReturnType<typeof selectEvents>['execute']>>[number];

/** Newest first; up to `fetch` events matching every filter given. */
export function searchAuditEvents(
  db: Db,
  filters: AuditEventFilters,
  fetch: number,
): Promise<AuditEventRow[]> {
  let query = selectEvents(db).orderBy('e.seq', 'desc').limit(fetch);
  if (filters.actorId !== undefined) query = query.where('e.actor_id', '=', filters.actorId);
  if (filters.targetType !== undefined) {
    query = query.where('e.target_type', '=', filters.targetType);
  }
  if (filters.targetId !== undefined) query = query.where('e.target_id', '=', filters.targetId);
  if (filters.action !== undefined) {
    query = filters.action.endsWith('.')
      ? query.where('e.action', 'like', `${escapeLike(filters.action)}%`)
      : query.where('e.action', '=', filters.action);
  }
  if (filters.outcome !== undefined) query = query.where('e.outcome', '=', filters.outcome);
  if (filters.from !== undefined) query = query.where('e.occurred_at', '>=', filters.from);
  if (filters.to !== undefined) query = query.where('e.occurred_at', '<=', filters.to);
  if (filters.before !== undefined) query = query.where('e.seq', '<', filters.before);
  return query.execute();
}
