// Audit-log administration (L3): search the hash-chained audit log and verify the chain. Both
// are audited themselves; a search records which filters were used, never their values (an
// actor id or a target id typed into the filter says whom the admin was looking into).
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { verifyAuditChain } from '../../platform/audit/verify.js';
import { type IdentityContext } from '../identity/session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import { escapeLike } from '../../platform/db/sql-text.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;
const NO_CONTROL = '^[^\\u0000-\\u001f\\u007f]*$';

const Outcome = Type.Union([
  Type.Literal('success'),
  Type.Literal('failure'),
  Type.Literal('denied'),
]);

const SearchQuery = Type.Object(
  {
    actorId: Type.Optional(Type.String({ format: 'uuid', maxLength: 36 })),
    targetType: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NO_CONTROL })),
    targetId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: NO_CONTROL })),
    action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: NO_CONTROL })),
    outcome: Type.Optional(Outcome),
    from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', maxLength: 18 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
  },
  { additionalProperties: false },
);
type SearchFilters = {
  actorId?: string;
  targetType?: string;
  targetId?: string;
  action?: string;
  outcome?: 'success' | 'failure' | 'denied';
  from?: string;
  to?: string;
  before?: string;
  limit?: number;
};
/** The filters (not paging) whose names a search records. */
const FILTER_NAMES = [
  'actorId',
  'targetType',
  'targetId',
  'action',
  'outcome',
  'from',
  'to',
] as const satisfies ReadonlyArray<keyof SearchFilters>;

const AuditEntrySchema = Type.Object(
  {
    seq: Type.String({ maxLength: 20 }),
    id: Type.String({ maxLength: 36 }),
    occurredAt: Type.String({ maxLength: 40 }),
    actorType: Type.String({ maxLength: 20 }),
    actorId: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
    actorDisplayName: Type.Union([Type.String({ maxLength: 100 }), Type.Null()]),
    action: Type.String({ maxLength: 100 }),
    targetType: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
    targetId: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
    outcome: Outcome,
    requestId: Type.Union([Type.String({ maxLength: 128 }), Type.Null()]),
    // recordAudit only ever stores flat string/number/boolean/null values.
    details: Type.Object(
      {},
      {
        additionalProperties: Type.Union([
          Type.String({ maxLength: 200 }),
          Type.Number(),
          Type.Boolean(),
          Type.Null(),
        ]),
      },
    ),
  },
  { additionalProperties: false },
);

const VerifyAnswer = Type.Object(
  {
    ok: Type.Boolean(),
    checked: Type.Integer({ minimum: 0 }),
    lastHash: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Null()])),
    firstBadSeq: Type.Optional(Type.String({ maxLength: 20 })),
    problem: Type.Optional(
      Type.Union([
        Type.Literal('edited'),
        Type.Literal('deleted'),
        Type.Literal('reordered'),
        Type.Literal('inserted'),
      ]),
    ),
    message: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

/** `%`, `_` and `\` in an action prefix are literal characters, not LIKE patterns. */

/** Year 1 to 9999 in UTC: what both database drivers can send as a timestamptz parameter. */
const EARLIEST = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST = Date.parse('9999-12-31T23:59:59.999Z');

/** A date-time filter as a Date; one the schema let through but Date or the drivers cannot carry is a 400. */
function instant(field: 'from' | 'to', value: string): Date {
  const date = new Date(value);
  const time = date.getTime();
  if (!Number.isFinite(time) || time < EARLIEST || time > LATEST) {
    throw new HavenError('VALIDATION_FAILED', `${field} is not a valid date-time.`, {
      errors: [{ field, message: 'Expected an RFC 3339 date-time.' }],
    });
  }
  return date;
}

export function registerAuditAdminRoutes(app: FastifyInstance, deps: IdentityContext): void {
  const { db } = deps;

  app.get(
    '/api/admin/audit-events',
    {
      config: { access: requireScopes(['audit:read']), rateClass: 'read' },
      schema: {
        querystring: SearchQuery,
        response: {
          200: Type.Object(
            {
              events: Type.Array(AuditEntrySchema, { maxItems: MAX_LIMIT }),
              nextBefore: Type.Union([Type.String({ maxLength: 20 }), Type.Null()]),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const filters = request.query as SearchFilters;
      const limit = filters.limit ?? DEFAULT_LIMIT;
      const from = filters.from === undefined ? undefined : instant('from', filters.from);
      const to = filters.to === undefined ? undefined : instant('to', filters.to);

      let query = db
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
        .orderBy('e.seq', 'desc')
        .limit(limit + 1);
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
      if (from !== undefined) query = query.where('e.occurred_at', '>=', from);
      if (to !== undefined) query = query.where('e.occurred_at', '<=', to);
      if (filters.before !== undefined) query = query.where('e.seq', '<', filters.before);

      const rows = await query.execute();
      const page = rows.slice(0, limit);
      const used = FILTER_NAMES.filter((name) => filters[name] !== undefined);
      await recordAudit(db, {
        actor: { type: principal.kind, id: principal.subject },
        action: 'audit.searched',
        outcome: 'success',
        details: {
          filters: used.length > 0 ? used.join(',') : null,
          paged: filters.before !== undefined,
          results: page.length,
        },
        ...requestContext(request),
      });
      const last = page.at(-1);
      return {
        events: page.map((row) => ({
          seq: String(row.seq),
          id: row.id,
          occurredAt: row.occurred_at.toISOString(),
          actorType: row.actor_type,
          actorId: row.actor_id,
          actorDisplayName: row.actor_display_name,
          action: row.action,
          targetType: row.target_type,
          targetId: row.target_id,
          outcome: row.outcome,
          requestId: row.request_id,
          details: row.details,
        })),
        nextBefore: rows.length > limit && last ? String(last.seq) : null,
      };
    },
  );

  app.post(
    '/api/admin/audit-log/verify',
    {
      config: { access: requireScopes(['audit:read']), rateClass: 'sensitive' },
      schema: {
        body: Type.Object({}, { additionalProperties: false }),
        response: { 200: VerifyAnswer },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const result = await verifyAuditChain(db);
      await recordAudit(db, {
        actor: { type: principal.kind, id: principal.subject },
        action: 'audit.verified',
        outcome: result.ok ? 'success' : 'failure',
        details: result.ok
          ? { ok: true, checked: result.checked }
          : {
              ok: false,
              checked: result.checked,
              firstBadSeq: result.firstBadSeq,
              problem: result.problem,
            },
        ...requestContext(request),
      });
      return result;
    },
  );
}
