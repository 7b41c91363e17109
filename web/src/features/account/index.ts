/**
 * The signed-in user's own account: the account page, and the pieces others reuse (the session
 * list for administrators, the data export for the portal, the user answer for email change).
 */
export { AccountPage } from './AccountPage';
export { DataExportSection } from './DataExportSection';
export { SessionList } from './SessionList';
export { decodeUserAnswer, sessionsSignedOut } from './accountApi';
