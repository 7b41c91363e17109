// The account export's answer: the account, its live sessions and, for a patient with a linked
// record, what the portal shows of that record.
import { Type, type Static } from 'typebox';
import { userViewProperties } from '../../identity/schemas.js';
import { ConsentRecordSchema } from '../../patients/schemas.js';
// Not ../schemas.js: the portal's door re-exports this file, so that import would be a cycle.
import {
  AccessEntrySchema,
  PatientRecordViewSchema,
  SharedNoteSchema,
} from '../record-view/schemas.js';

/** Documentation bound of the export's lists; the export itself is complete, never cut short. */
const EXPORT_LIST_BOUND = 1_000_000;

const Iso = Type.String({ maxLength: 40 });

const PatientExportSchema = Type.Object(
  {
    record: PatientRecordViewSchema,
    consents: Type.Array(ConsentRecordSchema, { maxItems: EXPORT_LIST_BOUND }),
    notes: Type.Array(SharedNoteSchema, { maxItems: EXPORT_LIST_BOUND }),
    accessLog: Type.Array(AccessEntrySchema, { maxItems: EXPORT_LIST_BOUND }),
  },
  { additionalProperties: false },
);
export type PatientExport = Static<typeof PatientExportSchema>;

export const AccountExportSchema = Type.Object(
  {
    exportedAt: Iso,
    account: Type.Object(
      { ...userViewProperties, createdAt: Iso, mfaEnrolled: Type.Boolean() },
      { additionalProperties: false },
    ),
    sessions: Type.Array(
      Type.Object(
        {
          id: Type.String({ maxLength: 36 }),
          createdAt: Iso,
          lastSeenAt: Iso,
          userAgent: Type.Union([Type.String({ maxLength: 300 }), Type.Null()]),
        },
        { additionalProperties: false },
      ),
      { maxItems: 100 },
    ),
    patient: Type.Union([PatientExportSchema, Type.Null()]),
  },
  { additionalProperties: false },
);
export type AccountExport = Static<typeof AccountExportSchema>;
