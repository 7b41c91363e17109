// An organization's own OAuth clients (A12, issue 12 item 4, Z4, Z5): its administrators list,
// register, rotate, re-scope and disable the clients it owns. The scope is the org admins' own
// (orgs:members, which clinicians hold too); the service then asks requireAccess for
// `organization:administer` of the organization in the path, so only its org_admin passes. Every
// route is under step-up MFA, as the platform administrators' (routes.ts).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../platform/http/route-contract.js';
import {
  ChangeScopesBody,
  ClientAnswer,
  ClientList,
  ClientWithSecretAnswer,
  Empty,
  OrganizationClientParams,
  OrganizationCreateClientBody,
  OrganizationParams,
} from './schemas.js';
import {
  changeOrganizationClientScopes,
  createOrganizationClient,
  disableOrganizationClient,
  listOrganizationOAuthClients,
  rotateOrganizationClientSecret,
  type OAuthContext,
} from './service.js';

export function registerOrganizationClientRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const manage = requireScopes(['orgs:members'], { stepUp: true });

  typed.get(
    '/api/organizations/:organizationId/oauth-clients',
    {
      config: { access: manage, rateClass: 'read' },
      schema: { params: OrganizationParams, response: { 200: ClientList } },
    },
    async (request) => ({
      clients: await listOrganizationOAuthClients(ctx, request, request.params.organizationId),
    }),
  );

  typed.post(
    '/api/organizations/:organizationId/oauth-clients',
    {
      config: { access: manage, rateClass: 'sensitive' },
      bodyLimit: 4096,
      schema: {
        params: OrganizationParams,
        body: OrganizationCreateClientBody,
        response: { 201: ClientWithSecretAnswer },
      },
    },
    async (request, reply) => {
      const { organizationId } = request.params;
      const created = await createOrganizationClient(ctx, request, organizationId, request.body);
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  typed.post(
    `/api/organizations/:organizationId/oauth-clients/:clientId/secret`,
    {
      config: { access: manage, rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: {
        params: OrganizationClientParams,
        body: Empty,
        response: { 200: ClientWithSecretAnswer },
      },
    },
    async (request, reply) => {
      const { organizationId, clientId } = request.params;
      const rotated = await rotateOrganizationClientSecret(ctx, request, organizationId, clientId);
      return reply.header('cache-control', 'no-store').send(rotated);
    },
  );

  typed.put(
    `/api/organizations/:organizationId/oauth-clients/:clientId/scopes`,
    {
      config: { access: manage, rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: {
        params: OrganizationClientParams,
        body: ChangeScopesBody,
        response: { 200: ClientAnswer },
      },
    },
    async (request) => {
      const { organizationId, clientId } = request.params;
      return {
        client: await changeOrganizationClientScopes(
          ctx,
          request,
          organizationId,
          clientId,
          request.body,
        ),
      };
    },
  );

  typed.post(
    `/api/organizations/:organizationId/oauth-clients/:clientId/disable`,
    {
      config: { access: manage, rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: { params: OrganizationClientParams, body: Empty, response: { 200: ClientAnswer } },
    },
    async (request) => {
      const { organizationId, clientId } = request.params;
      return { client: await disableOrganizationClient(ctx, request, organizationId, clientId) };
    },
  );
}
