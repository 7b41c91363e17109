/** Consent documents, consent records and the consent gate (docs/api/clinical.md, "Consents"). */
import {
  bool,
  field,
  listOf,
  num,
  object,
  oneOf,
  optionalText,
  text,
} from '../../../shared/decoding';

export const CONSENT_KINDS = ['hipaa_notice', 'terms', 'treatment', 'research'] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];
export const DEFAULT_KIND: ConsentKind = 'hipaa_notice';
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

export type StaffChannel = 'in_person' | 'paper' | 'phone';
export const DEFAULT_CHANNEL: StaffChannel = 'in_person';
export const CHANNEL_CHOICES = [
  { value: 'in_person', label: 'In person' },
  { value: 'paper', label: 'Paper form' },
  { value: 'phone', label: 'Phone' },
] as const satisfies ReadonlyArray<{ value: StaffChannel; label: string }>;

export function channelLabel(channel: string): string {
  return (
    CHANNEL_CHOICES.find((c) => c.value === channel)?.label ??
    (channel === 'portal' ? 'Patient portal' : channel)
  );
}

/** Which version of which document a consent (or a missing one) is about. */
const DOCUMENT_VERSION = { kind: oneOf(CONSENT_KINDS), version: num, title: text };

export const decodeConsentDocument = object('document', {
  id: text,
  ...DOCUMENT_VERSION,
  body: text,
  required: bool,
  publishedAt: text,
  current: bool,
});
export type ConsentDocument = ReturnType<typeof decodeConsentDocument>;

export const decodeConsentRecord = object('consent', {
  id: text,
  documentId: text,
  ...DOCUMENT_VERSION,
  /** in_person, paper, phone or portal; shown as given. */
  channel: text,
  givenAt: text,
  withdrawnAt: optionalText,
  current: bool,
});
export type ConsentRecord = ReturnType<typeof decodeConsentRecord>;

export const decodeGate = object('gate', {
  satisfied: bool,
  missing: listOf(object('missing document', { documentId: text, ...DOCUMENT_VERSION })),
});
export type ConsentGate = ReturnType<typeof decodeGate>;

export const decodeDocuments = field('documents', listOf(decodeConsentDocument));
export const decodeDocumentAnswer = field('document', decodeConsentDocument);
export const decodeConsentAnswer = field('consent', decodeConsentRecord);

export const decodePatientConsents = object('answer', {
  consents: listOf(decodeConsentRecord),
  gate: decodeGate,
});
