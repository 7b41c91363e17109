/**
 * Patients: the staff pages (list, record, consent documents) and the read-only views of a
 * record that the portal and break-glass show the same way.
 */
export { ConsentDocumentsPage } from './consents/ConsentDocumentsPage';
export { PatientPage } from './PatientPage';
export { PatientsPage } from './PatientsPage';
export { ConsentDocumentsHome, RecentPatientsHome } from './ClinicianHome';

export { ConsentGateStatus, ConsentRecordList } from './consents/ConsentViews';
export { PatientFacts } from './PatientFacts';
export { RecordView } from './RecordView';
export { SharedNoteList } from './notes/SharedNoteList';

export { decodeConsentAnswer, kindLabel } from './consents/consentsApi';
export { fullName } from './patientsApi';
