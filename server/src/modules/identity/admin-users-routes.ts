// User administration, write side (Z3, Z5, L3): invitations, roles, disable/enable and ending
// a user's sessions (search and listings: admin-users-read-routes.ts). Every change is audited with the admin as actor and the user as target, in the
// same transaction; changes that alter what a user may do end their sessions, so the next
// access token (minted at sign-in) carries the new scopes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Role } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { recordAudit } from '../../platform/audit/audit.js';
import {
  IdParams,
  UserAnswer,
  findUser,
  registerAdminUserReadRoutes,
  toView,
  type Db,
  type UserRow,
} from './admin-users-read-routes.js';
import { inviteUser, resendInvitation } from './onboarding.js';
import { ROLE_SCOPES, requiresMfa } from './roles.js';
import { revokeUserSessions } from './sessions.js';
import { createSessionKit, type IdentityContext } from './session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';

const ROLES = Object.keys(ROLE_SCOPES) as Role[];
const RoleSchema = Type.Union(ROLES.map((role) => Type.Literal(role)));
const Empty = Type.Object({}, { additionalProperties: false });

export function registerAdminUserRoutes(app: FastifyInstance, deps: IdentityContext): void {
  const { endSessions } = createSessionKit(deps);
  registerAdminUserReadRoutes(app, deps);

  /**
   * Runs an admin change on a locked user row, audits it in the same transaction and marks
   * any sessions it ended as revoked on this node at once (other nodes follow within a second).
   */
  async function changeUser(
    request: FastifyRequest,
    action: string,
    change: (
      trx: Db,
      user: UserRow,
      adminId: string,
    ) => Promise<{ revoked: string[]; details?: Record<string, string | number | boolean> }>,
  ) {
    const adminId = requirePrincipal(request).subject;
    const { id } = request.params as { id: string };
    const result = await deps.db.transaction().execute(async (trx) => {
      const user = await findUser(trx, id, true);
      if (!user) throw new HavenError('NOT_FOUND');
      const { revoked, details } = await change(trx, user, adminId);
      await recordAudit(trx, {
        actor: { type: 'user', id: adminId },
        action,
        target: { type: 'user', id: user.id },
        outcome: 'success',
        details: { sessions_ended: revoked.length, ...details },
        ...requestContext(request),
      });
      return { revoked, user: await findUser(trx, user.id) };
    });
    for (const sessionId of result.revoked) deps.revocations.markRevoked(sessionId);
    if (!result.user) throw new HavenError('NOT_FOUND');
    return { user: toView(result.user) };
  }

  app.post(
    '/api/admin/invitations',
    {
      config: { access: requireScopes(['users:manage']), rateClass: 'sensitive' },
      bodyLimit: 2048,
      schema: {
        body: Type.Object(
          {
            email: Type.String({ format: 'email', maxLength: 254 }),
            role: RoleSchema,
            displayName: Type.Optional(
              Type.String({
                maxLength: 100,
                pattern: '^[^\\u0000-\\u001f\\u007f\\ud800-\\udfff]*$',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object(
            { userId: Type.String({ maxLength: 36 }), expiresAt: Type.String({ maxLength: 40 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { email: string; role: Role; displayName?: string };
      // inviteUser audits the invitation itself (admin.user_invited) in its transaction.
      const invited = await inviteUser(deps, {
        email: body.email,
        role: body.role,
        displayName: body.displayName,
        invitedBy: requirePrincipal(request).subject,
        ...requestContext(request),
      });
      reply.code(201);
      return { userId: invited.userId, expiresAt: invited.expiresAt.toISOString() };
    },
  );

  app.post(
    '/api/admin/users/:id/invitation',
    {
      config: { access: requireScopes(['users:manage']), rateClass: 'sensitive' },
      schema: {
        params: IdParams,
        body: Empty,
        response: {
          200: Type.Object(
            { expiresAt: Type.String({ maxLength: 40 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const resent = await resendInvitation(deps, {
        userId: id,
        invitedBy: requirePrincipal(request).subject,
        ...requestContext(request),
      });
      return { expiresAt: resent.expiresAt.toISOString() };
    },
  );

  app.put(
    '/api/admin/users/:id/roles',
    {
      config: { access: requireScopes(['users:manage'], { stepUp: true }), rateClass: 'sensitive' },
      schema: {
        params: IdParams,
        body: Type.Object(
          { roles: Type.Array(RoleSchema, { maxItems: ROLES.length, uniqueItems: true }) },
          { additionalProperties: false },
        ),
        response: { 200: UserAnswer },
      },
    },
    async (request) => {
      const roles = (request.body as { roles: Role[] }).roles;
      return changeUser(request, 'admin.user_roles_changed', async (trx, user, adminId) => {
        if (user.id === adminId && user.roles.includes('admin') && !roles.includes('admin')) {
          throw new HavenError('CONFLICT', 'You cannot remove your own admin role.');
        }
        // Such a user could no longer sign in; they enrol first (an invitee enrols on accepting).
        if (
          requiresMfa(roles, deps.mfaRequiredRoles) &&
          user.status === 'active' &&
          user.totp_enrolled_at === null
        ) {
          throw new HavenError(
            'CONFLICT',
            'This role requires MFA; the user must set it up first.',
          );
        }
        await trx
          .updateTable('users')
          .set({ roles, updated_at: deps.now() })
          .where('id', '=', user.id)
          .execute();
        const revoked = await revokeUserSessions(trx, user.id, 'roles_changed', deps.now());
        return { revoked, details: { roles: roles.join(' '), previous: user.roles.join(' ') } };
      });
    },
  );

  app.post(
    '/api/admin/users/:id/disable',
    {
      config: { access: requireScopes(['users:manage']), rateClass: 'sensitive' },
      schema: { params: IdParams, body: Empty, response: { 200: UserAnswer } },
    },
    async (request) =>
      changeUser(request, 'admin.user_disabled', async (trx, user, adminId) => {
        if (user.id === adminId) throw new HavenError('CONFLICT', 'You cannot disable yourself.');
        const now = deps.now();
        await trx
          .updateTable('users')
          .set({ status: 'disabled', updated_at: now })
          .where('id', '=', user.id)
          .execute();
        // Pending invitation, reset and verification links and MFA steps die with the account.
        await trx
          .updateTable('one_time_tokens')
          .set({ used_at: now })
          .where('user_id', '=', user.id)
          .where('used_at', 'is', null)
          .execute();
        const revoked = await revokeUserSessions(trx, user.id, 'user_disabled', now);
        return { revoked, details: { previous: user.status } };
      }),
  );

  app.post(
    '/api/admin/users/:id/enable',
    {
      config: { access: requireScopes(['users:manage']), rateClass: 'sensitive' },
      schema: { params: IdParams, body: Empty, response: { 200: UserAnswer } },
    },
    async (request) =>
      changeUser(request, 'admin.user_enabled', async (trx, user) => {
        if (user.status !== 'disabled') {
          return { revoked: [], details: { changed: false, status: user.status } };
        }
        const credentials = await trx
          .selectFrom('users')
          .select('password_hash')
          .where('id', '=', user.id)
          .executeTakeFirstOrThrow();
        // Someone disabled before accepting their invitation has no password: they go back to
        // 'invited' and need a fresh invitation (the old link was voided on disable).
        const status = credentials.password_hash === null ? 'invited' : 'active';
        await trx
          .updateTable('users')
          .set({ status, updated_at: deps.now() })
          .where('id', '=', user.id)
          .execute();
        return { revoked: [], details: { changed: true, status } };
      }),
  );

  app.delete(
    '/api/admin/users/:id/sessions',
    {
      config: { access: requireScopes(['users:manage']), rateClass: 'sensitive' },
      schema: {
        params: IdParams,
        response: {
          200: Type.Object({ revoked: Type.Integer() }, { additionalProperties: false }),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      if (!(await findUser(deps.db, id))) throw new HavenError('NOT_FOUND');
      const revoked = await endSessions(
        request,
        'admin.user_sessions_revoked',
        'revoked_by_admin',
        (trx) => revokeUserSessions(trx, id, 'revoked_by_admin', deps.now()),
        { type: 'user', id },
      );
      return { revoked };
    },
  );
}
