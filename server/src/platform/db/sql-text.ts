// Small SQL helpers every module's repository shares.

/** `%`, `_` and `\` typed into a search box are literal characters, not LIKE patterns. */
export const escapeLike = (text: string): string => text.replace(/[\\%_]/g, '\\$&');

/** True when the error is PostgreSQL's unique_violation (both engines report SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505'
  );
}
