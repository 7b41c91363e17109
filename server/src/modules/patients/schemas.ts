// The patients module's contract door: the answer schemas of its rooms that other modules' schema
// files and the SPA (through server/src/contract.ts) need. Schema files only, so importing it
// brings no routes, services or database code, unlike the front door (index.ts).
export { PatientAnswer, PatientPage } from './records/schemas.js';
export { NoteAnswer, NoteHistory, NoteList } from './notes/schemas.js';
export { RecentPatients } from './recent/schemas.js';
export {
  ConsentAnswer,
  ConsentDocumentSchema,
  ConsentGateSchema,
  ConsentRecordSchema,
  DocumentAnswer,
  DocumentList,
  PatientConsentList,
  type ConsentDocumentView,
  type ConsentGateView,
  type ConsentRecordView,
} from './consents/schemas.js';
// Renamed: "invitation" alone reads as identity's account invitation.
export {
  InvitationAnswer as PortalInvitationAnswer,
  OwnPortalInvitationList,
  PortalInvitationAccepted,
} from './portal-invitation/schemas.js';
