/** Shapes the server checks too: the SPA checks them first to point at the wrong field at once. */
import { fullFormats } from 'ajv-formats/dist/formats.js';

// The server's own email rule (ajv-formats' full `email` format, which Haven's request
// validation uses), imported rather than copied so the browser can never accept what the server
// refuses (issue 14: `a@b` passed here and failed there).
export const EMAIL_PATTERN: RegExp = fullFormats.email as RegExp;

/**
 * The browser's check of an email field, in the server's words for the same refusal: `whenEmpty`
 * for a field left empty, undefined when the server will accept it.
 */
export function emailProblem(value: string, whenEmpty: string): string | undefined {
  const email = value.trim();
  if (email === '') return whenEmpty;
  return EMAIL_PATTERN.test(email) && email.length <= 254
    ? undefined
    : 'Enter an email address like name@example.org.';
}
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A medical record number: a letter or digit, then letters, digits or dashes (up to 32). */
export const MRN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;
