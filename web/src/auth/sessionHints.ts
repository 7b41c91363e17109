/**
 * What this browser remembers of the session across reloads, in localStorage: nothing secret,
 * only whether a session may exist and its expiry times. Blocked storage is never fatal.
 */

/**
 * A non-secret "this browser may have a session" flag, so a first visit does not start with
 * a failing /api/auth/me (an error in the console, and a wasted refresh). It holds no token:
 * the session itself lives only in HttpOnly cookies, the CSRF token only in memory.
 */
const SESSION_HINT_KEY = 'haven.mayHaveSession';
/** The session's expiry times (epoch ms), so a reload need not refresh to learn them. */
const TIMINGS_KEY = 'haven.sessionTimings';

export interface Timings {
  accessExpiresAt: number;
  idleExpiresAt: number;
}

export function readTimings(): Timings | null {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(TIMINGS_KEY) ?? 'null');
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { accessExpiresAt, idleExpiresAt } = parsed as Record<string, unknown>;
    if (typeof accessExpiresAt !== 'number' || typeof idleExpiresAt !== 'number') return null;
    return { accessExpiresAt, idleExpiresAt };
  } catch {
    return null;
  }
}

export function writeTimings(timings: Timings | null): void {
  try {
    if (timings) localStorage.setItem(TIMINGS_KEY, JSON.stringify(timings));
    else localStorage.removeItem(TIMINGS_KEY);
  } catch {
    // storage blocked: a reload refreshes to learn the times
  }
}

export function readSessionHint(): boolean {
  try {
    return localStorage.getItem(SESSION_HINT_KEY) === '1';
  } catch {
    return true; // storage blocked: ask the server
  }
}

export function writeSessionHint(present: boolean): void {
  try {
    if (present) localStorage.setItem(SESSION_HINT_KEY, '1');
    else localStorage.removeItem(SESSION_HINT_KEY);
  } catch {
    // storage blocked: boot will simply ask the server
  }
}
