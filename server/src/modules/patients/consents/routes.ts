// Consent documents of the active organization and a patient's consent records (Z4, L3, V1).
// The rules and access checks live in service.ts (the rules shared with the portal and
// break-glass); handlers shape the answer.
import { requireScopes } from '../../../platform/http/route-contract.js';
import { PATIENTS_READ, PATIENTS_WRITE, type TypedApp } from '../route-access.js';
import type { Db } from '../records/repo.js';
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
  publishConsentDocument,
  readConsentDocuments,
  readPatientConsents,
  recordStaffConsent,
  withdrawStaffConsent,
} from './service.js';

export function registerConsentRoutes(typed: TypedApp, db: Db): void {
  typed.get(
    '/api/consent-documents',
    { config: PATIENTS_READ, schema: { response: { 200: DocumentList } } },
    async function listConsentDocumentsRoute(request) {
      return { documents: await readConsentDocuments(db, request) };
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
      const document = await publishConsentDocument(db, request, request.body);
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
      return readPatientConsents(db, request, request.params.patientId);
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
      const { patientId } = request.params;
      const consent = await recordStaffConsent(db, request, patientId, request.body);
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
      return { consent: await withdrawStaffConsent(db, request, patientId, consentId) };
    },
  );
}
