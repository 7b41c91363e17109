// The portal invitation routes (A11): a clinician invites the patient of a record by email; the
// invitee of an existing account lists, accepts or declines. The invitee's routes hold the
// account scopes, so whoever an invitation names (a clinician's address, say) may decline it,
// and need the person's own session (requireUser in the service).
import { Type } from 'typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { IdentityApi } from '../../identity/index.js';
import type { TypedApp } from '../route-access.js';
import { Empty, PatientParams } from '../records/schemas.js';
import {
  InvitationAnswer,
  InvitationBody,
  OwnPortalInvitationList,
  PortalInvitationAccepted,
  PortalInvitationParams,
} from './schemas.js';
import {
  acceptPortalInvitation,
  declinePortalInvitation,
  invitePatientToPortal,
  listOwnPortalInvitationViews,
} from './service.js';

export function registerPortalInvitationRoutes(
  typed: TypedApp,
  context: ModuleContext,
  identity: IdentityApi,
): void {
  typed.post(
    '/api/patients/:patientId/portal-invitation',
    {
      config: { access: requireScopes(['patients:write']), rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: {
        params: PatientParams,
        body: InvitationBody,
        response: { 201: InvitationAnswer },
      },
    },
    async function invitePatientRoute(request, reply) {
      const email = request.body.email.trim();
      const { patientId } = request.params;
      const status = await invitePatientToPortal(context, identity, request, patientId, email);
      return reply.code(201).send({ status });
    },
  );

  typed.get(
    '/api/account/portal-invitations',
    {
      config: { access: requireScopes(['account:read']), rateClass: 'read' },
      schema: { response: { 200: OwnPortalInvitationList } },
    },
    async (request) => ({ invitations: await listOwnPortalInvitationViews(context, request) }),
  );

  typed.post(
    '/api/account/portal-invitations/:invitationId/accept',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: {
        params: PortalInvitationParams,
        body: Empty,
        response: { 200: PortalInvitationAccepted },
      },
    },
    async (request) => ({
      linked: await acceptPortalInvitation(context, request, request.params.invitationId),
    }),
  );

  typed.delete(
    '/api/account/portal-invitations/:invitationId',
    {
      config: { access: requireScopes(['account:write']), rateClass: 'sensitive' },
      schema: { params: PortalInvitationParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await declinePortalInvitation(context, request, request.params.invitationId);
      reply.code(204);
    },
  );
}
