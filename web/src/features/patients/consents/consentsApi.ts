/** Consent documents, consent records and the consent gate (docs/api/clinical.md, "Consents"). */
import {
  ConsentAnswer,
  DocumentAnswer,
  DocumentList,
  PatientConsentList,
  type ConsentDocumentSchema,
  type ConsentGateSchema,
  type ConsentRecordSchema,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../../shared/schemaDecoding';

export type ConsentDocument = Static<typeof ConsentDocumentSchema>;
export type ConsentRecord = Static<typeof ConsentRecordSchema>;
export type ConsentGate = Static<typeof ConsentGateSchema>;

export type ConsentKind = ConsentDocument['kind'];
export const CONSENT_KINDS = [
  'hipaa_notice',
  'terms',
  'treatment',
  'research',
] as const satisfies readonly ConsentKind[];
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

export const decodeDocuments = memberOf(DocumentList, 'documents');
export const decodeDocumentAnswer = memberOf(DocumentAnswer, 'document');
/** Recording or withdrawing a consent, by staff or (the same answer) in the portal. */
export const decodeConsentAnswer = memberOf(ConsentAnswer, 'consent');

export const decodePatientConsents = answerOf(PatientConsentList);
