/**
 * Third-party apps on the user's behalf (A12): the consent page an app's sign-in leads to, and
 * the account page's list of connected apps.
 */
export { ConnectPage } from './ConnectPage';
export { ConnectedAppsSection } from './ConnectedAppsSection';
export { INTERACTION_UID_PATTERN } from './connectApi';
