/** When a failed call is worth trying again, and how long to wait first (Retry-After). */
import { ApiError } from '../shared/api';

/** Longest wait between attempts, whatever Retry-After says. */
const MAX_RETRY_DELAY_MS = 60_000;

/** Refused for now, not for good: rate limited, unavailable, or no answer at all. */
export function isTransient(err: unknown): err is ApiError {
  return (
    err instanceof ApiError &&
    (err.status === 0 ||
      err.status === 429 ||
      err.status === 502 ||
      err.status === 503 ||
      err.status === 504)
  );
}

/** How long to wait before trying again: Retry-After (seconds or a date), else `fallbackMs`. */
export function retryDelayMs(err: ApiError, fallbackMs: number): number {
  const header = err.retryAfter?.trim();
  let ms = fallbackMs;
  if (header && /^\d+$/.test(header)) ms = Number(header) * 1000;
  else if (header && !Number.isNaN(Date.parse(header))) ms = Date.parse(header) - Date.now();
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(250, ms));
}

export const wait = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));
