// The answer of GET /api/patients/recent: the caller's own most recently viewed patients of the
// active organization, newest first, by name and MRN (the clinician's home page).
import { Type } from 'typebox';

/** The most patients the answer lists. */
export const RECENT_PATIENTS_MAX = 8;

export const RecentPatientSchema = Type.Object(
  {
    id: Type.String({ maxLength: 36 }),
    mrn: Type.String({ maxLength: 32 }),
    givenName: Type.String({ maxLength: 100 }),
    familyName: Type.String({ maxLength: 100 }),
    archived: Type.Boolean(),
    /** When the caller last opened the record (ISO 8601). */
    viewedAt: Type.String({ maxLength: 40 }),
  },
  { additionalProperties: false },
);

export const RecentPatients = Type.Object(
  { patients: Type.Array(RecentPatientSchema, { maxItems: RECENT_PATIENTS_MAX }) },
  { additionalProperties: false },
);
