// Consent documents of the active organization and a patient's consent records (Z4, L3, V1).
// The rules live in consents.ts (shared with the portal and break-glass); these routes add the
// organization scope, the org_admin check for publishing and the audit events.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ConsentKind } from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { organizationScope, requireOrganizationAdmin } from '../../platform/access/scopes.js';
import { auditPhi } from '../../platform/access/phi-audit.js';
import { type IdentityContext } from '../identity/session-kit.js';
import { requestContext } from '../../platform/http/request-context.js';
import {
  ConsentDocumentSchema,
  ConsentGateSchema,
  ConsentKindSchema,
  ConsentRecordSchema,
  consentGate,
  listConsentDocuments,
  listPatientConsents,
  recordConsent,
  withdrawConsent,
  type ConsentDocumentView,
} from './consents.js';
import { isUniqueViolation } from '../../platform/db/sql-text.js';
import { Empty, PatientParams, UUID, findPatient, findWritablePatient } from './patient-model.js';
import { FieldErrors, cleanProse, cleanText } from '../../platform/text.js';

const ConsentAnswer = Type.Object(
  { consent: ConsentRecordSchema },
  { additionalProperties: false },
);
/** Attempts at publishing when concurrent publications keep taking the next version number. */
const PUBLISH_ATTEMPTS = 3;

export function registerConsentRoutes(app: FastifyInstance, deps: IdentityContext): void {
  const db = deps.db;

  app.get(
    '/api/consent-documents',
    {
      config: { access: requireScopes(['patients:read']), rateClass: 'read' },
      schema: {
        response: {
          200: Type.Object(
            { documents: Type.Array(ConsentDocumentSchema, { maxItems: 10_000 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const scope = await organizationScope(db, request);
      return { documents: await listConsentDocuments(db, scope.organizationId) };
    },
  );

  app.post(
    '/api/consent-documents',
    {
      config: { access: requireScopes(['orgs:members']), rateClass: 'write' },
      // 20 000 characters of up to 4 UTF-8 bytes each, plus the rest of the body.
      bodyLimit: 90_000,
      schema: {
        body: Type.Object(
          {
            kind: ConsentKindSchema,
            title: Type.String({ minLength: 1, maxLength: 200 }),
            body: Type.String({ minLength: 1, maxLength: 20_000 }),
            required: Type.Boolean(),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ document: ConsentDocumentSchema }, { additionalProperties: false }),
        },
      },
    },
    async (request, reply) => {
      const scope = await organizationScope(db, request);
      requireOrganizationAdmin(scope);
      const input = request.body as {
        kind: ConsentKind;
        title: string;
        body: string;
        required: boolean;
      };
      const errors = new FieldErrors();
      const title = cleanText(errors, 'body.title', input.title, {
        required: true,
        maxLength: 200,
      });
      const text = cleanProse(errors, 'body.body', input.body, 20_000);
      errors.throwIfAny();
      if (title === undefined || text === undefined) throw new HavenError('VALIDATION_FAILED');

      const publish = () =>
        db.transaction().execute(async (trx) => {
          // Publications in one organization queue on its row, so "previous + 1" is read after
          // the previous one committed; the unique (organization, kind, version) backs it up.
          await trx
            .selectFrom('organizations')
            .select('id')
            .where('id', '=', scope.organizationId)
            .forUpdate()
            .executeTakeFirstOrThrow();
          const previous = await trx
            .selectFrom('consent_documents')
            .select((eb) => eb.fn.max('version').as('version'))
            .where('organization_id', '=', scope.organizationId)
            .where('kind', '=', input.kind)
            .executeTakeFirst();
          const version = Number(previous?.version ?? 0) + 1;
          const created = await trx
            .insertInto('consent_documents')
            .values({
              organization_id: scope.organizationId,
              kind: input.kind,
              version,
              title,
              body: text,
              required: input.required,
              published_by: scope.userId,
            })
            .returning('id')
            .executeTakeFirstOrThrow();
          await recordAudit(trx, {
            actor: { type: 'user', id: scope.userId },
            action: 'consent.document_published',
            target: { type: 'consent_document', id: created.id },
            outcome: 'success',
            details: {
              organizationId: scope.organizationId,
              kind: input.kind,
              version,
              required: input.required,
            },
            ...requestContext(request),
          });
          const documents = await listConsentDocuments(trx, scope.organizationId);
          const document = documents.find((doc) => doc.id === created.id);
          if (!document) throw new Error('published consent document not found');
          return document;
        });

      let document: ConsentDocumentView | undefined;
      for (let attempt = 1; document === undefined; attempt++) {
        try {
          document = await publish();
        } catch (error) {
          if (!isUniqueViolation(error)) throw error;
          if (attempt >= PUBLISH_ATTEMPTS) {
            throw new HavenError(
              'CONFLICT',
              'Another version of this document was published at the same time; try again.',
            );
          }
        }
      }
      return reply.code(201).send({ document });
    },
  );

  app.get(
    '/api/patients/:patientId/consents',
    {
      config: { access: requireScopes(['patients:read']), rateClass: 'read' },
      schema: {
        params: PatientParams,
        response: {
          200: Type.Object(
            {
              consents: Type.Array(ConsentRecordSchema, { maxItems: 10_000 }),
              gate: ConsentGateSchema,
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { patientId } = request.params as { patientId: string };
      const scope = await organizationScope(db, request);
      return db.transaction().execute(async (trx) => {
        const patient = await findPatient(trx, scope.organizationId, patientId);
        const consents = await listPatientConsents(trx, patient.id);
        const gate = await consentGate(trx, patient.id, scope.organizationId);
        await auditPhi(trx, request, { action: 'patient.consents_read', patientId: patient.id });
        return { consents, gate };
      });
    },
  );

  app.post(
    '/api/patients/:patientId/consents',
    {
      config: { access: requireScopes(['patients:write']), rateClass: 'write' },
      bodyLimit: 1024,
      schema: {
        params: PatientParams,
        body: Type.Object(
          {
            documentId: UUID,
            channel: Type.Union([
              Type.Literal('in_person'),
              Type.Literal('paper'),
              Type.Literal('phone'),
            ]),
          },
          { additionalProperties: false },
        ),
        response: { 201: ConsentAnswer },
      },
    },
    async (request, reply) => {
      const { patientId } = request.params as { patientId: string };
      const body = request.body as { documentId: string; channel: 'in_person' | 'paper' | 'phone' };
      const scope = await organizationScope(db, request);
      const consent = await db.transaction().execute(async (trx) => {
        const patient = await findWritablePatient(trx, scope.organizationId, patientId);
        const recorded = await recordConsent(trx, {
          patientId: patient.id,
          organizationId: scope.organizationId,
          documentId: body.documentId,
          channel: body.channel,
          recordedBy: scope.userId,
          currentVersionOnly: false,
        });
        await auditPhi(trx, request, {
          action: 'patient.consent_recorded',
          patientId: patient.id,
          details: { consentId: recorded.id, documentId: recorded.documentId },
        });
        return recorded;
      });
      return reply.code(201).send({ consent });
    },
  );

  app.post(
    '/api/patients/:patientId/consents/:consentId/withdraw',
    {
      config: { access: requireScopes(['patients:write']), rateClass: 'write' },
      bodyLimit: 1024,
      schema: {
        params: Type.Object({ patientId: UUID, consentId: UUID }, { additionalProperties: false }),
        body: Empty,
        response: { 200: ConsentAnswer },
      },
    },
    async (request) => {
      const { patientId, consentId } = request.params as { patientId: string; consentId: string };
      const scope = await organizationScope(db, request);
      const consent = await db.transaction().execute(async (trx) => {
        // Withdrawal stays possible on an archived record: it only ever narrows what is allowed.
        const patient = await findPatient(trx, scope.organizationId, patientId, { lock: true });
        const withdrawn = await withdrawConsent(trx, {
          patientId: patient.id,
          consentId,
          withdrawnBy: scope.userId,
        });
        await auditPhi(trx, request, {
          action: 'patient.consent_withdrawn',
          patientId: patient.id,
          details: { consentId: withdrawn.id, documentId: withdrawn.documentId },
        });
        return withdrawn;
      });
      return { consent };
    },
  );
}
