// User administration, read side (Z3, L3): search with keyset pagination and a user's
// sessions, plus the views and lookups the write routes (admin-users-routes.ts) share.
// Reads are audited too: the list shows every user's email address.
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { Type } from 'typebox';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { listUserSessions } from './sessions.js';
import { type IdentityContext } from './session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import { escapeLike } from '../../platform/db/sql-text.js';

const Status = Type.Union([
  Type.Literal('invited'),
  Type.Literal('active'),
  Type.Literal('disabled'),
]);
export const IdParams = Type.Object(
  { id: Type.String({ format: 'uuid', maxLength: 36 }) },
  { additionalProperties: false },
);
const AdminUserView = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    email: Type.String({ maxLength: 254 }),
    displayName: Type.String({ maxLength: 100 }),
    roles: Type.Array(Type.String({ maxLength: 20 }), { maxItems: 5 }),
    status: Status,
    mfaEnrolled: Type.Boolean(),
    createdAt: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);
export const UserAnswer = Type.Object({ user: AdminUserView }, { additionalProperties: false });
const AdminSessionView = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    createdAt: Type.String({ maxLength: 40 }),
    lastSeenAt: Type.String({ maxLength: 40 }),
    userAgent: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
    clientAddress: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]),
  },
  { additionalProperties: false },
);

const USER_COLUMNS = [
  'id',
  'email',
  'display_name',
  'roles',
  'status',
  'totp_enrolled_at',
  'created_at',
] as const;
export type Db = Kysely<DatabaseSchema>;
export type UserRow = NonNullable<Awaited<ReturnType<typeof findUser>>>;

export const findUser = (db: Db, id: string, lock = false) => {
  const query = db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
};

export function toView(row: UserRow) {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    roles: row.roles,
    status: row.status,
    mfaEnrolled: row.totp_enrolled_at !== null,
    createdAt: row.created_at.toISOString(),
  };
}

export function registerAdminUserReadRoutes(app: FastifyInstance, deps: IdentityContext): void {
  app.get(
    '/api/admin/users',
    {
      config: { access: requireScopes(['users:read']), rateClass: 'read' },
      schema: {
        querystring: Type.Object(
          {
            query: Type.Optional(Type.String({ maxLength: 254 })),
            status: Type.Optional(Status),
            cursor: Type.Optional(Type.String({ format: 'uuid', maxLength: 36 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              users: Type.Array(AdminUserView, { maxItems: 100 }),
              nextCursor: Type.Union([Type.String({ maxLength: 36 }), Type.Null()]),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { subject } = requirePrincipal(request);
      const params = request.query as {
        query?: string;
        status?: 'invited' | 'active' | 'disabled';
        cursor?: string;
        limit?: number;
      };
      const limit = params.limit ?? 50;
      const term = params.query?.trim().toLowerCase() ?? '';
      let query = deps.db
        .selectFrom('users')
        .select(USER_COLUMNS)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (term !== '') {
        const prefix = `${escapeLike(term)}%`;
        // Email prefix, name prefix, or the start of any later word of the name.
        query = query.where((eb) =>
          eb.or([
            eb('email_normalized', 'like', prefix),
            eb(eb.fn('lower', ['display_name']), 'like', prefix),
            eb(eb.fn('lower', ['display_name']), 'like', `% ${prefix}`),
          ]),
        );
      }
      if (params.status) query = query.where('status', '=', params.status);
      if (params.cursor) {
        // Keyset pagination on (created_at, id), compared in SQL against the cursor row itself:
        // timestamptz keeps microseconds that a JS Date (and so a timestamp cursor) would lose.
        query = query.where(
          sql<boolean>`(created_at, id) < (select c.created_at, c.id from users c where c.id = ${params.cursor})`,
        );
      }
      const rows = await query.execute();
      const page = rows.slice(0, limit);
      await recordAudit(deps.db, {
        actor: { type: 'user', id: subject },
        action: 'admin.users_listed',
        outcome: 'success',
        details: { results: page.length, filtered: term !== '' || params.status !== undefined },
        ...requestContext(request),
      });
      return {
        users: page.map(toView),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  );

  app.get(
    '/api/admin/users/:id/sessions',
    {
      config: { access: requireScopes(['users:read']), rateClass: 'read' },
      schema: {
        params: IdParams,
        response: {
          200: Type.Object(
            { sessions: Type.Array(AdminSessionView, { maxItems: 100 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { subject } = requirePrincipal(request);
      const { id } = request.params as { id: string };
      if (!(await findUser(deps.db, id))) throw new HavenError('NOT_FOUND');
      const sessions = await listUserSessions(deps.db, id, deps.now());
      await recordAudit(deps.db, {
        actor: { type: 'user', id: subject },
        action: 'admin.user_sessions_listed',
        target: { type: 'user', id },
        outcome: 'success',
        details: { count: sessions.length },
        ...requestContext(request),
      });
      return {
        sessions: sessions.map((s) => ({
          id: s.id,
          createdAt: s.createdAt.toISOString(),
          lastSeenAt: s.lastSeenAt.toISOString(),
          userAgent: s.userAgent,
          clientAddress: s.clientAddress,
        })),
      };
    },
  );
}
