// Request and response schemas of the break-glass routes, and the module's contract door (the
// SPA decodes its answers with them through server/src/contract.ts).
import { Type, type Static } from 'typebox';
import { ConsentRecordSchema } from '../patients/schemas.js';
import {
  PatientRecordViewSchema,
  SHARED_NOTES_LIMIT,
  SharedNoteSchema,
} from '../portal/schemas.js';

const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
const Iso = Type.String({ maxLength: 40 });
/** Control characters other than tab and line breaks are refused in the reason. */
const REASON_PATTERN = '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$';
export const MIN_REASON = 10;
export const MAX_REASON = 500;
/** The most grants one listing shows, newest first. */
export const GRANT_LIST_LIMIT = 200;
/** The most patients one break-glass search lists: enough to pick from, few enough to audit. */
export const PATIENT_MATCH_LIMIT = 10;
export const MIN_QUERY = 2;
export const MAX_QUERY = 100;
/** A search query is one line: no control characters at all. */
const QUERY_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';

export const Empty = Type.Object({}, { additionalProperties: false });
export const GrantParams = Type.Object({ grantId: Uuid }, { additionalProperties: false });

export const GrantSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    adminId: Type.String({ maxLength: 36 }),
    adminDisplayName: Type.String({ maxLength: 100 }),
    patientId: Type.String({ maxLength: 36 }),
    /** Whom the grant is for, as the admin named them: never the record's contents. */
    patientGivenName: Type.String({ maxLength: 100 }),
    patientFamilyName: Type.String({ maxLength: 100 }),
    patientMrn: Type.String({ maxLength: 32 }),
    organizationId: Type.String({ maxLength: 36 }),
    organizationName: Type.String({ maxLength: 120 }),
    reason: Type.String({ maxLength: MAX_REASON }),
    createdAt: Iso,
    expiresAt: Iso,
    revokedAt: Type.Union([Iso, Type.Null()]),
    active: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type GrantView = Static<typeof GrantSchema>;
export const GrantAnswer = Type.Object({ grant: GrantSchema }, { additionalProperties: false });

export const GrantRequestBody = Type.Object(
  {
    patientId: Type.Optional(Uuid),
    organizationId: Type.Optional(Uuid),
    mrn: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9-]{0,31}$', minLength: 1, maxLength: 32 }),
    ),
    reason: Type.String({ minLength: MIN_REASON, maxLength: MAX_REASON, pattern: REASON_PATTERN }),
  },
  { additionalProperties: false },
);
export type GrantRequest = Static<typeof GrantRequestBody>;

/** What a grant opens: the record exactly as the patient sees it in the portal. */
export const GrantRecordAnswer = Type.Object(
  {
    grant: GrantSchema,
    record: PatientRecordViewSchema,
    consents: Type.Array(ConsentRecordSchema, { maxItems: 1000 }),
    notes: Type.Array(SharedNoteSchema, { maxItems: SHARED_NOTES_LIMIT }),
  },
  { additionalProperties: false },
);
export type GrantRecord = Static<typeof GrantRecordAnswer>;

export const GrantListQuery = Type.Object(
  { active: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export const GrantList = Type.Object(
  { grants: Type.Array(GrantSchema, { maxItems: GRANT_LIST_LIMIT }) },
  { additionalProperties: false },
);

/** A name or an MRN to find the patient to open; a POST, so it never sits in a URL or a log. */
export const PatientSearchBody = Type.Object(
  {
    query: Type.String({ minLength: MIN_QUERY, maxLength: MAX_QUERY, pattern: QUERY_PATTERN }),
  },
  { additionalProperties: false },
);
/** What the picker shows of one patient, and nothing of the record. */
export const PatientMatchSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    givenName: Type.String({ maxLength: 100 }),
    familyName: Type.String({ maxLength: 100 }),
    birthDate: Type.String({ maxLength: 10 }),
    mrn: Type.String({ maxLength: 32 }),
    organizationId: Type.String({ maxLength: 36 }),
    organizationName: Type.String({ maxLength: 120 }),
  },
  { additionalProperties: false },
);
export type PatientMatch = Static<typeof PatientMatchSchema>;
export const PatientMatches = Type.Object(
  { patients: Type.Array(PatientMatchSchema, { maxItems: PATIENT_MATCH_LIMIT }) },
  { additionalProperties: false },
);
