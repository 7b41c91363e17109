// The patient record: its request and answer schemas, the checks a JSON schema cannot make
// (real calendar dates, normalized names, contact values by type), the row→view mapping and the
// organization-scoped lookup every patient route starts from (Z4).
import { sql, type Kysely } from 'kysely';
import { Type } from 'typebox';
import type {
  ContactMethod,
  DatabaseSchema,
  PostalAddress,
  Sex,
} from '../../platform/db/schema.js';
import { HavenError } from '../../platform/errors.js';
import { E164, EMAIL, FieldErrors, checkBirthDate, cleanText } from '../../platform/text.js';

export type Db = Kysely<DatabaseSchema>;

// ---------------------------------------------------------------------------------------------
// Schemas

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
export const PatientSearchSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    mrn: Type.Optional(Mrn),
    birthDate: Type.Optional(BirthDate),
    includeArchived: Type.Optional(Type.Boolean()),
    cursor: Type.Optional(UUID),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
  },
  { additionalProperties: false },
);

const summaryProperties = {
  id: Type.String({ maxLength: 36 }),
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
    updatedAt: Type.String({ maxLength: 40 }),
    archivedAt: Type.Union([Type.String({ maxLength: 40 }), Type.Null()]),
  },
  { additionalProperties: false },
);
export const PatientAnswer = Type.Object(
  { patient: PatientSchema },
  { additionalProperties: false },
);

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

// ---------------------------------------------------------------------------------------------
// Checks beyond the schema (V1): each failure names the field, never echoes the value.

function cleanAddress(
  errors: FieldErrors,
  field: string,
  address: PostalAddress,
): PostalAddress | undefined {
  const before = errors.list.length;
  const line1 = cleanText(errors, `${field}.line1`, address.line1, {
    required: true,
    maxLength: 200,
  });
  const line2 =
    address.line2 === undefined
      ? undefined
      : cleanText(errors, `${field}.line2`, address.line2, { required: false, maxLength: 200 });
  const city = cleanText(errors, `${field}.city`, address.city, { required: true, maxLength: 100 });
  const region =
    address.region === undefined
      ? undefined
      : cleanText(errors, `${field}.region`, address.region, { required: false, maxLength: 100 });
  const postalCode = cleanText(errors, `${field}.postalCode`, address.postalCode, {
    required: true,
    maxLength: 20,
  });
  if (!/^[A-Z]{2}$/.test(address.country)) {
    errors.add(`${field}.country`, 'must be an ISO 3166-1 alpha-2 code');
  }
  if (errors.list.length > before || !line1 || !city || !postalCode) return undefined;
  // Optional lines left blank are dropped, so "" and absent compare equal.
  return {
    line1,
    ...(line2 ? { line2 } : {}),
    city,
    ...(region ? { region } : {}),
    postalCode,
    country: address.country,
  };
}

function cleanContactMethods(
  errors: FieldErrors,
  field: string,
  methods: readonly ContactMethod[],
): ContactMethod[] {
  return methods.map((method, index) => {
    const at = `${field}.${index}.value`;
    const value = method.value.trim();
    if (method.type === 'phone' && !E164.test(value)) {
      errors.add(at, 'must be an E.164 phone number such as +15551234567');
    }
    if (method.type === 'email' && (value.length > 254 || !EMAIL.test(value))) {
      errors.add(at, 'must be an email address');
    }
    return { type: method.type, value, verified: method.verified };
  });
}

/** Cleans and checks every given field of a patient input; 400 VALIDATION_FAILED naming each. */
export function cleanPatientInput<T extends PatientPatch>(body: T, today: Date): T {
  const errors = new FieldErrors();
  const out: PatientPatch = {};
  if (body.mrn !== undefined) {
    if (!new RegExp(MRN_PATTERN).test(body.mrn)) errors.add('body.mrn', 'has an invalid format');
    out.mrn = body.mrn;
  }
  for (const key of ['givenName', 'familyName'] as const) {
    const value = body[key];
    if (value !== undefined) {
      const clean = cleanText(errors, `body.${key}`, value, { required: true, maxLength: 100 });
      if (clean !== undefined) out[key] = clean;
    }
  }
  if (body.birthDate !== undefined) {
    checkBirthDate(errors, 'body.birthDate', body.birthDate, today);
    out.birthDate = body.birthDate;
  }
  if (body.sex !== undefined) out.sex = body.sex;
  if (body.address !== undefined) {
    out.address =
      body.address === null ? null : (cleanAddress(errors, 'body.address', body.address) ?? null);
  }
  if (body.contactMethods !== undefined) {
    out.contactMethods = cleanContactMethods(errors, 'body.contactMethods', body.contactMethods);
  }
  errors.throwIfAny();
  return out as T;
}

// ---------------------------------------------------------------------------------------------
// Rows and views

/** Every column a patient view needs; birth_date as text so no Date or time zone touches it. */
export function patientColumns() {
  return [
    'p.id',
    'p.organization_id',
    'p.mrn',
    'p.given_name',
    'p.family_name',
    sql<string>`to_char(p.birth_date, 'YYYY-MM-DD')`.as('birth_date'),
    'p.sex',
    'p.address',
    'p.contact_methods',
    'p.portal_user_id',
    'p.created_at',
    'p.updated_at',
    'p.archived_at',
  ] as const;
}

export interface PatientRow {
  id: string;
  organization_id: string;
  mrn: string;
  given_name: string;
  family_name: string;
  birth_date: string;
  sex: Sex;
  address: PostalAddress | null;
  contact_methods: ContactMethod[];
  portal_user_id: string | null;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

export function toSummary(row: PatientRow) {
  return {
    id: row.id,
    mrn: row.mrn,
    givenName: row.given_name,
    familyName: row.family_name,
    birthDate: row.birth_date,
    sex: row.sex,
    archived: row.archived_at !== null,
  };
}

export function toPatientView(row: PatientRow) {
  return {
    ...toSummary(row),
    address: row.address,
    contactMethods: row.contact_methods,
    portalLinked: row.portal_user_id !== null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    archivedAt: row.archived_at ? row.archived_at.toISOString() : null,
  };
}

export const patientNotFound = () => new HavenError('NOT_FOUND', 'The patient was not found.');
export const patientArchived = () =>
  new HavenError('CONFLICT', 'The patient record is archived; restore it first.');

/**
 * The patient with this id in the caller's organization, or 404 — the organization is part of
 * the WHERE clause, so another organization's patient is never loaded. `lock` takes a row lock
 * for read-modify-write sequences.
 */
export async function findPatient(
  db: Db,
  organizationId: string,
  patientId: string,
  options: { lock?: boolean } = {},
): Promise<PatientRow> {
  const query = db
    .selectFrom('patients as p')
    .select(patientColumns())
    .where('p.id', '=', patientId)
    .where('p.organization_id', '=', organizationId);
  const row = await (options.lock ? query.forUpdate() : query).executeTakeFirst();
  if (!row) throw patientNotFound();
  return row;
}

/** The patient for a write: 404 when invisible, 409 when archived; locked until commit. */
export async function findWritablePatient(
  db: Db,
  organizationId: string,
  patientId: string,
): Promise<PatientRow> {
  const row = await findPatient(db, organizationId, patientId, { lock: true });
  if (row.archived_at !== null) throw patientArchived();
  return row;
}
