// Client management routes (A12, Z5): platform administrators only (oauth:manage), every one
// under step-up MFA, since each reads or changes what lets a machine into Haven.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../platform/http/route-contract.js';
import {
  ChangeScopesBody,
  ClientAnswer,
  ClientList,
  ClientParams,
  ClientWithSecretAnswer,
  CreateClientBody,
  Empty,
} from './schemas.js';
import {
  changeClientScopes,
  createClient,
  disableClient,
  listOAuthClients,
  rotateClientSecret,
  type OAuthContext,
} from './service.js';

export function registerClientRoutes(app: FastifyInstance, ctx: OAuthContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const manage = requireScopes(['oauth:manage'], { stepUp: true });

  typed.get(
    '/api/admin/oauth-clients',
    {
      config: { access: manage, rateClass: 'read' },
      schema: { response: { 200: ClientList } },
    },
    async () => ({ clients: await listOAuthClients(ctx) }),
  );

  typed.post(
    '/api/admin/oauth-clients',
    {
      config: { access: manage, rateClass: 'sensitive' },
      bodyLimit: 4096,
      schema: { body: CreateClientBody, response: { 201: ClientWithSecretAnswer } },
    },
    async (request, reply) => {
      const created = await createClient(ctx, request, request.body);
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  typed.post(
    `/api/admin/oauth-clients/:clientId/secret`,
    {
      config: { access: manage, rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: { params: ClientParams, body: Empty, response: { 200: ClientWithSecretAnswer } },
    },
    async (request, reply) => {
      const rotated = await rotateClientSecret(ctx, request, request.params.clientId);
      return reply.header('cache-control', 'no-store').send(rotated);
    },
  );

  typed.put(
    `/api/admin/oauth-clients/:clientId/scopes`,
    {
      config: { access: manage, rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: { params: ClientParams, body: ChangeScopesBody, response: { 200: ClientAnswer } },
    },
    async (request) => ({
      client: await changeClientScopes(ctx, request, request.params.clientId, request.body),
    }),
  );

  typed.post(
    `/api/admin/oauth-clients/:clientId/disable`,
    {
      config: { access: manage, rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: { params: ClientParams, body: Empty, response: { 200: ClientAnswer } },
    },
    async (request) => ({ client: await disableClient(ctx, request, request.params.clientId) }),
  );
}
