/** Emailed one-time links: verifying a sign-up address and confirming a new email address. */
export { ConfirmEmailPage } from './ConfirmEmailPage';
export { VerifyEmailPage } from './VerifyEmailPage';
