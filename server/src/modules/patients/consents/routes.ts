// Consent documents of the active organization and a patient's consent records (Z4, L3, V1).
// The rules live in service.ts (shared with the portal and break-glass); handlers resolve the
// caller and shape the answer.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ModuleContext } from '../../../platform/module-context.js';
import { requireScopes } from '../../../platform/http/route-contract.js';
import { PATIENTS_READ, PATIENTS_WRITE } from '../route-access.js';
import { staffCaller } from '../staff-caller.js';
import { Empty, PatientParams } from '../records/schemas.js';
import {
  ConsentAnswer,
  ConsentParams,
  DocumentAnswer,
  DocumentList,
  PatientConsentList,
  PublishBody,
  RecordBody,
} from './schemas.js';
import {
  listConsentDocuments,
  publishConsentDocument,
  readPatientConsents,
  recordStaffConsent,
  withdrawStaffConsent,
} from './service.js';

export function registerConsentRoutes(app: FastifyInstance, context: ModuleContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = context;

  typed.get(
    '/api/consent-documents',
    { config: PATIENTS_READ, schema: { response: { 200: DocumentList } } },
    async function listConsentDocumentsRoute(request) {
      const { scope } = await staffCaller(db, request);
      return { documents: await listConsentDocuments(db, scope.organizationId) };
    },
  );

  typed.post(
    '/api/consent-documents',
    {
      config: { access: requireScopes(['orgs:members']), rateClass: 'write' },
      // 20 000 characters of up to 4 UTF-8 bytes each, plus the rest of the body.
      bodyLimit: 90_000,
      schema: { body: PublishBody, response: { 201: DocumentAnswer } },
    },
    async function publishConsentDocumentRoute(request, reply) {
      const caller = await staffCaller(db, request);
      const document = await publishConsentDocument(db, caller, request.body);
      return reply.code(201).send({ document });
    },
  );

  typed.get(
    '/api/patients/:patientId/consents',
    {
      config: PATIENTS_READ,
      schema: { params: PatientParams, response: { 200: PatientConsentList } },
    },
    async function readPatientConsentsRoute(request) {
      const caller = await staffCaller(db, request);
      return readPatientConsents(db, caller, request.params.patientId);
    },
  );

  typed.post(
    '/api/patients/:patientId/consents',
    {
      config: PATIENTS_WRITE,
      bodyLimit: 1024,
      schema: { params: PatientParams, body: RecordBody, response: { 201: ConsentAnswer } },
    },
    async function recordConsentRoute(request, reply) {
      const caller = await staffCaller(db, request);
      const consent = await recordStaffConsent(db, caller, request.params.patientId, request.body);
      return reply.code(201).send({ consent });
    },
  );

  typed.post(
    '/api/patients/:patientId/consents/:consentId/withdraw',
    {
      config: PATIENTS_WRITE,
      bodyLimit: 1024,
      schema: { params: ConsentParams, body: Empty, response: { 200: ConsentAnswer } },
    },
    async function withdrawConsentRoute(request) {
      const { patientId, consentId } = request.params;
      const caller = await staffCaller(db, request);
      return { consent: await withdrawStaffConsent(db, caller, patientId, consentId) };
    },
  );
}
