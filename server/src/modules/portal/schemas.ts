// Request and response schemas of the patient portal, and the portal module's contract door: the
// record views break-glass shows an admin, and the account export's answer. Schema files only, so
// other modules' schemas and the SPA (server/src/contract.ts) import this, never the front door.
import { Type, type Static } from 'typebox';
import {
  ConsentDocumentSchema,
  ConsentGateSchema,
  ConsentRecordSchema,
} from '../patients/schemas.js';
import {
  ACCESS_LOG_DEFAULT_LIMIT,
  ACCESS_LOG_MAX_LIMIT,
  AccessEntrySchema,
  PatientRecordViewSchema,
  SHARED_NOTES_LIMIT,
  SharedNoteSchema,
  closed,
} from './record-view/schemas.js';

export {
  ACCESS_LOG_DEFAULT_LIMIT,
  ACCESS_LOG_MAX_LIMIT,
  AccessEntrySchema,
  PatientRecordViewSchema,
  SHARED_NOTES_LIMIT,
  SharedNoteSchema,
};
export type { AccessEntry, PatientRecordView, SharedNote } from './record-view/schemas.js';
export { AccountExportSchema, type AccountExport } from './account-export/schemas.js';

const Uuid = Type.String({ format: 'uuid', maxLength: 36 });

// ---------------------------------------------------------------------------------------------
// Portal routes

export const Empty = closed({});
/** An audit seq: digits only, short enough to stay inside a bigint. */
export const SeqCursor = Type.String({ pattern: '^[0-9]{1,18}$', maxLength: 18 });

export const RecordAnswer = closed({ record: PatientRecordViewSchema });
export const ConsentsAnswer = closed({
  documents: Type.Array(ConsentDocumentSchema, { maxItems: 100 }),
  consents: Type.Array(ConsentRecordSchema, { maxItems: 1000 }),
  gate: ConsentGateSchema,
});
export const ConsentBody = closed({ documentId: Uuid });
export const ConsentParams = closed({ consentId: Uuid });
export const ConsentAnswer = closed({ consent: ConsentRecordSchema });
export const NotesAnswer = closed({
  notes: Type.Array(SharedNoteSchema, { maxItems: SHARED_NOTES_LIMIT }),
});
export const AccessLogQuery = closed({
  before: Type.Optional(SeqCursor),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: ACCESS_LOG_MAX_LIMIT })),
  breakGlassOnly: Type.Optional(Type.Boolean()),
});
export type AccessLogOptions = Static<typeof AccessLogQuery>;
export const AccessLogPage = closed({
  entries: Type.Array(AccessEntrySchema, { maxItems: ACCESS_LOG_MAX_LIMIT }),
  nextBefore: Type.Union([Type.String({ maxLength: 20 }), Type.Null()]),
});
export type AccessLogPageView = Static<typeof AccessLogPage>;
