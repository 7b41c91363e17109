// Row types of every table, as Kysely sees them. Kept beside the migrations that create them.
import type { ColumnType, Generated, JSONColumnType } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamp the database fills in by default. */
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface AuditEventsTable {
  /** Set by the insert trigger from a sequence (0005): writers cannot choose it. */
  seq: ColumnType<string, string | number | bigint | undefined, never>;
  id: Generated<string>;
  occurred_at: Timestamp;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'success' | 'failure' | 'denied';
  request_id: string | null;
  client_address: string | null;
  details: JSONColumnType<Record<string, unknown>>;
  /** In-row chain of events written before 0005 (copied to audit_seals); NULL on later events. */
  prev_hash: ColumnType<string | null, string | null | undefined, never>;
  hash: ColumnType<string | null, string | null | undefined, never>;
  /** xid8 of the writing transaction, set by the insert trigger; NULL on pre-0005 events. */
  xid: ColumnType<string | null, string | null | undefined, never>;
  /** Database clock at insert (insert trigger); NULL on pre-0005 events. Not hashed. */
  inserted_at: ColumnType<Date | null, Date | string | null | undefined, never>;
}

/** The audit hash chain (L3): one row per sealed event, gapless chain_position from 1. */
export interface AuditSealsTable {
  chain_position: ColumnType<string, string | number | bigint, never>;
  seq: ColumnType<string, string | number | bigint, never>;
  xid: ColumnType<string | null, string | null, never>;
  prev_hash: string;
  /** HMAC-SHA256 under the chain key named by key_id; plain SHA-256 when key_id is NULL. */
  hash: string;
  sealed_at: DefaultedTimestamp;
  /** Id of the chain key (platform/audit/chain-key.ts); NULL on seals written before 0006. */
  key_id: ColumnType<string | null, string | null | undefined, never>;
}

export interface JobsTable {
  id: Generated<string>;
  queue: string;
  payload: JSONColumnType<Record<string, unknown>>;
  status: Generated<'pending' | 'running' | 'done' | 'failed'>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  run_at: DefaultedTimestamp;
  locked_by: string | null;
  locked_until: Timestamp | null;
  last_error: string | null;
  singleton_key: string | null;
  created_at: DefaultedTimestamp;
  finished_at: Timestamp | null;
}

export type Role = 'admin' | 'clinician' | 'researcher' | 'participant' | 'patient';

export interface UsersTable {
  id: Generated<string>;
  email: string;
  email_normalized: string;
  display_name: string;
  roles: ColumnType<Role[], Role[] | undefined, Role[]>;
  status: 'invited' | 'active' | 'disabled';
  password_hash: string | null;
  totp_secret_enc: string | null;
  totp_enrolled_at: Timestamp | null;
  totp_last_step: ColumnType<string | null, string | number | null, string | number | null>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface LoginThrottleTable {
  email_hash: string;
  failures: Generated<number>;
  backoff_until: Timestamp | null;
  updated_at: DefaultedTimestamp;
}

export interface RecoveryCodesTable {
  id: Generated<string>;
  user_id: string;
  code_hash: string;
  used_at: Timestamp | null;
  created_at: DefaultedTimestamp;
}

export interface SessionsTable {
  id: Generated<string>;
  user_id: string;
  created_at: DefaultedTimestamp;
  last_seen_at: DefaultedTimestamp;
  idle_expires_at: Timestamp;
  absolute_expires_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
  /** xid8 of the revoking transaction (the pollers' cursor, A7); never inserted, see 0004. */
  revocation_xid: ColumnType<string | null, never, string>;
  amr: ColumnType<string[], string[] | undefined, string[]>;
  mfa_at: Timestamp | null;
  csrf_secret_hash: string | null;
  active_organization_id: string | null;
  user_agent: string | null;
  client_address: string | null;
}

export interface RefreshTokensTable {
  id: Generated<string>;
  session_id: string;
  token_hash: string;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
  consumed_at: Timestamp | null;
  replaced_by: string | null;
}

export type OneTimePurpose =
  'setup' | 'invitation' | 'password_reset' | 'email_verification' | 'mfa_pending';

export interface OneTimeTokensTable {
  id: Generated<string>;
  purpose: OneTimePurpose;
  token_hash: string;
  user_id: string | null;
  data: JSONColumnType<Record<string, unknown>>;
  attempts: Generated<number>;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: 'EdDSA' | 'ES256';
  public_jwk: JSONColumnType<Record<string, unknown>>;
  private_key_enc: string;
  created_at: DefaultedTimestamp;
  retired_at: Timestamp | null;
}

export type OrganizationRole = 'org_admin' | 'clinician' | 'researcher';

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  /** ISO 3166-1 alpha-2: the SPA's national phone form (migration 0012). */
  country: Generated<string>;
  created_by: string | null;
  created_at: DefaultedTimestamp;
}

export interface OrganizationMembersTable {
  organization_id: string;
  user_id: string;
  role: OrganizationRole;
  added_by: string | null;
  created_at: DefaultedTimestamp;
}

/** An org admin's invitation of an existing account: it joins only by accepting (A11). */
export interface OrganizationInvitationsTable {
  id: Generated<string>;
  organization_id: string;
  user_id: string;
  /** The address as the org admin typed it, and the name they gave (or its placeholder). */
  email: string;
  display_name: string;
  role: OrganizationRole;
  invited_by: string | null;
  created_at: DefaultedTimestamp;
  expires_at: Date;
}

/** A clinician's invitation of an existing account to see a patient record (A11). */
export interface PortalInvitationsTable {
  id: Generated<string>;
  organization_id: string;
  patient_id: string;
  user_id: string;
  invited_by: string | null;
  /** Whether the account was active (its email proven) when invited; if not, never accepted. */
  account_was_active: boolean;
  created_at: DefaultedTimestamp;
  expires_at: Date;
}

export type Sex = 'female' | 'male' | 'other' | 'unknown';

export interface PostalAddress {
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export type ContactMethodType = 'phone' | 'email';

export interface ContactMethod {
  type: ContactMethodType;
  value: string;
  verified: boolean;
}

export interface PatientsTable {
  id: Generated<string>;
  organization_id: string;
  mrn: string;
  given_name: string;
  family_name: string;
  /** ISO date (YYYY-MM-DD); read back as a string, never a Date, so no time zone shifts it. */
  birth_date: ColumnType<string, string, string>;
  sex: Sex;
  address: JSONColumnType<PostalAddress | null, string | null, string | null>;
  contact_methods: JSONColumnType<ContactMethod[]>;
  portal_user_id: string | null;
  created_by: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  archived_at: Timestamp | null;
}

export type ConsentKind = 'hipaa_notice' | 'terms' | 'treatment' | 'research';
export type ConsentChannel = 'portal' | 'in_person' | 'paper' | 'phone';

export interface ConsentDocumentsTable {
  id: Generated<string>;
  organization_id: string;
  kind: ConsentKind;
  version: number;
  title: string;
  body: string;
  required: boolean;
  published_by: string | null;
  published_at: DefaultedTimestamp;
}

export interface PatientConsentsTable {
  id: Generated<string>;
  patient_id: string;
  document_id: string;
  channel: ConsentChannel;
  given_at: DefaultedTimestamp;
  recorded_by: string | null;
  withdrawn_at: Timestamp | null;
  withdrawn_by: string | null;
}

export interface ClinicalNotesTable {
  id: Generated<string>;
  patient_id: string;
  organization_id: string;
  created_by: string | null;
  created_at: DefaultedTimestamp;
}

export interface ClinicalNoteVersionsTable {
  id: Generated<string>;
  note_id: string;
  version: number;
  body: string;
  shareable: boolean;
  author_id: string | null;
  correction_reason: string | null;
  created_at: DefaultedTimestamp;
}

export interface BreakGlassGrantsTable {
  id: Generated<string>;
  admin_id: string;
  patient_id: string;
  organization_id: string;
  reason: string;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_by: string | null;
}

// Research case reviews (0007). JSON columns hold documents whose shapes the reviews module's
// schemas define; the database sees them as opaque JSON.
type Json = JSONColumnType<object, string, string>;
type Sequence = ColumnType<string, never, never>;

export type StudyStatus = 'draft' | 'active' | 'closed';
export type StudyRole = 'owner' | 'researcher' | 'participant';
/**
 * A team row's role: a study role, or 'invited' (an existing account invited to take part that
 * has not accepted yet, 0018). No access rule names 'invited'; see StudyMembersTable.
 */
export type StudyMemberRole = StudyRole | 'invited';

export interface StudiesTable {
  id: Generated<string>;
  organization_id: string;
  title: string;
  description: Generated<string>;
  status: Generated<StudyStatus>;
  created_by: string | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface StudyMembersTable {
  study_id: string;
  user_id: string;
  role: StudyMemberRole;
  added_by: string | null;
  created_at: DefaultedTimestamp;
  removed_at: Timestamp | null;
  /** Only while role = 'invited': the name the researcher typed, shown until accepted. */
  shown_name: ColumnType<string | null, string | null | undefined, string | null>;
  /** Only while role = 'invited': the end of the invitation, on the database's clock. */
  answer_by: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Only while role = 'invited': the address as the researcher typed it, shown until accepted. */
  shown_email: ColumnType<string | null, string | null | undefined, string | null>;
  /** Only while role = 'invited': whether only the address's owner could hold its password. */
  account_held_by_owner: ColumnType<boolean | null, boolean | null | undefined, boolean | null>;
}

export interface ReviewCasesTable {
  id: Generated<string>;
  study_id: string;
  external_id: string;
  tree: Json;
  node_count: number;
  ai_score: number | null;
  ai_explanation: string | null;
  created_by: string | null;
  created_at: DefaultedTimestamp;
}

export interface QuestionnaireVersionsTable {
  id: Generated<string>;
  study_id: string;
  version: number;
  title: string;
  questions: Json;
  attention_check: JSONColumnType<object | null, string | null, string | null>;
  status: Generated<'draft' | 'published'>;
  created_by: string | null;
  created_at: DefaultedTimestamp;
  published_at: Timestamp | null;
}

export interface ExperimentsTable {
  id: Generated<string>;
  study_id: string;
  name: string;
  description: Generated<string>;
  created_by: string | null;
  created_at: DefaultedTimestamp;
}

export interface ExperimentArmsTable {
  id: Generated<string>;
  experiment_id: string;
  study_id: string;
  name: string;
  display: Json;
  created_at: DefaultedTimestamp;
}

export interface RandomizationsTable {
  id: Generated<string>;
  study_id: string;
  experiment_id: string;
  seed: string;
  cases_per_participant: number;
  inputs: Json;
  assignment_count: number;
  created_by: string | null;
  created_at: DefaultedTimestamp;
}

export type AssignmentSource = 'api' | 'csv' | 'randomizer';

export interface ReviewAssignmentsTable {
  id: Generated<string>;
  study_id: string;
  participant_id: string;
  case_id: string;
  arm_id: string | null;
  randomization_id: string | null;
  display: Json;
  position: number;
  source: AssignmentSource;
  created_by: string | null;
  created_at: DefaultedTimestamp;
}

export interface ReviewAnswersTable {
  id: Generated<string>;
  assignment_id: string;
  study_id: string;
  participant_id: string;
  questionnaire_version_id: string;
  answers: Json;
  display_snapshot: Json;
  ai_score_shown: boolean;
  /** SHA-256 hex of the canonical submission: an identical retry is recognised by it. */
  submission_key: string;
  /** Export cursor (keyset pagination), assigned by the database. */
  seq: Sequence;
  submitted_at: DefaultedTimestamp;
  /** The assignment's case and arm, copied by the database on insert (0010_answer_facts). */
  case_id: Generated<string>;
  arm_id: Generated<string | null>;
}

export interface ReviewTimingsTable {
  assignment_id: string;
  study_id: string;
  case_opened_at: Timestamp | null;
  form_opened_at: Timestamp | null;
  submitted_at: Timestamp | null;
  client_case_opened_at: Timestamp | null;
  client_form_opened_at: Timestamp | null;
  client_submitted_at: Timestamp | null;
  /** bigint columns come back as strings from pg; PGlite returns numbers. Use Number(). */
  reading_ms: ColumnType<string | number | null, number | null, number | null>;
  answering_ms: ColumnType<string | number | null, number | null, number | null>;
  total_ms: ColumnType<string | number | null, number | null, number | null>;
  flags: ColumnType<string[], string[] | undefined, string[]>;
  seq: Sequence;
  updated_at: DefaultedTimestamp;
}

export interface AttentionResultsTable {
  id: Generated<string>;
  study_id: string;
  participant_id: string;
  assignment_id: string;
  questionnaire_version_id: string;
  expected: Json;
  given: Json;
  passed: boolean;
  recorded_at: DefaultedTimestamp;
}

/** bigint columns come back as strings from pg and numbers from PGlite: read them with Number(). */
type BigintColumn = ColumnType<string | number, number, number>;

export type UploadProtocol = 'tus' | 's3';
export type UploadSessionStatus = 'open' | 'completed' | 'aborted' | 'expired' | 'failed';
export type FileStatus = 'scanning' | 'clean' | 'quarantined' | 'deleted';

export interface UploadSessionsTable {
  id: Generated<string>;
  owner_id: string;
  patient_id: string | null;
  organization_id: string | null;
  bucket: ColumnType<string, string | undefined, string>;
  /** The owned bucket (0009_buckets); null: the system default. */
  bucket_id: ColumnType<string | null, string | null | undefined, string | null>;
  protocol: UploadProtocol;
  object_key: string;
  storage_upload_id: string;
  file_name: string;
  file_type: string;
  content_type: string;
  declared_size: BigintColumn;
  declared_sha256: string | null;
  received_bytes: ColumnType<string | number, number | undefined, number>;
  status: ColumnType<UploadSessionStatus, UploadSessionStatus | undefined, UploadSessionStatus>;
  failure_reason: string | null;
  writer_token: string | null;
  writer_since: Date | null;
  cleanup_attempts: ColumnType<number, number | undefined, number>;
  cleanup_error: string | null;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp;
  closed_at: Timestamp | null;
}

export interface UploadPartsTable {
  session_id: string;
  part_number: number;
  etag: string;
  size: BigintColumn;
  created_at: DefaultedTimestamp;
}

export interface FilesTable {
  id: Generated<string>;
  session_id: string;
  owner_id: string;
  patient_id: string | null;
  organization_id: string | null;
  bucket: string;
  /** The owned bucket (0009_buckets); null: the system default. */
  bucket_id: ColumnType<string | null, string | null | undefined, string | null>;
  object_key: string;
  name: string;
  file_type: string;
  content_type: string;
  size: BigintColumn;
  sha256: string | null;
  status: ColumnType<FileStatus, FileStatus | undefined, FileStatus>;
  status_reason: string | null;
  scan_attempts: ColumnType<number, number | undefined, number>;
  scanned_at: Timestamp | null;
  created_at: DefaultedTimestamp;
  deleted_at: Timestamp | null;
}

export type BucketSseMode = 'none' | 'AES256' | 'aws:kms';

/** A storage bucket owned by one person or one organization (0009_buckets, F1). */
export interface BucketsTable {
  id: Generated<string>;
  owner_user_id: string | null;
  owner_organization_id: string | null;
  endpoint: string;
  region: string;
  bucket_name: string;
  path_style: boolean;
  /** The last four characters of the access key id, the only part of a credential ever shown. */
  access_key_hint: string;
  /** `{accessKeyId, secretAccessKey}` sealed with the key ring (names its key id). */
  credentials_sealed: string;
  credentials_key_id: string;
  sse_mode: BucketSseMode;
  kms_key_id: string | null;
  size_limit_bytes: ColumnType<string | number | null, number | null, number | null>;
  notes: ColumnType<string, string | undefined, string>;
  created_by: string;
  updated_by: string;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  deleted_at: Timestamp | null;
  deleted_by: string | null;
}

/** A generation of the CSRF and refresh-cookie key secret (0015_browser_key_generations, S2). */
export interface BrowserKeyGenerationsTable {
  generation: number;
  /** 32 random bytes sealed with the key ring; null for generation 0 (the master key alone). */
  secret_sealed: string | null;
  active_from: DefaultedTimestamp;
  retires_at: Timestamp | null;
  created_at: DefaultedTimestamp;
}

export interface DatabaseSchema {
  audit_events: AuditEventsTable;
  audit_seals: AuditSealsTable;
  jobs: JobsTable;
  users: UsersTable;
  recovery_codes: RecoveryCodesTable;
  login_throttle: LoginThrottleTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  one_time_tokens: OneTimeTokensTable;
  signing_keys: SigningKeysTable;
  organizations: OrganizationsTable;
  organization_members: OrganizationMembersTable;
  organization_invitations: OrganizationInvitationsTable;
  portal_invitations: PortalInvitationsTable;
  patients: PatientsTable;
  consent_documents: ConsentDocumentsTable;
  patient_consents: PatientConsentsTable;
  clinical_notes: ClinicalNotesTable;
  clinical_note_versions: ClinicalNoteVersionsTable;
  break_glass_grants: BreakGlassGrantsTable;
  studies: StudiesTable;
  study_members: StudyMembersTable;
  review_cases: ReviewCasesTable;
  questionnaire_versions: QuestionnaireVersionsTable;
  experiments: ExperimentsTable;
  experiment_arms: ExperimentArmsTable;
  randomizations: RandomizationsTable;
  review_assignments: ReviewAssignmentsTable;
  review_answers: ReviewAnswersTable;
  review_timings: ReviewTimingsTable;
  attention_results: AttentionResultsTable;
  upload_sessions: UploadSessionsTable;
  upload_parts: UploadPartsTable;
  files: FilesTable;
  buckets: BucketsTable;
  browser_key_generations: BrowserKeyGenerationsTable;
  oauth_clients: OAuthClientsTable;
  oauth_payloads: OAuthPayloadsTable;
  oauth_revoked_access_tokens: OAuthRevokedAccessTokensTable;
}

/** A client of Haven's OAuth authorization server (0013_oauth, 0014_oauth_apps, A12). */
export interface OAuthClientsTable {
  client_id: string;
  name: string;
  owner_organization_id: string | null;
  scopes: string[];
  /**
   * Hex SHA-256 of the 256-bit random secret; the secret itself is shown once, never stored.
   * Null only for a public app (a native app that cannot keep a secret; PKCE protects its codes).
   */
  secret_sha256: string | null;
  /** `machine`: client credentials; `app`: authorization code with PKCE for a person. */
  kind: ColumnType<'machine' | 'app', 'machine' | 'app' | undefined, 'machine' | 'app'>;
  /** An app's exact redirect URIs (compared as strings, never as patterns). */
  redirect_uris: ColumnType<string[], string[] | undefined, string[]>;
  public_client: ColumnType<boolean, boolean | undefined, boolean>;
  disabled_at: Timestamp | null;
  created_by: string;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

/** oidc-provider's artifacts, one row per model and id (0013_oauth). */
export interface OAuthPayloadsTable {
  model: string;
  id: string;
  payload: JSONColumnType<Record<string, unknown>>;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  /** The person a grant or token of an app belongs to (0014_oauth_apps). */
  account_id: ColumnType<string | null, string | null | undefined, string | null>;
  expires_at: Timestamp | null;
  consumed_at: Timestamp | null;
}

/** Access tokens revoked before they expired (RFC 7009), by jti (0013_oauth). */
export interface OAuthRevokedAccessTokensTable {
  jti: string;
  client_id: string;
  expires_at: Timestamp;
}
