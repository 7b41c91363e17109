/** Readable birth dates and places for clinical pages (the API sends YYYY-MM-DD and ISO codes). */
import { formatDate } from '../../shared/dates';

/** Whole years between a `YYYY-MM-DD` birth date and `now`; null when the date is unreadable. */
export function ageInYears(birthDate: string, now: Date = new Date()): number | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthDate);
  if (!match) return null;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  let age = now.getFullYear() - year;
  if (now.getMonth() + 1 < month || (now.getMonth() + 1 === month && now.getDate() < day)) {
    age -= 1;
  }
  return age >= 0 ? age : null;
}

/** A birth date with the age, e.g. "Nov 5, 1972 (53 years)". */
export function formatBirthDate(birthDate: string): string {
  const age = ageInYears(birthDate);
  const date = formatDate(birthDate);
  if (age === null) return date;
  return `${date} (${age === 1 ? '1 year' : `${age} years`})`;
}

/** An ISO 3166 country code as its name ("US" → "United States"); the code when unknown. */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(undefined, { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}
