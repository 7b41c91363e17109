// The invitee's side of a study invitation (A11, Z4): their open invitations, accepting and
// declining. Every signed-in person may have one (the account scopes), whatever their role: an
// invitation to an account that cannot take part is declined here, since it can never be
// accepted.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import {
  Empty,
  OwnStudyInvitationList,
  StudyInvitationParams,
  TakingPartAnswer,
} from './schemas.js';
import { acceptInvitation, declineInvitation, listOwnInvitations } from './service.js';

export function registerStudyInvitationRoutes(
  app: FastifyInstance,
  context: ModuleContext<Record<string, never>>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/api/account/study-invitations',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'read' },
      schema: { response: { 200: OwnStudyInvitationList } },
    },
    async (request) => ({ invitations: await listOwnInvitations(context, request) }),
  );

  typed.post(
    '/api/account/study-invitations/:studyId/accept',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: { params: StudyInvitationParams, body: Empty, response: { 200: TakingPartAnswer } },
    },
    async (request) => ({
      joined: await acceptInvitation(context, request, request.params.studyId),
    }),
  );

  typed.delete(
    '/api/account/study-invitations/:studyId',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      schema: { params: StudyInvitationParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await declineInvitation(context, request, request.params.studyId);
      reply.code(204);
    },
  );
}
