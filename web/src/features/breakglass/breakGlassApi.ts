/** Break-glass grants (Z5): docs/api/clinical.md, "Break-glass". */
import { bool, field, listOf, object, optionalText, text } from '../../shared/decoding';
import { decodeConsentRecord, decodeRecordView, decodeSharedNote } from '../patients';

const decodeGrant = object('grant', {
  id: text,
  adminId: text,
  adminDisplayName: text,
  patientId: text,
  organizationId: text,
  reason: text,
  createdAt: text,
  expiresAt: text,
  revokedAt: optionalText,
  active: bool,
});
export type Grant = ReturnType<typeof decodeGrant>;

export const decodeGrantAnswer = field('grant', decodeGrant);
export const decodeGrants = field('grants', listOf(decodeGrant));

/** The record a grant opened: what the patient sees in the portal, read-only. */
export const decodeGrantRecord = object('answer', {
  grant: decodeGrant,
  record: decodeRecordView,
  consents: listOf(decodeConsentRecord),
  notes: listOf(decodeSharedNote),
});

export type GrantFilter = 'active' | 'ended' | 'all';

export function grantListPath(filter: GrantFilter): string {
  if (filter === 'all') return '/api/admin/break-glass/grants';
  return `/api/admin/break-glass/grants?active=${filter === 'active' ? 'true' : 'false'}`;
}

export function grantRecordPath(grantId: string): string {
  return `/api/break-glass/grants/${encodeURIComponent(grantId)}/record`;
}

export function grantPagePath(grantId: string): string {
  return `/break-glass/${encodeURIComponent(grantId)}`;
}

export const MIN_REASON = 10;
export const MAX_REASON = 500;
