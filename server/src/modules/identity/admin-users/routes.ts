// User administration routes (Z3, Z5, L3): search, a user's sessions, invitations, roles,
// disable/enable and ending a user's sessions. The use cases are in service.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requirePrincipal } from '../../../platform/auth/access.js';
import { requireScopes } from '../../../platform/http/route-contract.js';
import { requestContext } from '../../../platform/http/request-context.js';
import type { IdentityDeps } from '../dependencies.js';
import { inviteUser, resendInvitation } from '../onboarding/service.js';
import { Empty } from '../shared/schemas.js';
import {
  IdParams,
  Invitation,
  InvitationResent,
  Invited,
  RoleChange,
  Revoked,
  UserAnswer,
  UserPage,
  UserQuery,
  UserSessions,
} from './schemas.js';
import {
  changeRoles,
  disableUser,
  enableUser,
  endUserSessions,
  listUsers,
  userSessions,
  type AdminCall,
} from './service.js';

/** The calling admin and the user the route names. */
function adminCall(request: FastifyRequest, userId: string): AdminCall {
  return { adminId: requirePrincipal(request).subject, userId, ...requestContext(request) };
}

async function sessionsOfUser(deps: IdentityDeps, request: FastifyRequest, userId: string) {
  const sessions = await userSessions(deps.context, adminCall(request, userId));
  return {
    sessions: sessions.map((s) => ({
      id: s.id,
      createdAt: s.createdAt.toISOString(),
      lastSeenAt: s.lastSeenAt.toISOString(),
      userAgent: s.userAgent,
      clientAddress: s.clientAddress,
    })),
  };
}

/** inviteUser audits the invitation itself (admin.user_invited) in its transaction. */
async function invite(deps: IdentityDeps, request: FastifyRequest, body: Invitation) {
  const invited = await inviteUser(deps.context, {
    email: body.email,
    role: body.role,
    displayName: body.displayName,
    invitedBy: requirePrincipal(request).subject,
    ...requestContext(request),
  });
  return { userId: invited.userId, expiresAt: invited.expiresAt.toISOString() };
}

async function resendInvite(deps: IdentityDeps, request: FastifyRequest, userId: string) {
  const resent = await resendInvitation(deps.context, {
    userId,
    invitedBy: requirePrincipal(request).subject,
    ...requestContext(request),
  });
  return { expiresAt: resent.expiresAt.toISOString() };
}

export function registerAdminUserRoutes(app: FastifyInstance, deps: IdentityDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = { access: requireScopes(['users:read']), rateClass: 'read' } as const;
  const manage = { access: requireScopes(['users:manage']), rateClass: 'sensitive' } as const;

  typed.get(
    '/api/admin/users',
    { config: read, schema: { querystring: UserQuery, response: { 200: UserPage } } },
    (request) =>
      listUsers(
        deps.context,
        requirePrincipal(request).subject,
        request.query,
        requestContext(request),
      ),
  );
  typed.get(
    '/api/admin/users/:id/sessions',
    { config: read, schema: { params: IdParams, response: { 200: UserSessions } } },
    (request) => sessionsOfUser(deps, request, request.params.id),
  );
  typed.post(
    '/api/admin/invitations',
    {
      config: manage,
      bodyLimit: 2048,
      schema: { body: Invitation, response: { 201: Invited } },
    },
    async (request, reply) => reply.code(201).send(await invite(deps, request, request.body)),
  );
  typed.post(
    '/api/admin/users/:id/invitation',
    {
      config: manage,
      schema: { params: IdParams, body: Empty, response: { 200: InvitationResent } },
    },
    (request) => resendInvite(deps, request, request.params.id),
  );
  typed.put(
    '/api/admin/users/:id/roles',
    {
      config: { access: requireScopes(['users:manage'], { stepUp: true }), rateClass: 'sensitive' },
      schema: { params: IdParams, body: RoleChange, response: { 200: UserAnswer } },
    },
    (request) => changeRoles(deps, adminCall(request, request.params.id), request.body.roles),
  );
  typed.post(
    '/api/admin/users/:id/disable',
    { config: manage, schema: { params: IdParams, body: Empty, response: { 200: UserAnswer } } },
    (request) => disableUser(deps, adminCall(request, request.params.id)),
  );
  typed.post(
    '/api/admin/users/:id/enable',
    { config: manage, schema: { params: IdParams, body: Empty, response: { 200: UserAnswer } } },
    (request) => enableUser(deps, adminCall(request, request.params.id)),
  );
  typed.delete(
    '/api/admin/users/:id/sessions',
    { config: manage, schema: { params: IdParams, response: { 200: Revoked } } },
    async (request) => ({
      revoked: await endUserSessions(deps, adminCall(request, request.params.id)),
    }),
  );
}
