/** Patients of the active organization (docs/api/clinical.md, "Patients"). */
import { bool, field, listOf, object, oneOf, optionalText, text } from '../../shared/decoding';

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

/** An address as sent and received; the optional lines are left out rather than empty. */
export interface Address {
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  country: string;
}

const decodeAddressMembers = object('address', {
  line1: text,
  line2: optionalText,
  city: text,
  region: optionalText,
  postalCode: text,
  country: text,
});

function decodeAddress(value: unknown): Address | null {
  if (value === null || value === undefined) return null;
  const { line2, region, ...address } = decodeAddressMembers(value);
  return { ...address, ...(line2 ? { line2 } : {}), ...(region ? { region } : {}) };
}

const decodeContactMethod = object('contact method', {
  type: oneOf(CONTACT_TYPES),
  value: text,
  verified: bool,
});

/** What every view of a patient shows (staff, the portal, break-glass). */
const DEMOGRAPHICS = {
  id: text,
  mrn: text,
  givenName: text,
  familyName: text,
  /** YYYY-MM-DD, shown as is (no time-zone conversion). */
  birthDate: text,
  sex: oneOf(SEXES),
};
const CONTACT_DETAILS = { address: decodeAddress, contactMethods: listOf(decodeContactMethod) };

const decodeSummary = object('patient', { ...DEMOGRAPHICS, archived: bool });

const decodePatient = object('patient', {
  ...DEMOGRAPHICS,
  archived: bool,
  ...CONTACT_DETAILS,
  portalLinked: bool,
  createdAt: text,
  updatedAt: text,
  archivedAt: optionalText,
});
export type Patient = ReturnType<typeof decodePatient>;

/** The patient record as the patient sees it (portal and break-glass). */
export const decodeRecordView = object('record', {
  patient: object('patient', { ...DEMOGRAPHICS, ...CONTACT_DETAILS }),
  organization: object('organization', { id: text, name: text }),
});
export type PatientRecordView = ReturnType<typeof decodeRecordView>;
/** Demographics and contact details, whichever view they come from. */
export type PatientFactsView = PatientRecordView['patient'];

/** What the patient form sends (create, or the changed part of it on edit). */
export type PatientInput = Omit<PatientFactsView, 'id'>;

export interface PatientSearch {
  name?: string;
  mrn?: string;
  birthDate?: string;
  includeArchived?: boolean;
  cursor?: string;
  limit?: number;
}

export const decodePatientAnswer = field('patient', decodePatient);

export const decodePatientPage = object('answer', {
  patients: listOf(decodeSummary),
  nextCursor: optionalText,
});

export const decodePortalInvitation = field('status', oneOf(['invited', 'linked'] as const));

export const PATIENT_PAGE_SIZE = 25;

export function patientPath(patientId: string, rest = ''): string {
  return `/api/patients/${encodeURIComponent(patientId)}${rest}`;
}

/** Link to a patient's page in the SPA. */
export function patientPagePath(patientId: string): string {
  return `/patients/${encodeURIComponent(patientId)}`;
}

/** A patient's name as lists and headings show it: "Family, Given". */
export function fullName(p: { givenName: string; familyName: string }): string {
  return `${p.familyName}, ${p.givenName}`;
}
