// Patients, consents and clinical notes of the active organization (docs/api/clinical.md).
import type { FastifyPluginAsync } from 'fastify';
import type { ModuleContext } from '../../platform/module-context.js';
import type { IdentityApi } from '../identity/index.js';
import { registerConsentRoutes } from './consent-routes.js';
import { registerNoteRoutes } from './note-routes.js';
import { registerPatientRoutes } from './patient-routes.js';

export interface PatientsModuleOptions {
  readonly context: ModuleContext<Record<string, never>>;
  readonly identity: IdentityApi;
}

/** The module's front door: app.register(patientsModule, options). */
export const patientsModule: FastifyPluginAsync<PatientsModuleOptions> = async (
  app,
  { identity },
) => {
  const legacy = identity.legacyContext;
  registerPatientRoutes(app, legacy);
  registerConsentRoutes(app, legacy);
  registerNoteRoutes(app, legacy);
};
