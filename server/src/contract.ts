/**
 * The API contract the SPA shares with the server (web imports it as `@haven/contract`): the
 * TypeBox answer schemas the routes serialize with, so the browser decodes every answer with the
 * very schema the server wrote it with, and reads its types from them.
 *
 * Only modules' contract doors (modules/<m>/schemas.js) are imported here, never a front door:
 * index.ts also brings the routes, services and repositories (node:crypto, pg, fastify, config),
 * and this file ends up in the browser bundle. Schema files import nothing but typebox and other
 * schema files (eslint.config.js), so nothing else can follow them in.
 */
export {
  ConsentAnswer,
  ConsentDocumentSchema,
  ConsentGateSchema,
  ConsentRecordSchema,
  DocumentAnswer,
  DocumentList,
  NoteAnswer,
  NoteHistory,
  NoteList,
  PatientAnswer,
  PatientConsentList,
  PatientPage,
  OwnPortalInvitationList,
  PortalInvitationAccepted,
  PortalInvitationAnswer,
  RecentPatients,
} from './modules/patients/schemas.js';
export {
  AccessLogPage,
  AccountExportSchema,
  ConsentAnswer as PortalConsentAnswer,
  ConsentsAnswer as PortalConsentsAnswer,
  NotesAnswer as PortalNotesAnswer,
  RecordAnswer as PortalRecordAnswer,
} from './modules/portal/schemas.js';
export {
  GrantAnswer,
  GrantList,
  GrantRecordAnswer,
  PatientMatches as BreakGlassPatientMatches,
} from './modules/break-glass/schemas.js';
export {
  DownloadLink as FileDownloadLink,
  FileList,
  FileSchema,
  MultipartCompleted,
  MultipartStart,
  MultipartStarted,
  OpenUploadList,
  PartRecord,
  PartRecorded,
  PartUrl,
  RecordedParts,
  UsageAnswer as FilesUsageAnswer,
  BucketAnswer,
  BucketList,
  BucketSchema,
} from './modules/files/schemas.js';
export {
  ActionCatalogue,
  AuditPage,
  SecurityEventList,
  VerifyAnswer,
} from './modules/audit-admin/schemas.js';
export {
  ActiveAnswer,
  JoinedAnswer,
  MemberAnswer,
  MemberList,
  MembershipList,
  OrganizationAnswer,
  OrganizationPage,
  OwnInvitationList,
} from './modules/organizations/schemas.js';
export {
  AcceptAnswer,
  AdminRevoked,
  AdminUserAnswer,
  EnrolledCodes,
  EnrollmentRequired,
  EnrollmentSecret,
  InvitationAnswer,
  InvitationResent,
  Invited,
  MeAnswer,
  MfaStatus,
  PasswordChanged,
  RegeneratedCodes,
  Revoked,
  SessionList,
  SignInAnswer,
  SignedIn,
  SignedInWithCodes,
  UserAnswer,
  UserPage,
  UserSessions,
  UserView,
  LINK_TOKEN_PATTERN,
  leadingOrganizationRole,
  organizationRoleLabel,
  personRoleLabel,
} from './modules/identity/schemas.js';
export {
  AnswerSubmitted,
  AssignmentImportAnswer,
  AssignmentPage,
  CaseAnswer,
  CaseImportAnswer,
  CasePage,
  DashboardAnswer,
  ExperimentAnswer,
  ExperimentList,
  MyStudiesAnswer,
  NextCaseAnswer,
  QuestionnaireVersionAnswer,
  QuestionnaireVersionList,
  RandomizationAnswer,
  RandomizationList,
  ReviewAssignmentAnswer,
  StudyAnswer,
  StudyListAnswer,
  StudyMemberList,
  StudyParticipantAnswer,
  StudyResearcherAnswer,
  CASE_LIMITS,
  MAX_QUESTIONS,
  QUESTION_TYPES,
  type AttentionCheckView,
  type CaseNode,
  type DisplayConfigView,
  type FeatureDisplayView,
  type QuestionType,
  type QuestionView,
  type StyledNodeView,
} from './modules/reviews/schemas.js';
export {
  ConnectedAppList,
  DecisionAnswer as OAuthDecisionAnswer,
  InteractionAnswer as OAuthInteractionAnswer,
} from './modules/oauth/schemas.js';
export {
  ClientList as OAuthClientList,
  ClientWithSecretAnswer as OAuthClientWithSecretAnswer,
  DELEGATED_SCOPES,
  MACHINE_CLIENT_SCOPES,
  ORGANIZATION_CLIENT_SCOPES,
  OAuthClientSchema,
} from './modules/oauth/schemas.js';
