// Who may call the patients routes, and in which rate class: staff holding the scope, in the
// active organization (each use case resolves it). Shared by records, consents and notes.
import { requireScopes } from '../../platform/http/route-contract.js';

export const PATIENTS_READ = {
  access: requireScopes(['patients:read']),
  rateClass: 'read',
} as const;
export const PATIENTS_WRITE = {
  access: requireScopes(['patients:write']),
  rateClass: 'write',
} as const;
export const NOTES_WRITE = { access: requireScopes(['notes:write']), rateClass: 'write' } as const;
