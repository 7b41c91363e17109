/**
 * Every date and time the SPA shows or sends, in one place. Display uses Intl with the reader's
 * locale and time zone; the API sends instants as ISO 8601 and calendar dates as YYYY-MM-DD.
 * A value that cannot be read is shown as it came, never as "Invalid Date".
 */

// One format for every instant, always with its time zone, so a clinician reading a time
// another site wrote knows which clock it is on (dateStyle/timeStyle cannot carry the zone).
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
});
const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: 'numeric',
  minute: '2-digit',
  timeZoneName: 'short',
});
// A calendar date names a day, not an instant: read and shown in UTC so no time zone moves it.
const calendarDateFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: 'medium',
  timeZone: 'UTC',
});

function parsed(value: string | Date): Date | null {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** An instant (ISO 8601) as date and time with its zone, e.g. "Nov 5, 2025, 3:04 PM UTC". */
export function formatDateTime(instant: string | Date): string {
  const date = parsed(instant);
  return date ? dateTimeFormat.format(date) : String(instant);
}

/** The time of day of an instant with its zone, e.g. "3:04 PM UTC". */
export function formatTime(instant: string | Date): string {
  const date = parsed(instant);
  return date ? timeFormat.format(date) : String(instant);
}

/** A calendar date (`YYYY-MM-DD`), e.g. "Nov 5, 1972". */
export function formatDate(day: string): string {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(day) ? parsed(`${day}T00:00:00Z`) : null;
  return date ? calendarDateFormat.format(date) : day;
}

/** The day of `date` in the reader's time zone as `YYYY-MM-DD` (today by default). */
export function localDay(date: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** A `datetime-local` input (the reader's time zone) as an ISO instant; null when empty or unreadable. */
export function instantFromLocalInput(local: string): string | null {
  if (!local) return null;
  const date = parsed(local);
  return date ? date.toISOString() : null;
}
