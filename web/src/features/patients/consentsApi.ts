/** Consent documents, consent records and the consent gate (docs/api/clinical.md, "Consents"). */
import {
  expectBoolean,
  expectNumber,
  expectRecord,
  expectString,
  optionalString,
  type Decoder,
} from '../../shared/api';
import { expectArray, expectOneOf, field } from '../../shared/decoding';

export const CONSENT_KINDS = ['hipaa_notice', 'terms', 'treatment', 'research'] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];
const KIND_LABELS: Record<ConsentKind, string> = {
  hipaa_notice: 'HIPAA notice',
  terms: 'Terms',
  treatment: 'Treatment',
  research: 'Research',
};
export const kindLabel = (kind: ConsentKind): string => KIND_LABELS[kind];
export const CONSENT_KIND_CHOICES = CONSENT_KINDS.map((value) => ({
  value,
  label: KIND_LABELS[value],
}));

export const STAFF_CHANNELS = ['in_person', 'paper', 'phone'] as const;
export type StaffChannel = (typeof STAFF_CHANNELS)[number];
export const CHANNEL_CHOICES = [
  { value: 'in_person', label: 'In person' },
  { value: 'paper', label: 'Paper form' },
  { value: 'phone', label: 'Phone' },
] as const satisfies ReadonlyArray<{ value: StaffChannel; label: string }>;

export interface ConsentDocument {
  id: string;
  kind: ConsentKind;
  version: number;
  title: string;
  body: string;
  required: boolean;
  publishedAt: string;
  current: boolean;
}

export interface ConsentRecord {
  id: string;
  documentId: string;
  kind: ConsentKind;
  version: number;
  title: string;
  /** in_person, paper, phone or portal; shown as given. */
  channel: string;
  givenAt: string;
  withdrawnAt: string | null;
  current: boolean;
}

export interface ConsentGate {
  satisfied: boolean;
  missing: Array<{ documentId: string; kind: ConsentKind; version: number; title: string }>;
}

export function decodeConsentDocument(value: unknown): ConsentDocument {
  const r = expectRecord(value, 'document');
  return {
    id: expectString(r, 'id'),
    kind: expectOneOf(r, 'kind', CONSENT_KINDS),
    version: expectNumber(r, 'version'),
    title: expectString(r, 'title'),
    body: expectString(r, 'body'),
    required: expectBoolean(r, 'required'),
    publishedAt: expectString(r, 'publishedAt'),
    current: expectBoolean(r, 'current'),
  };
}

export function decodeConsentRecord(value: unknown): ConsentRecord {
  const r = expectRecord(value, 'consent');
  return {
    id: expectString(r, 'id'),
    documentId: expectString(r, 'documentId'),
    kind: expectOneOf(r, 'kind', CONSENT_KINDS),
    version: expectNumber(r, 'version'),
    title: expectString(r, 'title'),
    channel: expectString(r, 'channel'),
    givenAt: expectString(r, 'givenAt'),
    withdrawnAt: optionalString(r, 'withdrawnAt'),
    current: expectBoolean(r, 'current'),
  };
}

export function decodeGate(value: unknown): ConsentGate {
  const r = expectRecord(value, 'gate');
  return {
    satisfied: expectBoolean(r, 'satisfied'),
    missing: expectArray(r, 'missing', (item) => {
      const m = expectRecord(item, 'missing document');
      return {
        documentId: expectString(m, 'documentId'),
        kind: expectOneOf(m, 'kind', CONSENT_KINDS),
        version: expectNumber(m, 'version'),
        title: expectString(m, 'title'),
      };
    }),
  };
}

export const decodeDocuments: Decoder<ConsentDocument[]> = (body) =>
  expectArray(expectRecord(body, 'answer'), 'documents', decodeConsentDocument);

export const decodeDocumentAnswer = field('document', decodeConsentDocument);

export const decodePatientConsents: Decoder<{ consents: ConsentRecord[]; gate: ConsentGate }> = (
  body,
) => {
  const r = expectRecord(body, 'answer');
  return { consents: expectArray(r, 'consents', decodeConsentRecord), gate: decodeGate(r['gate']) };
};

export const decodeConsentAnswer = field('consent', decodeConsentRecord);

export function channelLabel(channel: string): string {
  return (
    CHANNEL_CHOICES.find((c) => c.value === channel)?.label ??
    (channel === 'portal' ? 'Patient portal' : channel)
  );
}
