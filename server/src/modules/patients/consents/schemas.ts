// Consent documents, a patient's consent records and the consent gate: the answers shared with
// the portal and break-glass, and the requests of the staff routes.
import { Type, type Static } from 'typebox';
import { UUID } from '../records/schemas.js';

export const CONSENT_KINDS = ['hipaa_notice', 'terms', 'treatment', 'research'] as const;
export const ConsentKindSchema = Type.Union([
  Type.Literal('hipaa_notice'),
  Type.Literal('terms'),
  Type.Literal('treatment'),
  Type.Literal('research'),
]);
export const ConsentChannelSchema = Type.Union([
  Type.Literal('portal'),
  Type.Literal('in_person'),
  Type.Literal('paper'),
  Type.Literal('phone'),
]);

export const ConsentDocumentSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    kind: ConsentKindSchema,
    version: Type.Integer({ minimum: 1 }),
    title: Type.String({ maxLength: 200 }),
    body: Type.String({ maxLength: 20000 }),
    required: Type.Boolean(),
    publishedAt: Type.String({ maxLength: 40 }),
    current: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ConsentDocumentView = Static<typeof ConsentDocumentSchema>;

export const ConsentRecordSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    documentId: Type.String({ maxLength: 36 }),
    kind: ConsentKindSchema,
    version: Type.Integer({ minimum: 1 }),
    title: Type.String({ maxLength: 200 }),
    channel: ConsentChannelSchema,
    givenAt: Type.String({ maxLength: 40 }),
    withdrawnAt: Type.Union([Type.String({ maxLength: 40 }), Type.Null()]),
    current: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type ConsentRecordView = Static<typeof ConsentRecordSchema>;

export const ConsentGateSchema = Type.Object(
  {
    satisfied: Type.Boolean(),
    missing: Type.Array(
      Type.Object(
        {
          documentId: Type.String({ maxLength: 36 }),
          kind: ConsentKindSchema,
          version: Type.Integer({ minimum: 1 }),
          title: Type.String({ maxLength: 200 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: CONSENT_KINDS.length },
    ),
  },
  { additionalProperties: false },
);
export type ConsentGateView = Static<typeof ConsentGateSchema>;

// ---------------------------------------------------------------------------------------------
// Staff routes

export const DocumentList = Type.Object(
  { documents: Type.Array(ConsentDocumentSchema, { maxItems: 10_000 }) },
  { additionalProperties: false },
);
export const PublishBody = Type.Object(
  {
    kind: ConsentKindSchema,
    title: Type.String({ minLength: 1, maxLength: 200 }),
    body: Type.String({ minLength: 1, maxLength: 20_000 }),
    required: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type PublishInput = Static<typeof PublishBody>;
export const DocumentAnswer = Type.Object(
  { document: ConsentDocumentSchema },
  { additionalProperties: false },
);
export const PatientConsentList = Type.Object(
  {
    consents: Type.Array(ConsentRecordSchema, { maxItems: 10_000 }),
    gate: ConsentGateSchema,
  },
  { additionalProperties: false },
);
export const RecordBody = Type.Object(
  {
    documentId: UUID,
    channel: Type.Union([Type.Literal('in_person'), Type.Literal('paper'), Type.Literal('phone')]),
  },
  { additionalProperties: false },
);
export type StaffConsentInput = Static<typeof RecordBody>;
export const ConsentParams = Type.Object(
  { patientId: UUID, consentId: UUID },
  { additionalProperties: false },
);
export const ConsentAnswer = Type.Object(
  { consent: ConsentRecordSchema },
  { additionalProperties: false },
);
