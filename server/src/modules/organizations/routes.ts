// Organization routes (Z2, Z3, Z4, Z5, L3): the caller's memberships and active organization,
// organization administration for platform admins, and member management for org admins.
// Only people use them: a machine client token is refused (requireUser), since memberships,
// invitations and the audit trail all name a person.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { OrganizationRole } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { organizationScope, requireUser } from '../../platform/access/scopes.js';
import { type IdentityContext } from '../identity/session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import {
  ActiveAnswer,
  ActiveChoice,
  MemberAnswer,
  MemberInvite,
  MemberList,
  MemberParams,
  MembershipList,
  OrganizationAnswer,
  OrganizationCreate,
  OrganizationIdParams,
  OrganizationPage,
  OrganizationQuery,
  RoleChange,
} from './schemas.js';
import {
  addMember,
  changeMemberRole,
  chooseActiveOrganization,
  createOrganization,
  listMembers,
  listMemberships,
  normalizeOrganizationName,
  removeMember,
  requireMembership,
  requireOrganization,
  searchOrganizations,
  type AddedMember,
} from './service.js';

interface InviteBody {
  email: string;
  role: OrganizationRole;
  displayName?: string;
}

/** The session's effective organization, as the clinical routes will see it; null when none. */
async function activeOrganizationId(
  deps: IdentityContext,
  request: FastifyRequest,
): Promise<string | null> {
  try {
    return (await organizationScope(deps.db, request)).organizationId;
  } catch (error) {
    if (error instanceof HavenError && error.code === 'NO_ACTIVE_ORGANIZATION') return null;
    throw error;
  }
}

/** Tells an existing account it was added, after commit; no organization name or PHI in mail. */
async function notifyAdded(
  deps: IdentityContext,
  request: FastifyRequest,
  added: AddedMember,
): Promise<void> {
  if (!added.notify) return;
  try {
    await deps.mailer.send({
      to: added.notify.to,
      subject: 'You were added to an organization in Haven',
      text:
        `An administrator added you to an organization in Haven. Sign in at ` +
        `${deps.config.publicOrigin}/ to see it.\n\n` +
        `If you did not expect this, contact your administrator.\n`,
    });
  } catch (error) {
    // The membership is committed; a failed notice must not turn that into an error answer.
    request.log.error(
      { mailError: error instanceof Error ? error.name : 'unknown' },
      'mail delivery failed',
    );
  }
}

export function registerOrganizationRoutes(app: FastifyInstance, deps: IdentityContext): void {
  // -------------------------------------------------------------------------------------------
  // Active organization

  app.get(
    '/api/organizations',
    {
      config: { access: requireScopes(['orgs:read']), rateClass: 'read' },
      schema: { response: { 200: MembershipList } },
    },
    async (request) => {
      const { userId } = requireUser(request);
      const rows = await listMemberships(deps.db, userId);
      return {
        organizations: rows.map((row) => ({ id: row.id, name: row.name, role: row.role })),
        activeOrganizationId: await activeOrganizationId(deps, request),
      };
    },
  );

  app.put(
    '/api/organizations/active',
    {
      config: { access: requireScopes(['orgs:read']), rateClass: 'write' },
      schema: { body: ActiveChoice, response: { 200: ActiveAnswer } },
    },
    async (request) => {
      const { userId, sessionId } = requireUser(request);
      const { organizationId } = request.body as { organizationId: string };
      const role = await chooseActiveOrganization(deps.db, {
        userId,
        sessionId,
        organizationId,
        ...requestContext(request),
      });
      return { activeOrganizationId: organizationId, role };
    },
  );

  // -------------------------------------------------------------------------------------------
  // Organizations (platform admins)

  app.post(
    '/api/admin/organizations',
    {
      config: { access: requireScopes(['orgs:manage']), rateClass: 'write' },
      bodyLimit: 2048,
      schema: { body: OrganizationCreate, response: { 201: OrganizationAnswer } },
    },
    async (request, reply) => {
      const { userId } = requireUser(request);
      const name = normalizeOrganizationName((request.body as { name: string }).name);
      const organization = await createOrganization(deps.db, {
        name,
        createdBy: userId,
        ...requestContext(request),
      });
      reply.code(201);
      return { organization };
    },
  );

  app.get(
    '/api/admin/organizations',
    {
      config: { access: requireScopes(['orgs:manage']), rateClass: 'read' },
      schema: { querystring: OrganizationQuery, response: { 200: OrganizationPage } },
    },
    async (request) => {
      requireUser(request);
      const query = request.query as { q?: string; cursor?: string; limit?: number };
      return searchOrganizations(deps.db, {
        q: query.q,
        cursor: query.cursor,
        limit: query.limit ?? 50,
      });
    },
  );

  app.post(
    '/api/admin/organizations/:organizationId/members',
    {
      config: { access: requireScopes(['orgs:manage']), rateClass: 'sensitive' },
      bodyLimit: 2048,
      schema: { params: OrganizationIdParams, body: MemberInvite, response: { 201: MemberAnswer } },
    },
    async (request, reply) => {
      const { userId } = requireUser(request);
      const { organizationId } = request.params as { organizationId: string };
      await requireOrganization(deps.db, organizationId);
      const body = request.body as InviteBody;
      const added = await addMember(deps, {
        organizationId,
        email: body.email,
        role: body.role,
        displayName: body.displayName,
        actorId: userId,
        authorize: (trx) => requireOrganization(trx, organizationId),
        ...requestContext(request),
      });
      await notifyAdded(deps, request, added);
      reply.code(201);
      return { member: added.member };
    },
  );

  // -------------------------------------------------------------------------------------------
  // Members (org admins manage; any member lists)

  app.get(
    '/api/organizations/:organizationId/members',
    {
      config: { access: requireScopes(['orgs:members']), rateClass: 'read' },
      schema: { params: OrganizationIdParams, response: { 200: MemberList } },
    },
    async (request) => {
      const { userId } = requireUser(request);
      const { organizationId } = request.params as { organizationId: string };
      await requireMembership(deps.db, organizationId, userId);
      const members = await listMembers(deps.db, organizationId);
      // The list shows colleagues' email addresses: who looked is recorded, as for admins.
      await recordAudit(deps.db, {
        actor: { type: 'user', id: userId },
        action: 'org.members_listed',
        target: { type: 'organization', id: organizationId },
        outcome: 'success',
        details: { results: members.length },
        ...requestContext(request),
      });
      return { members };
    },
  );

  app.post(
    '/api/organizations/:organizationId/members',
    {
      config: { access: requireScopes(['orgs:members']), rateClass: 'sensitive' },
      bodyLimit: 2048,
      schema: { params: OrganizationIdParams, body: MemberInvite, response: { 201: MemberAnswer } },
    },
    async (request, reply) => {
      const { userId } = requireUser(request);
      const { organizationId } = request.params as { organizationId: string };
      await requireMembership(deps.db, organizationId, userId, { admin: true });
      const body = request.body as InviteBody;
      const added = await addMember(deps, {
        organizationId,
        email: body.email,
        role: body.role,
        displayName: body.displayName,
        actorId: userId,
        // Still org_admin when the member is added: a demotion in between cannot be bypassed.
        authorize: async (trx) => {
          await requireMembership(trx, organizationId, userId, { admin: true, lock: 'share' });
        },
        ...requestContext(request),
      });
      await notifyAdded(deps, request, added);
      reply.code(201);
      return { member: added.member };
    },
  );

  app.put(
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
      const params = request.params as { organizationId: string; userId: string };
      await requireMembership(deps.db, params.organizationId, actorId, { admin: true });
      const member = await changeMemberRole(deps.db, {
        organizationId: params.organizationId,
        userId: params.userId,
        role: (request.body as { role: OrganizationRole }).role,
        actorId,
        ...requestContext(request),
      });
      return { member };
    },
  );

  app.delete(
    '/api/organizations/:organizationId/members/:userId',
    {
      config: { access: requireScopes(['orgs:members']), rateClass: 'sensitive' },
      schema: { params: MemberParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const actorId = requireUser(request).userId;
      const params = request.params as { organizationId: string; userId: string };
      await requireMembership(deps.db, params.organizationId, actorId, { admin: true });
      await removeMember(deps.db, {
        organizationId: params.organizationId,
        userId: params.userId,
        actorId,
        ...requestContext(request),
      });
      return reply.code(204).send();
    },
  );
}
