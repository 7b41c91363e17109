// The portal invitation route of a patient record (A11): invites the patient by email, or links
// the existing patient account with that email.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ModuleContext } from '../../../platform/module-context.js';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { IdentityApi } from '../../identity/index.js';
import { staffCaller } from '../staff-caller.js';
import { PatientParams } from '../records/schemas.js';
import { InvitationAnswer, InvitationBody } from './schemas.js';
import { invitePatientToPortal } from './service.js';

export function registerPortalInvitationRoutes(
  app: FastifyInstance,
  context: ModuleContext,
  identity: IdentityApi,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = context;

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
      const caller = await staffCaller(db, request);
      const status = await invitePatientToPortal(
        db,
        identity,
        caller,
        request.params.patientId,
        email,
      );
      return reply.code(201).send({ status });
    },
  );
}
