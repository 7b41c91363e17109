/**
 * The patient form's state (all strings), its checks, and the PatientInput it becomes. Phone
 * numbers are typed and shown in the national form of the organization's country (`country`)
 * and sent as E.164, the form the server stores.
 */
import { localDay } from '../../shared/dates';
import { EMAIL_PATTERN, MRN_PATTERN } from '../../shared/patterns';
import { phoneForEditing, readPhone } from '../../shared/phone';
import type { ContactType, Patient, PatientInput, Sex } from './patientsApi';

export interface ContactDraft {
  /** Stable React key for the row. */
  key: number;
  type: ContactType;
  value: string;
  verified: boolean;
}

export interface PatientDraft {
  mrn: string;
  givenName: string;
  familyName: string;
  birthDate: string;
  sex: Sex;
  hasAddress: boolean;
  line1: string;
  line2: string;
  city: string;
  region: string;
  postalCode: string;
  country: string;
  contacts: ContactDraft[];
}

export const MAX_CONTACTS = 10;
const COUNTRY = /^[A-Z]{2}$/;
// Control characters are refused by the server (names are NFC-normalized and trimmed there).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

let nextKey = 1;
export const newContactKey = (): number => nextKey++;

/** A new patient's form; a new address starts in the organization's country. */
export function emptyDraft(country: string): PatientDraft {
  return {
    mrn: '',
    givenName: '',
    familyName: '',
    birthDate: '',
    sex: 'unknown',
    hasAddress: false,
    line1: '',
    line2: '',
    city: '',
    region: '',
    postalCode: '',
    country,
    contacts: [],
  };
}

export function draftOf(patient: Patient, country: string): PatientDraft {
  const a = patient.address;
  return {
    mrn: patient.mrn,
    givenName: patient.givenName,
    familyName: patient.familyName,
    birthDate: patient.birthDate,
    sex: patient.sex,
    hasAddress: a !== null,
    line1: a?.line1 ?? '',
    line2: a?.line2 ?? '',
    city: a?.city ?? '',
    region: a?.region ?? '',
    postalCode: a?.postalCode ?? '',
    country: a?.country ?? country,
    contacts: patient.contactMethods.map((c) => ({
      ...c,
      value: c.type === 'phone' ? phoneForEditing(c.value, country) : c.value,
      key: newContactKey(),
    })),
  };
}

function text(value: string, label: string, max: number, required: boolean): string | undefined {
  const v = value.trim();
  if (required && v === '') return `Enter the ${label}.`;
  if (v.length > max) return `The ${label} is at most ${max} characters.`;
  if (CONTROL.test(v)) return `The ${label} cannot contain control characters.`;
  return undefined;
}

/** Field problems keyed like the server's (`address.line1`, `contactMethods.0.value`). */
export function checkDraft(d: PatientDraft, country: string): Record<string, string> {
  const errors: Record<string, string> = {};
  const put = (key: string, message: string | undefined) => {
    if (message) errors[key] = message;
  };
  if (!MRN_PATTERN.test(d.mrn.trim())) {
    put('mrn', 'An MRN starts with a letter or digit, then letters, digits or dashes (up to 32).');
  }
  put('givenName', text(d.givenName, 'given name', 100, true));
  put('familyName', text(d.familyName, 'family name', 100, true));
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d.birthDate)) put('birthDate', 'Enter the birth date.');
  else if (d.birthDate < '1900-01-01' || d.birthDate > localDay()) {
    put('birthDate', 'The birth date must be between 1900-01-01 and today.');
  }
  if (d.hasAddress) {
    put('address.line1', text(d.line1, 'first address line', 200, true));
    put('address.line2', text(d.line2, 'second address line', 200, false));
    put('address.city', text(d.city, 'city', 100, true));
    put('address.region', text(d.region, 'region', 100, false));
    put('address.postalCode', text(d.postalCode, 'postal code', 20, true));
    if (!COUNTRY.test(d.country.trim())) {
      put('address.country', 'Choose the country.');
    }
  }
  d.contacts.forEach((c, i) => {
    const v = c.value.trim();
    if (c.type === 'phone') {
      const phone = readPhone(v, country);
      if (!phone.ok) put(`contactMethods.${i}.value`, phone.problem);
    }
    if (c.type === 'email' && (!EMAIL_PATTERN.test(v) || v.length > 254)) {
      put(`contactMethods.${i}.value`, 'Enter an email address.');
    }
  });
  return errors;
}

export function inputOf(d: PatientDraft, country: string): PatientInput {
  const optional = (key: 'line2' | 'region', value: string) =>
    value.trim() ? { [key]: value.trim() } : {};
  return {
    mrn: d.mrn.trim(),
    givenName: d.givenName.trim(),
    familyName: d.familyName.trim(),
    birthDate: d.birthDate,
    sex: d.sex,
    address: d.hasAddress
      ? {
          line1: d.line1.trim(),
          ...optional('line2', d.line2),
          city: d.city.trim(),
          ...optional('region', d.region),
          postalCode: d.postalCode.trim(),
          country: d.country.trim(),
        }
      : null,
    contactMethods: d.contacts.map(({ type, value, verified }) => {
      const phone = type === 'phone' ? readPhone(value, country) : undefined;
      // A number the check refused goes as typed, so the server names the same problem.
      return { type, value: phone?.ok ? phone.e164 : value.trim(), verified };
    }),
  };
}

/** The fields of `next` that differ from `before` (PATCH sends only those). */
export function changedFields(before: PatientInput, next: PatientInput): Partial<PatientInput> {
  const differs = (key: keyof PatientInput) =>
    JSON.stringify(before[key]) !== JSON.stringify(next[key]);
  return {
    ...(differs('mrn') ? { mrn: next.mrn } : {}),
    ...(differs('givenName') ? { givenName: next.givenName } : {}),
    ...(differs('familyName') ? { familyName: next.familyName } : {}),
    ...(differs('birthDate') ? { birthDate: next.birthDate } : {}),
    ...(differs('sex') ? { sex: next.sex } : {}),
    ...(differs('address') ? { address: next.address } : {}),
    ...(differs('contactMethods') ? { contactMethods: next.contactMethods } : {}),
  };
}
