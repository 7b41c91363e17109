/** The patient portal: the patient's own record, consents, shared notes and access list. */
export { PortalPage } from './PortalPage';
export { PatientHome } from './PatientHome';
export { PortalInvitationsHome } from './PortalInvitationsHome';
