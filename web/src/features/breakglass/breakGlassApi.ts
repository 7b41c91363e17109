/** Break-glass grants (Z5): docs/api/clinical.md, "Break-glass". */
import {
  expectBoolean,
  expectRecord,
  expectString,
  optionalString,
  type Decoder,
} from '../../shared/api';
import { expectArray, field } from '../../shared/decoding';
import { decodeConsentRecord, type ConsentRecord } from '../patients/consentsApi';
import { decodeSharedNote, type SharedNote } from '../patients/notesApi';
import { decodeRecordView, type PatientRecordView } from '../patients/patientsApi';

export interface Grant {
  id: string;
  adminId: string;
  adminDisplayName: string;
  patientId: string;
  organizationId: string;
  reason: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  active: boolean;
}

export interface GrantRecord {
  grant: Grant;
  record: PatientRecordView;
  consents: ConsentRecord[];
  notes: SharedNote[];
}

function decodeGrant(value: unknown): Grant {
  const r = expectRecord(value, 'grant');
  return {
    id: expectString(r, 'id'),
    adminId: expectString(r, 'adminId'),
    adminDisplayName: expectString(r, 'adminDisplayName'),
    patientId: expectString(r, 'patientId'),
    organizationId: expectString(r, 'organizationId'),
    reason: expectString(r, 'reason'),
    createdAt: expectString(r, 'createdAt'),
    expiresAt: expectString(r, 'expiresAt'),
    revokedAt: optionalString(r, 'revokedAt'),
    active: expectBoolean(r, 'active'),
  };
}

export const decodeGrantAnswer = field('grant', decodeGrant);

export const decodeGrants: Decoder<Grant[]> = (body) =>
  expectArray(expectRecord(body, 'answer'), 'grants', decodeGrant);

export const decodeGrantRecord: Decoder<GrantRecord> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    grant: decodeGrant(r['grant']),
    record: decodeRecordView(r['record']),
    consents: expectArray(r, 'consents', decodeConsentRecord),
    notes: expectArray(r, 'notes', decodeSharedNote),
  };
};

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
