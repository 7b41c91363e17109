// Who may call the patients routes, and in which rate class: staff holding the scope (each use
// case then asks requireAccess about the record or the active organization). Shared by
// records, consents, notes and the portal invitation, with the typed app they register on.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
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

/** The app with TypeBox schemas typing each handler's request. */
export type TypedApp = ReturnType<typeof typedApp>;

export function typedApp(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}
