// Request and answer schemas of the patient record, and the shapes shared by every patients
// route (a patient id in the path, an empty body).
import { Type, type Static } from 'typebox';
import type { ContactMethod, PostalAddress, Sex } from '../../../platform/db/schema.js';

export const UUID = Type.String({ format: 'uuid', maxLength: 36 });
export const PatientParams = Type.Object({ patientId: UUID }, { additionalProperties: false });
export const Empty = Type.Object({}, { additionalProperties: false });

export const MRN_PATTERN = '^[A-Za-z0-9][A-Za-z0-9-]{0,31}$';
const SexSchema = Type.Union([
  Type.Literal('female'),
  Type.Literal('male'),
  Type.Literal('other'),
  Type.Literal('unknown'),
]);
const BirthDate = Type.String({ format: 'date', minLength: 10, maxLength: 10 });
const Mrn = Type.String({ minLength: 1, maxLength: 32, pattern: MRN_PATTERN });
const PersonName = Type.String({ minLength: 1, maxLength: 100 });

const AddressSchema = Type.Object(
  {
    line1: Type.String({ minLength: 1, maxLength: 200 }),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    region: Type.Optional(Type.String({ maxLength: 100 })),
    postalCode: Type.String({ minLength: 1, maxLength: 20 }),
    country: Type.String({ minLength: 2, maxLength: 2, pattern: '^[A-Z]{2}$' }),
  },
  { additionalProperties: false },
);
const ContactMethodSchema = Type.Object(
  {
    type: Type.Union([Type.Literal('phone'), Type.Literal('email')]),
    value: Type.String({ minLength: 1, maxLength: 254 }),
    verified: Type.Boolean(),
  },
  { additionalProperties: false },
);
const ContactMethods = Type.Array(ContactMethodSchema, { maxItems: 10 });
const NullableAddress = Type.Union([AddressSchema, Type.Null()]);

const patientInputProperties = {
  mrn: Mrn,
  givenName: PersonName,
  familyName: PersonName,
  birthDate: BirthDate,
  sex: SexSchema,
  address: Type.Optional(NullableAddress),
  contactMethods: Type.Optional(ContactMethods),
};
export const PatientInputSchema = Type.Object(patientInputProperties, {
  additionalProperties: false,
});
export const PatientPatchSchema = Type.Object(
  {
    mrn: Type.Optional(Mrn),
    givenName: Type.Optional(PersonName),
    familyName: Type.Optional(PersonName),
    birthDate: Type.Optional(BirthDate),
    sex: Type.Optional(SexSchema),
    address: Type.Optional(NullableAddress),
    contactMethods: Type.Optional(ContactMethods),
  },
  { additionalProperties: false, minProperties: 1 },
);
/** The list's sort orders (an allowlist: each maps to fixed SQL in repo.ts). */
const PatientSortSchema = Type.Union([
  Type.Literal('name'),
  Type.Literal('mrn'),
  Type.Literal('updated'),
]);
export const PatientSearchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    mrn: Type.Optional(Mrn),
    birthDate: Type.Optional(BirthDate),
    includeArchived: Type.Optional(Type.Boolean()),
    sort: Type.Optional(PatientSortSchema),
    direction: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    cursor: Type.Optional(UUID),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);

const summaryProperties = {
  id: Type.String({ maxLength: 36 }),
  updatedAt: Type.String({ maxLength: 40 }),
  mrn: Type.String({ maxLength: 32 }),
  givenName: Type.String({ maxLength: 100 }),
  familyName: Type.String({ maxLength: 100 }),
  birthDate: Type.String({ maxLength: 10 }),
  sex: SexSchema,
  archived: Type.Boolean(),
};
export const PatientSummarySchema = Type.Object(summaryProperties, {
  additionalProperties: false,
});
export const PatientSchema = Type.Object(
  {
    ...summaryProperties,
    address: NullableAddress,
    contactMethods: ContactMethods,
    portalLinked: Type.Boolean(),
    createdAt: Type.String({ maxLength: 40 }),
    archivedAt: Type.Union([Type.String({ maxLength: 40 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export const PatientAnswer = Type.Object(
  { patient: PatientSchema },
  { additionalProperties: false },
);
export const PatientPage = Type.Object(
  {
    patients: Type.Array(PatientSummarySchema, { maxItems: 100 }),
    /** How many patients match the filters, on every page. */
    total: Type.Integer({ minimum: 0 }),
    nextCursor: Type.Union([Type.String({ maxLength: 36 }), Type.Null()]),
  },
  { additionalProperties: false },
);

/** A new patient as the service sees it once checked (checks.ts). */
export interface PatientInput {
  mrn: string;
  givenName: string;
  familyName: string;
  birthDate: string;
  sex: Sex;
  address?: PostalAddress | null;
  contactMethods?: ContactMethod[];
}
export type PatientPatch = Partial<PatientInput>;

export type PatientSort = Static<typeof PatientSortSchema>;

/**
 * The search filters once checked: `name` is the cleaned (NFC, trimmed) query, whose words
 * must each be found in a name (search-rule.ts); `mrn` an MRN or its prefix.
 */
export interface PatientFilters {
  name?: string | undefined;
  sort: PatientSort;
  direction: 'asc' | 'desc';
  mrn?: string | undefined;
  birthDate?: string | undefined;
  includeArchived?: boolean | undefined;
  cursor?: string | undefined;
  limit: number;
}
