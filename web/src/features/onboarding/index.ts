/** Onboarding: the first administrator's setup and the acceptance of an invitation. */
export { InvitePage } from './InvitePage';
export { SetupPage } from './SetupPage';
