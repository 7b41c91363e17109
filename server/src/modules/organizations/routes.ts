// Organization routes (Z2, Z3, Z4, Z5, L3): the caller's memberships and active organization,
// organization administration for platform admins, and member management for org admins.
// Only people use them: a machine client token is refused (requireUser), since memberships,
// invitations and the audit trail all name a person.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { requireAccess, requireUser } from '../../platform/access/index.js';
import { requestContext } from '../../platform/http/request-context.js';
import type { ModuleContext } from '../../platform/module-context.js';
import type { IdentityApi } from '../identity/index.js';
import {
  ActiveAnswer,
  ActiveChoice,
  MemberAnswer,
  MemberInvite,
  MemberList,
  MemberParams,
  MembershipList,
  OrganizationAnswer,
  OrganizationChange,
  OrganizationCreate,
  OrganizationIdParams,
  OrganizationPage,
  OrganizationQuery,
  RoleChange,
  type MemberView,
} from './schemas.js';
import {
  changeOrganizationCountry,
  chooseActiveOrganization,
  createOrganization,
  listMemberships,
  searchOrganizations,
} from './service.js';
import {
  addMemberAsOrgAdmin,
  addMemberAsPlatformAdmin,
  changeMemberRole,
  listMembers,
  removeMember,
  type MemberInvitation,
  type NoticeLog,
} from './members/service.js';
import { registerInvitationRoutes } from './invitations/routes.js';

/** The app with TypeBox schemas typing each handler's request. */
type TypedApp = ReturnType<typeof typedApp>;

function typedApp(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

/** The session's effective organization, as the clinical routes will see it; null when none. */
async function activeOrganizationId(
  context: ModuleContext,
  request: FastifyRequest,
): Promise<string | null> {
  try {
    return (await requireAccess(context.db, request, 'organization:read', {})).organizationId;
  } catch (error) {
    if (error instanceof HavenError && error.code === 'NO_ACTIVE_ORGANIZATION') return null;
    throw error;
  }
}

/** The caller's memberships and the organization their session works in. */
function registerMembershipRoutes(typed: TypedApp, context: ModuleContext): void {
  typed.get(
    '/api/organizations',
    {
      config: { access: requireScopes(['orgs:read']), rateClass: 'read' },
      schema: { response: { 200: MembershipList } },
    },
    async (request) => {
      const { userId } = requireUser(request);
      return {
        organizations: await listMemberships(context, userId),
        activeOrganizationId: await activeOrganizationId(context, request),
      };
    },
  );

  typed.put(
    '/api/organizations/active',
    {
      config: { access: requireScopes(['orgs:read']), rateClass: 'write' },
      schema: { body: ActiveChoice, response: { 200: ActiveAnswer } },
    },
    async (request) => {
      const { organizationId } = request.body;
      const role = await chooseActiveOrganization(context, request, organizationId);
      return { activeOrganizationId: organizationId, role };
    },
  );
}

/**
 * POST …/members: adds a member by email. Platform admins (any organization) and org admins
 * (their own) share the route's shape; who may add whom is decided by `addMember`.
 */
function declareAddMemberRoute(
  typed: TypedApp,
  url: string,
  route: {
    scope: 'orgs:manage' | 'orgs:members';
    addMember: (
      request: FastifyRequest,
      invitation: MemberInvitation,
      log: NoticeLog,
    ) => Promise<MemberView>;
  },
): void {
  typed.post(
    url,
    {
      config: { access: requireScopes([route.scope]), rateClass: 'sensitive' },
      bodyLimit: 2048,
      schema: { params: OrganizationIdParams, body: MemberInvite, response: { 201: MemberAnswer } },
    },
    async (request, reply) => {
      const { userId } = requireUser(request);
      const invitation = {
        ...request.body,
        organizationId: request.params.organizationId,
        actorId: userId,
        ...requestContext(request),
      };
      const member = await route.addMember(request, invitation, request.log);
      reply.code(201);
      return { member };
    },
  );
}

/** Platform admins create and find organizations and add their first members. */
function registerOrganizationAdminRoutes(
  typed: TypedApp,
  context: ModuleContext,
  identity: IdentityApi,
): void {
  typed.post(
    '/api/admin/organizations',
    {
      config: { access: requireScopes(['orgs:manage']), rateClass: 'write' },
      bodyLimit: 2048,
      schema: { body: OrganizationCreate, response: { 201: OrganizationAnswer } },
    },
    async (request, reply) => {
      const { userId } = requireUser(request);
      const organization = await createOrganization(context, {
        name: request.body.name,
        ...(request.body.country === undefined ? {} : { country: request.body.country }),
        createdBy: userId,
        ...requestContext(request),
      });
      reply.code(201);
      return { organization };
    },
  );

  typed.patch(
    '/api/admin/organizations/:organizationId',
    {
      config: { access: requireScopes(['orgs:manage']), rateClass: 'write' },
      bodyLimit: 1024,
      schema: {
        params: OrganizationIdParams,
        body: OrganizationChange,
        response: { 200: OrganizationAnswer },
      },
    },
    async (request) => {
      const { userId } = requireUser(request);
      const organization = await changeOrganizationCountry(context, {
        organizationId: request.params.organizationId,
        country: request.body.country,
        actorId: userId,
        ...requestContext(request),
      });
      return { organization };
    },
  );

  typed.get(
    '/api/admin/organizations',
    {
      config: { access: requireScopes(['orgs:manage']), rateClass: 'read' },
      schema: { querystring: OrganizationQuery, response: { 200: OrganizationPage } },
    },
    async (request) => {
      requireUser(request);
      return searchOrganizations(context, request.query);
    },
  );

  declareAddMemberRoute(typed, '/api/admin/organizations/:organizationId/members', {
    scope: 'orgs:manage',
    addMember: (_request, invitation, log) =>
      addMemberAsPlatformAdmin(context, identity, invitation, log),
  });
}

/** Any member lists the members of their organization; its org admins manage them. */
function registerMemberRoutes(
  typed: TypedApp,
  context: ModuleContext,
  identity: IdentityApi,
): void {
  typed.get(
    '/api/organizations/:organizationId/members',
    {
      config: { access: requireScopes(['orgs:members']), rateClass: 'read' },
      schema: { params: OrganizationIdParams, response: { 200: MemberList } },
    },
    async (request) => {
      return { members: await listMembers(context, request, request.params.organizationId) };
    },
  );

  declareAddMemberRoute(typed, '/api/organizations/:organizationId/members', {
    scope: 'orgs:members',
    addMember: (request, invitation, log) =>
      addMemberAsOrgAdmin(context, identity, request, invitation, log),
  });

  typed.put(
    '/api/organizations/:organizationId/members/:userId',
    {
      // Z5: granting or taking away organization administration is a role change: step-up.
      config: {
        access: requireScopes(['orgs:members'], { stepUp: true }),
        rateClass: 'sensitive',
      },
      schema: { params: MemberParams, body: RoleChange, response: { 200: MemberAnswer } },
    },
    async (request) => {
      const actorId = requireUser(request).userId;
      const member = await changeMemberRole(context, request, {
        ...request.params,
        role: request.body.role,
        actorId,
        ...requestContext(request),
      });
      return { member };
    },
  );

  typed.delete(
    '/api/organizations/:organizationId/members/:userId',
    {
      config: { access: requireScopes(['orgs:members']), rateClass: 'sensitive' },
      schema: { params: MemberParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const actorId = requireUser(request).userId;
      await removeMember(context, request, {
        ...request.params,
        actorId,
        ...requestContext(request),
      });
      // No body: the handler's undefined result makes Fastify send the empty 204.
      reply.code(204);
    },
  );
}

export function registerOrganizationRoutes(
  app: FastifyInstance,
  context: ModuleContext,
  identity: IdentityApi,
): void {
  const typed = typedApp(app);
  registerMembershipRoutes(typed, context);
  registerOrganizationAdminRoutes(typed, context, identity);
  registerMemberRoutes(typed, context, identity);
  registerInvitationRoutes(app, context);
}
