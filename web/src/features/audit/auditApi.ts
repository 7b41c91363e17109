/** The audit log (L3): search, export and chain verification (docs/api/clinical.md, "Audit log"). */
import {
  ActionCatalogue,
  AuditPage,
  SecurityEventList,
  UserPage,
  VerifyAnswer,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf } from '../../shared/schemaDecoding';

export type AuditEntry = Static<typeof AuditPage>['events'][number];
export type Outcome = AuditEntry['outcome'];
export const OUTCOMES = ['success', 'failure', 'denied'] as const satisfies readonly Outcome[];

export const decodeAuditPage = answerOf(AuditPage);

/** The administrator's home panel: the newest lockouts, token reuse and break-glass events. */
export const decodeSecurityEvents = answerOf(SecurityEventList);
export function securityEventsPath(limit: number): string {
  return `/api/admin/audit-events/security?limit=${limit}`;
}

export type ChainStatus = Static<typeof VerifyAnswer>;
export const decodeChainStatus = answerOf(VerifyAnswer);

/** Known actions and their families, for the action picker. */
export type ActionCatalogueAnswer = Static<typeof ActionCatalogue>;
export const decodeActionCatalogue = answerOf(ActionCatalogue);
export const ACTION_CATALOGUE_PATH = '/api/admin/audit-events/actions';

/** People an actor search found (the admin users list). */
export type ActorCandidate = Static<typeof UserPage>['users'][number];
export const decodeActorCandidates = answerOf(UserPage);
const ACTOR_MATCHES = 10;

export function actorSearchPath(query: string): string {
  const params = new URLSearchParams({ query, limit: String(ACTOR_MATCHES) });
  return `/api/admin/users?${params.toString()}`;
}

/** The kinds of thing an audit event is about, in words (target types the server writes). */
export const TARGET_KINDS: Readonly<Record<string, string>> = {
  patient: 'Patient',
  user: 'Account',
  account: 'Account',
  organization: 'Organization',
  break_glass_grant: 'Emergency access',
  consent_document: 'Consent document',
  file: 'File',
  upload: 'Upload',
  bucket: 'Storage bucket',
  study: 'Study',
  experiment: 'Experiment',
  experiment_arm: 'Experiment arm',
  questionnaire_version: 'Questionnaire version',
  review_assignment: 'Case assignment',
  randomization: 'Randomization',
  record: 'Patient record',
  session: 'Session',
  client: 'API client',
  system: 'System',
};

/** A target type in words; a type Haven does not know is shown as it is stored. */
export function targetKind(type: string): string {
  return Object.hasOwn(TARGET_KINDS, type) ? (TARGET_KINDS[type] ?? type) : type;
}

/** Search filters; an empty or missing one does not filter. */
export interface AuditFilters {
  actorId?: string;
  targetType?: string;
  targetId?: string;
  /** A family (`breakglass`), a prefix (`auth.`, `patient.note*`) or an exact action. */
  action?: string;
  outcome?: Outcome;
  /** ISO 8601 instants. */
  from?: string;
  to?: string;
}

const AUDIT_PAGE_SIZE = 50;
/** The server's cap on one CSV export (EXPORT_ROW_CAP). */
export const EXPORT_ROW_CAP = 10_000;

function filterParams(filters: AuditFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (typeof value === 'string' && value !== '') params.set(key, value);
  }
  return params;
}

export function auditSearchPath(filters: AuditFilters, before: string | null): string {
  const params = filterParams(filters);
  params.set('limit', String(AUDIT_PAGE_SIZE));
  if (before) params.set('before', before);
  return `/api/admin/audit-events?${params.toString()}`;
}

/** The CSV of the same filters, newest first, capped on the server. */
export function auditExportPath(filters: AuditFilters): string {
  const query = filterParams(filters).toString();
  return `/api/admin/audit-events/export.csv${query ? `?${query}` : ''}`;
}
