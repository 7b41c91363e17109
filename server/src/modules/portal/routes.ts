// The patient portal (Z4, L3): a patient-role user sees and acts on the one record linked to
// their account and nothing else. Every handler starts from patientSelfScope (404 when no record
// is linked) and passes only that patient id on; every read and change of the record is a PHI
// audit event in the same transaction.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { auditPhi } from '../../platform/access/phi-audit.js';
import { patientSelfScope } from '../../platform/access/scopes.js';
import { type IdentityContext } from '../identity/session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import {
  ConsentDocumentSchema,
  ConsentGateSchema,
  ConsentRecordSchema,
  consentGate,
  listConsentDocuments,
  listPatientConsents,
  recordConsent,
  withdrawConsent,
} from '../patients/consents.js';
import {
  ACCESS_LOG_MAX_LIMIT,
  AccessEntrySchema,
  PatientRecordViewSchema,
  SHARED_NOTES_LIMIT,
  SharedNoteSchema,
  listAccessLog,
  listSharedNotes,
  loadPatientRecordView,
} from './patient-views.js';

const Empty = Type.Object({}, { additionalProperties: false });
const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
/** An audit seq: digits only, short enough to stay inside a bigint. */
export const SeqCursor = Type.String({ pattern: '^[0-9]{1,18}$', maxLength: 18 });
const ConsentAnswer = Type.Object(
  { consent: ConsentRecordSchema },
  { additionalProperties: false },
);

export function registerPortalRoutes(app: FastifyInstance, deps: IdentityContext): void {
  const { db } = deps;

  app.get(
    '/api/portal/record',
    {
      config: { access: requireScopes(['portal:read']), rateClass: 'read' },
      schema: {
        response: {
          200: Type.Object({ record: PatientRecordViewSchema }, { additionalProperties: false }),
        },
      },
    },
    async (request) =>
      db.transaction().execute(async (trx) => {
        const self = await patientSelfScope(trx, request);
        const record = await loadPatientRecordView(trx, self.patientId);
        if (!record) throw new HavenError('NOT_FOUND');
        await auditPhi(trx, request, { action: 'patient.read', patientId: self.patientId });
        return { record };
      }),
  );

  app.get(
    '/api/portal/consents',
    {
      config: { access: requireScopes(['portal:read']), rateClass: 'read' },
      schema: {
        response: {
          200: Type.Object(
            {
              documents: Type.Array(ConsentDocumentSchema, { maxItems: 100 }),
              consents: Type.Array(ConsentRecordSchema, { maxItems: 1000 }),
              gate: ConsentGateSchema,
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) =>
      db.transaction().execute(async (trx) => {
        const self = await patientSelfScope(trx, request);
        const documents = await listConsentDocuments(trx, self.organizationId, {
          currentOnly: true,
        });
        const consents = await listPatientConsents(trx, self.patientId);
        const gate = await consentGate(trx, self.patientId, self.organizationId);
        await auditPhi(trx, request, {
          action: 'patient.consents_read',
          patientId: self.patientId,
        });
        return { documents, consents, gate };
      }),
  );

  app.post(
    '/api/portal/consents',
    {
      config: { access: requireScopes(['portal:write']), rateClass: 'write' },
      schema: {
        body: Type.Object({ documentId: Uuid }, { additionalProperties: false }),
        response: { 201: ConsentAnswer },
      },
    },
    async (request, reply) => {
      const { documentId } = request.body as { documentId: string };
      const consent = await db.transaction().execute(async (trx) => {
        const self = await patientSelfScope(trx, request);
        // Scoped to the patient's own organization: another organization's document is a 404.
        const recorded = await recordConsent(trx, {
          patientId: self.patientId,
          organizationId: self.organizationId,
          documentId,
          channel: 'portal',
          recordedBy: self.userId,
          currentVersionOnly: true,
        });
        await auditPhi(trx, request, {
          action: 'patient.consent_recorded',
          patientId: self.patientId,
          details: { consentId: recorded.id, documentId, channel: 'portal' },
        });
        return recorded;
      });
      reply.code(201);
      return { consent };
    },
  );

  app.post(
    '/api/portal/consents/:consentId/withdraw',
    {
      config: { access: requireScopes(['portal:write']), rateClass: 'write' },
      schema: {
        params: Type.Object({ consentId: Uuid }, { additionalProperties: false }),
        body: Empty,
        response: { 200: ConsentAnswer },
      },
    },
    async (request) => {
      const { consentId } = request.params as { consentId: string };
      const consent = await db.transaction().execute(async (trx) => {
        const self = await patientSelfScope(trx, request);
        // withdrawConsent looks the consent up by id AND this patient: anyone else's is a 404.
        const withdrawn = await withdrawConsent(trx, {
          patientId: self.patientId,
          consentId,
          withdrawnBy: self.userId,
        });
        await auditPhi(trx, request, {
          action: 'patient.consent_withdrawn',
          patientId: self.patientId,
          details: { consentId, documentId: withdrawn.documentId, channel: 'portal' },
        });
        return withdrawn;
      });
      return { consent };
    },
  );

  app.get(
    '/api/portal/notes',
    {
      config: { access: requireScopes(['portal:read']), rateClass: 'read' },
      schema: {
        response: {
          200: Type.Object(
            { notes: Type.Array(SharedNoteSchema, { maxItems: SHARED_NOTES_LIMIT }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) =>
      db.transaction().execute(async (trx) => {
        const self = await patientSelfScope(trx, request);
        const notes = await listSharedNotes(trx, self.patientId);
        await auditPhi(trx, request, {
          action: 'patient.notes_read',
          patientId: self.patientId,
          details: { count: notes.length },
        });
        return { notes };
      }),
  );

  app.get(
    '/api/portal/access-log',
    {
      config: { access: requireScopes(['portal:read']), rateClass: 'read' },
      schema: {
        querystring: Type.Object(
          {
            before: Type.Optional(SeqCursor),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ACCESS_LOG_MAX_LIMIT })),
            breakGlassOnly: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              entries: Type.Array(AccessEntrySchema, { maxItems: ACCESS_LOG_MAX_LIMIT }),
              nextBefore: Type.Union([Type.String({ maxLength: 20 }), Type.Null()]),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const query = request.query as { before?: string; limit?: number; breakGlassOnly?: boolean };
      return db.transaction().execute(async (trx) => {
        const self = await patientSelfScope(trx, request);
        const page = await listAccessLog(trx, self.patientId, query);
        // Reading the audit log is not an access to the record, so it is no PHI event and does
        // not appear in the list itself; it is still a security event worth keeping.
        await recordAudit(trx, {
          actor: { type: 'user', id: self.userId },
          action: 'portal.access_log_read',
          target: { type: 'user', id: self.userId },
          outcome: 'success',
          details: { count: page.entries.length, paged: query.before !== undefined },
          ...requestContext(request),
        });
        return page;
      });
    },
  );
}
