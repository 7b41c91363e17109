// The checks a JSON schema cannot make (V1): real calendar dates, normalized names and
// addresses, contact values by type. Each failure names the field, never echoes the value.
import { isPossiblePhoneNumber } from 'libphonenumber-js/min';
import type { ContactMethod, PostalAddress } from '../../../platform/db/schema.js';
import { E164, EMAIL, FieldErrors, checkBirthDate, cleanText } from '../../../platform/text.js';
import { MRN_PATTERN, type PatientFilters, type PatientPatch } from './schemas.js';

/** The page size of a search that does not name one. */
const DEFAULT_SEARCH_LIMIT = 25;

function cleanAddress(
  errors: FieldErrors,
  field: string,
  address: PostalAddress,
): PostalAddress | undefined {
  const before = errors.list.length;
  const line1 = cleanText(errors, `${field}.line1`, address.line1, {
    required: true,
    maxLength: 200,
  });
  const line2 =
    address.line2 === undefined
      ? undefined
      : cleanText(errors, `${field}.line2`, address.line2, { required: false, maxLength: 200 });
  const city = cleanText(errors, `${field}.city`, address.city, { required: true, maxLength: 100 });
  const region =
    address.region === undefined
      ? undefined
      : cleanText(errors, `${field}.region`, address.region, { required: false, maxLength: 100 });
  const postalCode = cleanText(errors, `${field}.postalCode`, address.postalCode, {
    required: true,
    maxLength: 20,
  });
  if (!/^[A-Z]{2}$/.test(address.country)) {
    errors.add(`${field}.country`, 'must be an ISO 3166-1 alpha-2 code');
  }
  if (errors.list.length > before || !line1 || !city || !postalCode) return undefined;
  // Optional lines left blank are dropped, so "" and absent compare equal.
  return {
    line1,
    ...(line2 ? { line2 } : {}),
    city,
    ...(region ? { region } : {}),
    postalCode,
    country: address.country,
  };
}

function cleanContactMethods(
  errors: FieldErrors,
  field: string,
  methods: readonly ContactMethod[],
): ContactMethod[] {
  return methods.map((method, index) => {
    const at = `${field}.${index}.value`;
    const value = method.value.trim();
    // E.164, and a length the country's numbering plan allows (libphonenumber-js, the same
    // "possible number" rule the SPA checks before sending).
    if (method.type === 'phone' && !(E164.test(value) && isPossiblePhoneNumber(value))) {
      errors.add(at, 'must be an E.164 phone number such as +15551234567');
    }
    if (method.type === 'email' && (value.length > 254 || !EMAIL.test(value))) {
      errors.add(at, 'must be an email address');
    }
    return { type: method.type, value, verified: method.verified };
  });
}

/**
 * Cleans and checks every given field of a patient input; 400 VALIDATION_FAILED naming each.
 * Every field given comes back (cleaned), so a complete input stays complete.
 */
export function cleanPatientInput<T extends PatientPatch>(body: T, today: Date): T {
  const errors = new FieldErrors();
  const out: PatientPatch = {};
  if (body.mrn !== undefined) {
    if (!new RegExp(MRN_PATTERN).test(body.mrn)) errors.add('body.mrn', 'has an invalid format');
    out.mrn = body.mrn;
  }
  for (const key of ['givenName', 'familyName'] as const) {
    const value = body[key];
    if (value !== undefined) {
      const clean = cleanText(errors, `body.${key}`, value, { required: true, maxLength: 100 });
      if (clean !== undefined) out[key] = clean;
    }
  }
  if (body.birthDate !== undefined) {
    checkBirthDate(errors, 'body.birthDate', body.birthDate, today);
    out.birthDate = body.birthDate;
  }
  if (body.sex !== undefined) out.sex = body.sex;
  if (body.address !== undefined) {
    out.address =
      body.address === null ? null : (cleanAddress(errors, 'body.address', body.address) ?? null);
  }
  if (body.contactMethods !== undefined) {
    out.contactMethods = cleanContactMethods(errors, 'body.contactMethods', body.contactMethods);
  }
  errors.throwIfAny();
  return out as T;
}

/** Checks the search filters (a name query, a real birth date); fills in the order and page size. */
export function cleanPatientFilters(
  body: Omit<PatientFilters, 'limit' | 'sort' | 'direction'> &
    Partial<Pick<PatientFilters, 'sort' | 'direction'>> & { limit?: number | undefined },
  today: Date,
): PatientFilters {
  const errors = new FieldErrors();
  const name =
    body.name === undefined
      ? undefined
      : cleanText(errors, 'body.name', body.name, { required: true, maxLength: 100 });
  if (body.birthDate !== undefined) checkBirthDate(errors, 'body.birthDate', body.birthDate, today);
  errors.throwIfAny();
  return {
    ...body,
    name,
    sort: body.sort ?? 'name',
    direction: body.direction ?? 'asc',
    limit: body.limit ?? DEFAULT_SEARCH_LIMIT,
  };
}
