/** The patient portal: own record, consents, shared notes and access list (docs/api/clinical.md). */
import { expectRecord, expectString, optionalString, type Decoder } from '../../shared/api';
import { expectArray, expectOneOf, field } from '../../shared/decoding';
import {
  decodeConsentDocument,
  decodeConsentRecord,
  decodeGate,
  type ConsentDocument,
  type ConsentGate,
  type ConsentRecord,
} from '../patients/consentsApi';
import { decodeRecordView } from '../patients/patientsApi';

export const ACTOR_KINDS = ['you', 'staff', 'break_glass', 'system'] as const;

export interface AccessEntry {
  at: string;
  action: string;
  actor: { kind: (typeof ACTOR_KINDS)[number]; displayName: string };
  grantId: string | null;
  /** Only for break-glass access: the reason the administrator gave. */
  reason: string | null;
}

export interface AccessPage {
  entries: AccessEntry[];
  nextBefore: string | null;
}

export interface PortalConsents {
  documents: ConsentDocument[];
  consents: ConsentRecord[];
  gate: ConsentGate;
}

function decodeAccessEntry(value: unknown): AccessEntry {
  const r = expectRecord(value, 'access entry');
  const actor = expectRecord(r['actor'], 'actor');
  return {
    at: expectString(r, 'at'),
    action: expectString(r, 'action'),
    actor: {
      kind: expectOneOf(actor, 'kind', ACTOR_KINDS),
      displayName: expectString(actor, 'displayName'),
    },
    grantId: optionalString(r, 'grantId'),
    reason: optionalString(r, 'reason'),
  };
}

export const decodeAccessPage: Decoder<AccessPage> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    entries: expectArray(r, 'entries', decodeAccessEntry),
    nextBefore: optionalString(r, 'nextBefore'),
  };
};

export const decodePortalRecord = field('record', decodeRecordView);

export const decodePortalConsents: Decoder<PortalConsents> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    documents: expectArray(r, 'documents', decodeConsentDocument),
    consents: expectArray(r, 'consents', decodeConsentRecord),
    gate: decodeGate(r['gate']),
  };
};

export const ACCESS_PAGE_SIZE = 20;

export function accessLogPath(before: string | null, breakGlassOnly = false): string {
  const params = new URLSearchParams({ limit: String(ACCESS_PAGE_SIZE) });
  if (before) params.set('before', before);
  if (breakGlassOnly) params.set('breakGlassOnly', 'true');
  return `/api/portal/access-log?${params.toString()}`;
}

const ACTION_LABELS: Record<string, string> = {
  'patient.created': 'Created your record',
  'patient.read': 'Viewed your record',
  'patient.listed': 'Found your record in a search',
  'patient.updated': 'Updated your record',
  'patient.archived': 'Archived your record',
  'patient.restored': 'Restored your record',
  'patient.portal_invited': 'Invited you to the portal',
  'patient.consents_read': 'Viewed your consents',
  'patient.consent_recorded': 'Recorded a consent',
  'patient.consent_withdrawn': 'Withdrew a consent',
  'patient.notes_read': 'Viewed your notes',
  'patient.note_read': 'Viewed a note',
  'patient.note_created': 'Wrote a note',
  'patient.note_corrected': 'Corrected a note',
  'patient.exported': 'Downloaded your data',
  'breakglass.granted': 'Was granted emergency access',
  'breakglass.revoked': 'Emergency access was revoked',
};

/** A readable description of an audit action; unknown actions are shown as they are. */
export function describeAction(action: string): string {
  return ACTION_LABELS[action] ?? action;
}
