// Request and response schemas of the patient portal and the account export. The record view
// and the shared-note view are also what break-glass shows an admin (through index.ts).
import { Type, type Static } from 'typebox';
import {
  ConsentDocumentSchema,
  ConsentGateSchema,
  ConsentRecordSchema,
} from '../patients/index.js';

const Iso = Type.String({ maxLength: 40 });
const Id = Type.String({ maxLength: 36 });
const Uuid = Type.String({ format: 'uuid', maxLength: 36 });

/** The most shared notes one answer carries (the contract has no paging for them). */
export const SHARED_NOTES_LIMIT = 500;
/** Access-log page size: default and maximum. */
export const ACCESS_LOG_DEFAULT_LIMIT = 50;
export const ACCESS_LOG_MAX_LIMIT = 100;

const AddressSchema = Type.Object(
  {
    line1: Type.String({ maxLength: 200 }),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Type.String({ maxLength: 100 }),
    region: Type.Optional(Type.String({ maxLength: 100 })),
    postalCode: Type.String({ maxLength: 20 }),
    country: Type.String({ maxLength: 2 }),
  },
  { additionalProperties: false },
);

const ContactMethodSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('phone'), Type.Literal('email')]),
    value: Type.String({ maxLength: 254 }),
    verified: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const PatientRecordViewSchema = Type.Object(
  {
    patient: Type.Object(
      {
        id: Id,
        mrn: Type.String({ maxLength: 32 }),
        givenName: Type.String({ maxLength: 100 }),
        familyName: Type.String({ maxLength: 100 }),
        birthDate: Type.String({ maxLength: 10 }),
        sex: Type.Union([
          Type.Literal('female'),
          Type.Literal('male'),
          Type.Literal('other'),
          Type.Literal('unknown'),
        ]),
        address: Type.Union([AddressSchema, Type.Null()]),
        contactMethods: Type.Array(ContactMethodSchema, { maxItems: 10 }),
      },
      { additionalProperties: false },
    ),
    organization: Type.Object(
      { id: Id, name: Type.String({ maxLength: 120 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type PatientRecordView = Static<typeof PatientRecordViewSchema>;

export const SharedNoteSchema = Type.Object(
  {
    id: Id,
    body: Type.String({ maxLength: 20000 }),
    createdAt: Iso,
    updatedAt: Iso,
    author: Type.Object(
      { displayName: Type.String({ maxLength: 100 }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type SharedNote = Static<typeof SharedNoteSchema>;

export const AccessEntrySchema = Type.Object(
  {
    at: Iso,
    action: Type.String({ maxLength: 100 }),
    actor: Type.Object(
      {
        kind: Type.Union([
          Type.Literal('you'),
          Type.Literal('staff'),
          Type.Literal('break_glass'),
          Type.Literal('system'),
        ]),
        displayName: Type.String({ maxLength: 100 }),
      },
      { additionalProperties: false },
    ),
    grantId: Type.Union([Id, Type.Null()]),
    reason: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type AccessEntry = Static<typeof AccessEntrySchema>;

// ---------------------------------------------------------------------------------------------
// Portal routes

export const Empty = Type.Object({}, { additionalProperties: false });
/** An audit seq: digits only, short enough to stay inside a bigint. */
export const SeqCursor = Type.String({ pattern: '^[0-9]{1,18}$', maxLength: 18 });

export const RecordAnswer = Type.Object(
  { record: PatientRecordViewSchema },
  { additionalProperties: false },
);
export const ConsentsAnswer = Type.Object(
  {
    documents: Type.Array(ConsentDocumentSchema, { maxItems: 100 }),
    consents: Type.Array(ConsentRecordSchema, { maxItems: 1000 }),
    gate: ConsentGateSchema,
  },
  { additionalProperties: false },
);
export const ConsentBody = Type.Object({ documentId: Uuid }, { additionalProperties: false });
export const ConsentParams = Type.Object({ consentId: Uuid }, { additionalProperties: false });
export const ConsentAnswer = Type.Object(
  { consent: ConsentRecordSchema },
  { additionalProperties: false },
);
export const NotesAnswer = Type.Object(
  { notes: Type.Array(SharedNoteSchema, { maxItems: SHARED_NOTES_LIMIT }) },
  { additionalProperties: false },
);
export const AccessLogQuery = Type.Object(
  {
    before: Type.Optional(SeqCursor),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ACCESS_LOG_MAX_LIMIT })),
    breakGlassOnly: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type AccessLogOptions = Static<typeof AccessLogQuery>;
export const AccessLogPage = Type.Object(
  {
    entries: Type.Array(AccessEntrySchema, { maxItems: ACCESS_LOG_MAX_LIMIT }),
    nextBefore: Type.Union([Type.String({ maxLength: 20 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export type AccessLogPageView = Static<typeof AccessLogPage>;
