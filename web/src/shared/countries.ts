/**
 * Countries by name. The codes offered are those with a known telephone numbering plan
 * (libphonenumber-js), which is also what the server accepts as an organization's country;
 * names come from the browser's own Intl data, in the reader's language.
 */
import { getCountries } from 'libphonenumber-js/min';

/** "Germany" for DE; the code itself when the browser has no name for it. */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(undefined, { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}

let choices: Array<{ value: string; label: string }> | undefined;

/** Every country as a select choice, sorted by name; `also` adds a code the list lacks. */
export function countryChoices(also?: string): ReadonlyArray<{ value: string; label: string }> {
  choices ??= getCountries()
    .map((value) => ({ value, label: countryName(value) }))
    .sort((a, b) => a.label.localeCompare(b.label));
  if (also && /^[A-Z]{2}$/.test(also) && !choices.some((c) => c.value === also)) {
    return [...choices, { value: also, label: countryName(also) }];
  }
  return choices;
}
