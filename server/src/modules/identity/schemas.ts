// Identity's contract door: the request and answer schemas other modules and the SPA
// (server/src/contract.ts) may use, browser-safe (typebox and schema files only). The answers
// several rooms share live in shared/schemas.ts, so the rooms never import this door back.
export * from './shared/schemas.js';
// The words for roles, so the SPA names a person exactly as the server's mail does.
export { leadingOrganizationRole, organizationRoleLabel, personRoleLabel } from './roles.js';
export { MeAnswer } from './sessions/schemas.js';
export { SignInAnswer } from './sign-in/schemas.js';
export { AcceptAnswer, InvitationAnswer } from './onboarding/schemas.js';
export { PasswordChanged, Revoked, SessionList, UserAnswer } from './account/schemas.js';
export {
  EnrolledCodes,
  EnrollmentSecret,
  MfaStatus,
  RegeneratedCodes,
  SignedInWithCodes,
} from './mfa/schemas.js';
export {
  InvitationResent,
  Invited,
  Revoked as AdminRevoked,
  UserAnswer as AdminUserAnswer,
  UserPage,
  UserSessions,
} from './admin-users/schemas.js';
