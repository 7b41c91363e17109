// An organization's country: an ISO 3166-1 alpha-2 code for which a telephone numbering plan
// is known, since the SPA uses it to read and show phone numbers in national form. The list
// comes from libphonenumber-js (Google's libphonenumber metadata, the same data the SPA uses),
// so the server never accepts a country the browser could not format for.
import { isSupportedCountry } from 'libphonenumber-js/min';
import { HavenError } from '../../platform/errors.js';

/** What the column defaults to, and what an organization created without a country gets. */
export const DEFAULT_COUNTRY = 'US';

/** The code itself; 400 VALIDATION_FAILED naming `country` when it is not one we know. */
export function checkCountry(code: string): string {
  if (!/^[A-Z]{2}$/.test(code) || !isSupportedCountry(code)) {
    const message = 'Choose a country from the list (a two-letter code such as US or GB).';
    throw new HavenError('VALIDATION_FAILED', message, { errors: [{ field: 'country', message }] });
  }
  return code;
}
