// The patient's view of their record, shared notes and access log: what the portal shows, what
// break-glass shows an admin exactly as the patient sees it, and what the account export carries.
// A room of its own so that the account export's schemas and the portal's door (../schemas.ts),
// which re-exports them, both import it without importing each other.
import { Type, type Static, type TProperties } from 'typebox';

/** An object schema that refuses properties it does not list, as every answer here does. */
export function closed<Properties extends TProperties>(properties: Properties) {
  return Type.Object(properties, { additionalProperties: false });
}

const Iso = Type.String({ maxLength: 40 });
const Id = Type.String({ maxLength: 36 });

/** The most shared notes one answer carries (the contract has no paging for them). */
export const SHARED_NOTES_LIMIT = 500;
/** Access-log page size: default and maximum. */
export const ACCESS_LOG_DEFAULT_LIMIT = 50;
export const ACCESS_LOG_MAX_LIMIT = 100;

const AddressSchema = closed({
  line1: Type.String({ maxLength: 200 }),
  line2: Type.Optional(Type.String({ maxLength: 200 })),
  city: Type.String({ maxLength: 100 }),
  region: Type.Optional(Type.String({ maxLength: 100 })),
  postalCode: Type.String({ maxLength: 20 }),
  country: Type.String({ maxLength: 2 }),
});

const ContactMethodSchema = closed({
  type: Type.Union([Type.Literal('phone'), Type.Literal('email')]),
  value: Type.String({ maxLength: 254 }),
  verified: Type.Boolean(),
});

export const PatientRecordViewSchema = closed({
  patient: closed({
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
  }),
  // The country lets the portal show the clinic's phone numbers in their national form.
  organization: closed({
    id: Id,
    name: Type.String({ maxLength: 120 }),
    country: Type.String({ maxLength: 2 }),
  }),
});
export type PatientRecordView = Static<typeof PatientRecordViewSchema>;

export const SharedNoteSchema = closed({
  id: Id,
  body: Type.String({ maxLength: 20000 }),
  createdAt: Iso,
  updatedAt: Iso,
  author: closed({ displayName: Type.String({ maxLength: 100 }) }),
});
export type SharedNote = Static<typeof SharedNoteSchema>;

export const AccessEntrySchema = closed({
  at: Iso,
  action: Type.String({ maxLength: 100 }),
  actor: closed({
    kind: Type.Union([
      Type.Literal('you'),
      Type.Literal('staff'),
      Type.Literal('break_glass'),
      Type.Literal('system'),
    ]),
    displayName: Type.String({ maxLength: 100 }),
  }),
  grantId: Type.Union([Id, Type.Null()]),
  reason: Type.Union([Type.String({ maxLength: 500 }), Type.Null()]),
});
export type AccessEntry = Static<typeof AccessEntrySchema>;
