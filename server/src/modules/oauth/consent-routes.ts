// The person's routes of the authorization code flow (A12): the consent page's question and
// answer, and the account page's connected apps. Each needs the person's own signed-in session
// (requireUser in interactions.ts): an app's token can never consent or disconnect for anyone.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../platform/http/route-contract.js';
import { decide, describeInteraction, disconnectApp, listConnectedApps } from './interactions.js';
import type { AuthorizationServer } from './provider.js';
import {
  ConnectedAppList,
  DecisionAnswer,
  DecisionBody,
  Empty,
  GrantParams,
  InteractionAnswer,
  InteractionParams,
} from './schemas.js';
import type { OAuthContext } from './service.js';

export function registerConsentRoutes(
  app: FastifyInstance,
  ctx: OAuthContext,
  server: AuthorizationServer,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = requireScopes(['account:read']);
  const write = requireScopes(['account:write']);

  typed.get(
    '/api/oauth/interactions/:uid',
    {
      config: { access: read, rateClass: 'read' },
      schema: { params: InteractionParams, response: { 200: InteractionAnswer } },
    },
    async (request, reply) => {
      const interaction = await describeInteraction(ctx, server, request, request.params.uid);
      return reply.header('cache-control', 'no-store').send({ interaction });
    },
  );

  typed.post(
    '/api/oauth/interactions/:uid/decision',
    {
      config: { access: write, rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: { params: InteractionParams, body: DecisionBody, response: { 200: DecisionAnswer } },
    },
    async (request, reply) => {
      const redirectTo = await decide(ctx, server, request, request.params.uid, request.body.allow);
      return reply.header('cache-control', 'no-store').send({ redirectTo });
    },
  );

  typed.get(
    '/api/account/connected-apps',
    {
      config: { access: read, rateClass: 'read' },
      schema: { response: { 200: ConnectedAppList } },
    },
    async (request) => ({ apps: await listConnectedApps(ctx, server, request) }),
  );

  typed.post(
    '/api/account/connected-apps/:grantId/revoke',
    {
      config: { access: write, rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: { params: GrantParams, body: Empty, response: { 200: Empty } },
    },
    async (request) => {
      await disconnectApp(ctx, request, request.params.grantId);
      return {};
    },
  );
}
