/**
 * Phone numbers as people write them. Haven stores E.164 (+441632960961, the server's rule);
 * people type and read the national form of their organization's country ("01632 960961") and
 * see other countries' numbers in international form. libphonenumber-js carries Google's
 * numbering-plan metadata, which no pattern of ours could keep up with; the server checks the
 * same "possible number" rule with the same library.
 */
import {
  getCountryCallingCode,
  getExampleNumber,
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
} from 'libphonenumber-js/min';
import examples from 'libphonenumber-js/mobile/examples';

const E164 = /^\+[1-9][0-9]{6,14}$/;

function countryCode(country: string): CountryCode | undefined {
  return isSupportedCountry(country) ? country : undefined;
}

/**
 * A stored number for reading: national form for a valid number at home, international for the
 * rest, as stored if it cannot be read. "At home" compares calling codes, not countries (+44
 * serves the UK and the Channel Islands alike). A number outside the plan's assigned ranges is
 * shown internationally, so that what is shown can always be typed back (see readPhone).
 */
export function formatPhone(stored: string, country: string): string {
  const number = parsePhoneNumberFromString(stored);
  if (number === undefined) return stored;
  const home = countryCode(country);
  return home !== undefined &&
    number.countryCallingCode === getCountryCallingCode(home) &&
    number.isValid()
    ? number.formatNational()
    : number.formatInternational();
}

/** A stored number as it goes back into an input: the same form it is shown in. */
export const phoneForEditing = formatPhone;

/** An example of a number in the country's national form, for a hint ("e.g. 01632 960961"). */
export function phoneExample(country: string): string {
  const code = countryCode(country);
  const example = code === undefined ? undefined : getExampleNumber(code, examples);
  return example?.formatNational() ?? '+1 201 555 0123';
}

/**
 * What was typed, read in the country's national form unless it starts with + (or 00 where that dials out). A
 * national number must fall in the plan's assigned ranges: read leniently, a short number keeps
 * its trunk 0 as a digit ("01632 96" would become +44 0163296). An international one need only
 * have a possible length, the server's rule.
 */
export function readPhone(
  typed: string,
  country: string,
): { ok: true; e164: string } | { ok: false; problem: string } {
  const text = typed.trim();
  const number = parsePhoneNumberFromString(text, {
    defaultCountry: countryCode(country),
    extract: false,
  });
  const international = text.startsWith('+') || text.startsWith('00');
  const fits = number !== undefined && (international ? number.isPossible() : number.isValid());
  if (number === undefined || !fits || !E164.test(number.number)) {
    return {
      ok: false,
      problem: `Enter a phone number, e.g. ${phoneExample(country)}, or an international one starting with +.`,
    };
  }
  return { ok: true, e164: number.number };
}
