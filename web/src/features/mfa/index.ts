/** Two-factor authentication: TOTP enrolment and the one-time display of recovery codes. */
export { MfaEnrollment } from './MfaEnrollment';
export { RecoveryCodes } from './RecoveryCodes';
export { decodeRecoveryCodes } from './mfaApi';
