// The invitee's side of an org admin's invitation (A11, Z4): their open invitations, accepting
// and declining. Every signed-in person may have one (the account scopes), whatever their role:
// an invitation to a patient's account is declined here, since it can never be accepted. Only
// the person's own session: an app acting for them, or a machine client, may not join anyone
// to an organization (requireUser in the service).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { Empty, InvitationParams, JoinedAnswer, OwnInvitationList } from '../schemas.js';
import { acceptInvitation, declineInvitation, listOwnInvitations } from './service.js';

export function registerInvitationRoutes(app: FastifyInstance, context: ModuleContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/api/account/organization-invitations',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'read' },
      schema: { response: { 200: OwnInvitationList } },
    },
    async (request) => ({ invitations: await listOwnInvitations(context, request) }),
  );

  typed.post(
    '/api/account/organization-invitations/:invitationId/accept',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: { params: InvitationParams, body: Empty, response: { 200: JoinedAnswer } },
    },
    async (request) => ({
      joined: await acceptInvitation(context, request, request.params.invitationId),
    }),
  );

  typed.delete(
    '/api/account/organization-invitations/:invitationId',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      schema: { params: InvitationParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await declineInvitation(context, request, request.params.invitationId);
      reply.code(204);
    },
  );
}
