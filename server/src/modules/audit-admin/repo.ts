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
  /** An action, a family or a prefix: see actionCondition. */
  readonly action?: string | undefined;
  readonly outcome?: 'success' | 'failure' | 'denied' | undefined;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  /** Only events older than this seq (the page before ended there). */
  readonly before?: string | undefined;
}

/**
 * How an action filter reads (every form keeps LIKE metacharacters literal, escapeLike):
 * - `breakglass` (no dot): the family, i.e. the whole first segment: `breakglass` itself and
 *   every `breakglass.*`, never `breakglassx.*`;
 * - `auth.` (ends with a dot) or `patient.note*` (ends with a star): a prefix;
 * - anything else (`auth.login`): exactly that action.
 */
export type ActionMatch =
  | { readonly kind: 'family'; readonly family: string }
  | { readonly kind: 'prefix'; readonly prefix: string }
  | { readonly kind: 'exact'; readonly action: string };

export function actionMatch(action: string): ActionMatch {
  if (action.endsWith('*')) return { kind: 'prefix', prefix: action.slice(0, -1) };
  if (action.endsWith('.')) return { kind: 'prefix', prefix: action };
  if (!action.includes('.')) return { kind: 'family', family: action };
  return { kind: 'exact', action };
}

/** Audit events with the acting user's display name: the columns every listing answers with. */
export function selectEvents(db: Db) {
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

/**
 * The distinct actions present in the log, at most `cap`, in name order. A loose index scan
 * over audit_events_action_idx (action, occurred_at): each step asks the index for the next
 * name above the last one, so the cost grows with the number of distinct actions (a hundred or
 * so), not with the number of events; a plain DISTINCT would read the whole table.
 */
export async function presentActions(db: Db, cap: number): Promise<string[]> {
  const result = await sql<{ action: string }>`
    WITH RECURSIVE present(action, n) AS (
      (SELECT action, 1 FROM audit_events ORDER BY action LIMIT 1)
      UNION ALL
      SELECT (SELECT a.action FROM audit_events a WHERE a.action > p.action ORDER BY a.action LIMIT 1), p.n + 1
      FROM present p
      WHERE p.action IS NOT NULL AND p.n < ${cap}
    )
    SELECT action FROM present WHERE action IS NOT NULL`.execute(db);
  return result.rows.map((row) => row.action);
}

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
    const match = actionMatch(filters.action);
    query =
      match.kind === 'exact'
        ? query.where('e.action', '=', match.action)
        : match.kind === 'prefix'
          ? query.where('e.action', 'like', `${escapeLike(match.prefix)}%`)
          : query.where((eb) =>
              eb.or([
                eb('e.action', '=', match.family),
                eb('e.action', 'like', `${escapeLike(match.family)}.%`),
              ]),
            );
  }
  if (filters.outcome !== undefined) query = query.where('e.outcome', '=', filters.outcome);
  if (filters.from !== undefined) query = query.where('e.occurred_at', '>=', filters.from);
  if (filters.to !== undefined) query = query.where('e.occurred_at', '<=', filters.to);
  if (filters.before !== undefined) query = query.where('e.seq', '<', filters.before);
  return query.execute();
}
