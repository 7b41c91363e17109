// The portal invitation route of a patient record (A11): invites the patient by email, or links
// the existing patient account with that email.
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { IdentityApi } from '../../identity/index.js';
import type { TypedApp } from '../route-access.js';
import type { Db } from '../records/repo.js';
import { PatientParams } from '../records/schemas.js';
import { InvitationAnswer, InvitationBody } from './schemas.js';
import { invitePatientToPortal } from './service.js';

export function registerPortalInvitationRoutes(
  typed: TypedApp,
  db: Db,
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
      const status = await invitePatientToPortal(db, identity, request, patientId, email);
      return reply.code(201).send({ status });
    },
  );
}
