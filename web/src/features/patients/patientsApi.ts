/** Patients of the active organization (docs/api/clinical.md, "Patients"). */
import {
  PatientAnswer,
  PatientPage,
  PortalInvitationAnswer,
  type PortalRecordAnswer,
} from '@haven/contract';
import type { Static } from 'typebox';
import { answerOf, memberOf } from '../../shared/schemaDecoding';

export type Patient = Static<typeof PatientAnswer>['patient'];

export type Sex = Patient['sex'];
export const SEXES = ['female', 'male', 'other', 'unknown'] as const satisfies readonly Sex[];
const SEX_LABELS: Record<Sex, string> = {
  female: 'Female',
  male: 'Male',
  other: 'Other',
  unknown: 'Unknown',
};
export const sexLabel = (sex: Sex): string => SEX_LABELS[sex];
export const SEX_CHOICES = SEXES.map((value) => ({ value, label: SEX_LABELS[value] }));

export type ContactType = Patient['contactMethods'][number]['type'];
export const CONTACT_TYPES = ['phone', 'email'] as const satisfies readonly ContactType[];

/** An address as sent and received; the optional lines are left out rather than empty. */
export type Address = NonNullable<Patient['address']>;

/** The record as the patient sees it (portal, and break-glass shows it an admin the same way). */
export type PatientRecordView = Static<typeof PortalRecordAnswer>['record'];
/** Demographics and contact details, whichever view they come from. */
export type PatientFactsView = PatientRecordView['patient'];

/** What the patient form sends (create, or the changed part of it on edit). */
export type PatientInput = Omit<PatientFactsView, 'id'>;

/** The list's sort orders (the server allows these and no others). */
export type PatientSort = 'name' | 'mrn' | 'updated';
export type SortDirection = 'asc' | 'desc';

export interface PatientSearch {
  name?: string;
  mrn?: string;
  birthDate?: string;
  includeArchived?: boolean;
  sort?: PatientSort;
  direction?: SortDirection;
  cursor?: string;
  limit?: number;
}

export const decodePatientAnswer = memberOf(PatientAnswer, 'patient');

export const decodePatientPage = answerOf(PatientPage);

export const decodePortalInvitation = memberOf(PortalInvitationAnswer, 'status');

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
