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

/**
 * The age as people say it: years from two on, months for an infant, days in the first month
 * ("53 years", "14 months", "9 days"); null when the date is unreadable or in the future.
 */
export function ageLabel(birthDate: string, now: Date = new Date()): string | null {
  const years = ageInYears(birthDate, now);
  if (years === null) return null;
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (years >= 2) return plural(years, 'year');
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number, number];
  let months = (now.getFullYear() - year) * 12 + (now.getMonth() + 1 - month);
  if (now.getDate() < day) months -= 1;
  if (months >= 1) return plural(months, 'month');
  const born = new Date(year, month - 1, day);
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return plural(Math.max(0, Math.round((today.getTime() - born.getTime()) / 86_400_000)), 'day');
}

/** A birth date with the age, e.g. "Nov 5, 1972 (53 years)". */
export function formatBirthDate(birthDate: string): string {
  const age = ageInYears(birthDate);
  const date = formatDate(birthDate);
  if (age === null) return date;
  return `${date} (${age === 1 ? '1 year' : `${age} years`})`;
}
