// A UNIQUE index is the last word on a race the use case checked for first (two requests
// creating the same name at once): its violation is answered like the check's own refusal.
import { isUniqueViolation } from './db/sql-text.js';

/**
 * For `.catch(...)` on a write: a unique violation becomes `conflict()` (the 409 the use case
 * gives when its own check finds the clash); any other error passes on unchanged.
 */
export function onUniqueViolation(conflict: () => Error): (error: unknown) => never {
  return (error) => {
    if (isUniqueViolation(error)) throw conflict();
    throw error;
  };
}
