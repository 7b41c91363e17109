/** Patients of the active organization (docs/api/clinical.md, "Patients"). */
import {
  expectBoolean,
  expectRecord,
  expectString,
  optionalString,
  type Decoder,
} from '../../shared/api';
import { expectArray, expectOneOf, field } from '../../shared/decoding';

export const SEXES = ['female', 'male', 'other', 'unknown'] as const;
export type Sex = (typeof SEXES)[number];
const SEX_LABELS: Record<Sex, string> = {
  female: 'Female',
  male: 'Male',
  other: 'Other',
  unknown: 'Unknown',
};
export const sexLabel = (sex: Sex): string => SEX_LABELS[sex];
export const SEX_CHOICES = SEXES.map((value) => ({ value, label: SEX_LABELS[value] }));

export const CONTACT_TYPES = ['phone', 'email'] as const;
export type ContactType = (typeof CONTACT_TYPES)[number];

export interface Address {
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  country: string;
}

export interface ContactMethod {
  type: ContactType;
  value: string;
  verified: boolean;
}

export interface PatientSummary {
  id: string;
  mrn: string;
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD, shown as is (no time-zone conversion). */
  birthDate: string;
  sex: Sex;
  archived: boolean;
}

export interface Patient extends PatientSummary {
  address: Address | null;
  contactMethods: ContactMethod[];
  portalLinked: boolean;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
}

export interface PatientInput {
  mrn: string;
  givenName: string;
  familyName: string;
  birthDate: string;
  sex: Sex;
  address: Address | null;
  contactMethods: ContactMethod[];
}

export interface PatientSearch {
  name?: string;
  mrn?: string;
  birthDate?: string;
  includeArchived?: boolean;
  cursor?: string;
  limit?: number;
}

export interface PatientPage {
  patients: PatientSummary[];
  nextCursor: string | null;
}

export function decodeAddress(value: unknown): Address | null {
  if (value === null || value === undefined) return null;
  const r = expectRecord(value, 'address');
  const line2 = optionalString(r, 'line2');
  const region = optionalString(r, 'region');
  return {
    line1: expectString(r, 'line1'),
    ...(line2 ? { line2 } : {}),
    city: expectString(r, 'city'),
    ...(region ? { region } : {}),
    postalCode: expectString(r, 'postalCode'),
    country: expectString(r, 'country'),
  };
}

export function decodeContactMethod(value: unknown): ContactMethod {
  const r = expectRecord(value, 'contact method');
  return {
    type: expectOneOf(r, 'type', CONTACT_TYPES),
    value: expectString(r, 'value'),
    verified: expectBoolean(r, 'verified'),
  };
}

function decodeSummary(value: unknown): PatientSummary {
  const r = expectRecord(value, 'patient');
  return {
    id: expectString(r, 'id'),
    mrn: expectString(r, 'mrn'),
    givenName: expectString(r, 'givenName'),
    familyName: expectString(r, 'familyName'),
    birthDate: expectString(r, 'birthDate'),
    sex: expectOneOf(r, 'sex', SEXES),
    archived: expectBoolean(r, 'archived'),
  };
}

function decodePatient(value: unknown): Patient {
  const r = expectRecord(value, 'patient');
  return {
    ...decodeSummary(value),
    address: decodeAddress(r['address']),
    contactMethods: expectArray(r, 'contactMethods', decodeContactMethod),
    portalLinked: expectBoolean(r, 'portalLinked'),
    createdAt: expectString(r, 'createdAt'),
    updatedAt: expectString(r, 'updatedAt'),
    archivedAt: optionalString(r, 'archivedAt'),
  };
}

export const decodePatientAnswer = field('patient', decodePatient);

export const decodePatientPage: Decoder<PatientPage> = (body) => {
  const r = expectRecord(body, 'answer');
  return {
    patients: expectArray(r, 'patients', decodeSummary),
    nextCursor: optionalString(r, 'nextCursor'),
  };
};

export const decodePortalInvitation: Decoder<'invited' | 'linked'> = (body) =>
  expectOneOf(expectRecord(body, 'answer'), 'status', ['invited', 'linked'] as const);

export const PATIENT_PAGE_SIZE = 25;

export function patientPath(patientId: string, rest = ''): string {
  return `/api/patients/${encodeURIComponent(patientId)}${rest}`;
}

/** Link to a patient's page in the SPA. */
export function patientPagePath(patientId: string): string {
  return `/patients/${encodeURIComponent(patientId)}`;
}

export function fullName(p: { givenName: string; familyName: string }): string {
  return `${p.familyName}, ${p.givenName}`;
}

/** The patient record as the patient sees it (portal and break-glass). */
export interface PatientRecordView {
  patient: {
    id: string;
    mrn: string;
    givenName: string;
    familyName: string;
    birthDate: string;
    sex: Sex;
    address: Address | null;
    contactMethods: ContactMethod[];
  };
  organization: { id: string; name: string };
}

export function decodeRecordView(value: unknown): PatientRecordView {
  const r = expectRecord(value, 'record');
  const p = expectRecord(r['patient'], 'patient');
  const o = expectRecord(r['organization'], 'organization');
  return {
    patient: {
      id: expectString(p, 'id'),
      mrn: expectString(p, 'mrn'),
      givenName: expectString(p, 'givenName'),
      familyName: expectString(p, 'familyName'),
      birthDate: expectString(p, 'birthDate'),
      sex: expectOneOf(p, 'sex', SEXES),
      address: decodeAddress(p['address']),
      contactMethods: expectArray(p, 'contactMethods', decodeContactMethod),
    },
    organization: { id: expectString(o, 'id'), name: expectString(o, 'name') },
  };
}
