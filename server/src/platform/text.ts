// Text checks shared by every module (V1): what a JSON schema cannot say about a string. Single-
// line text and prose are NFC-normalized and refuse invisible or reordering characters; birth
// dates must be real calendar days; phones are E.164. Each failure names the field and never
// echoes the value. FieldErrors gathers them into one 400 VALIDATION_FAILED answer.
import { HavenError, type FieldError } from './errors.js';

/**
 * Characters no font draws (Unicode's Default_Ignorable_Code_Point: zero-width space, direction
 * marks, word joiner, soft hyphen, Hangul fillers, tag characters, BOM): in a name, a title or
 * an address they let one look like another ("Dr\u200BSmith" reads as "DrSmith", a name of one
 * Hangul filler as blank). Kept: the joiners (ZWNJ and ZWJ: Persian and Indic spelling, emoji
 * sequences) and variation selectors (emoji, CJK and Mongolian forms), which shape visible
 * letters. Shared with the file-name check (file-checks/names.ts).
 */
export const INVISIBLE =
  /(?!\u200C|\u200D|[\u180B-\u180D]|\u180F|[\uFE00-\uFE0F]|[\u{E0100}-\u{E01EF}])\p{Default_Ignorable_Code_Point}/u;
/**
 * C0/C1 controls, lone surrogates, noncharacters and bidirectional overrides: invisible or
 * reordering characters in a name or address would let one record impersonate another on screen.
 */
const FORBIDDEN_IN_TEXT = /[\p{Cc}\p{Cs}\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]/u;
/** Free text (notes, document bodies) keeps tabs and line breaks, nothing else invisible. */
const FORBIDDEN_IN_PROSE =
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\p{Cs}\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]/u;
export const E164 = /^\+[1-9][0-9]{6,14}$/;
/** One @, a dot in the domain, no spaces, quotes or angle brackets; ≤ 64 local and ≤ 254 total. */
export const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** Length as PostgreSQL's length() and the schema's maxLength count it: in code points. */
const codePoints = (text: string): number => Array.from(text).length;

export class FieldErrors {
  readonly list: FieldError[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }
  throwIfAny(): void {
    const first = this.list[0];
    if (first) {
      throw new HavenError('VALIDATION_FAILED', `${first.field}: ${first.message}`, {
        errors: this.list,
      });
    }
  }
}

/** Trimmed, NFC-normalized single-line text; undefined (with an error recorded) when refused. */
export function cleanText(
  errors: FieldErrors,
  field: string,
  value: string,
  options: { required: boolean; maxLength: number },
): string | undefined {
  if (FORBIDDEN_IN_TEXT.test(value) || INVISIBLE.test(value)) {
    errors.add(field, 'must not contain control or invisible formatting characters');
    return undefined;
  }
  const clean = value.normalize('NFC').trim();
  if (options.required && clean.length === 0) {
    errors.add(field, 'must not be empty');
    return undefined;
  }
  if (codePoints(clean) > options.maxLength) {
    errors.add(field, `must be at most ${options.maxLength} characters`);
    return undefined;
  }
  return clean;
}

/** Multi-line free text: kept as written (NFC), but never blank or carrying invisible controls. */
export function cleanProse(
  errors: FieldErrors,
  field: string,
  value: string,
  maxLength: number,
): string | undefined {
  if (FORBIDDEN_IN_PROSE.test(value)) {
    errors.add(field, 'must not contain control or invisible formatting characters');
    return undefined;
  }
  const clean = value.normalize('NFC');
  if (clean.trim().length === 0) {
    errors.add(field, 'must not be empty');
    return undefined;
  }
  if (codePoints(clean) > maxLength) {
    errors.add(field, `must be at most ${maxLength} characters`);
    return undefined;
  }
  return clean;
}

/** `YYYY-MM-DD` of the given instant in UTC (the contract's time zone). */
export const isoDay = (instant: Date): string => instant.toISOString().slice(0, 10);

export function checkBirthDate(errors: FieldErrors, field: string, value: string, today: Date) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [];
  const date =
    year !== undefined && month !== undefined && day !== undefined
      ? new Date(Date.UTC(year, month - 1, day))
      : undefined;
  if (!date || isoDay(date) !== value) {
    errors.add(field, 'must be a real calendar date (YYYY-MM-DD)');
  } else if (value < '1900-01-01' || value > isoDay(today)) {
    errors.add(field, 'must be between 1900-01-01 and today');
  }
}
