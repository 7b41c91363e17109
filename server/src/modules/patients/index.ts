// Patients, consents and clinical notes of the active organization (docs/api/clinical.md).
import type { FastifyInstance } from 'fastify';
import type { IdentityContext } from '../identity/session-kit.js';
import { registerConsentRoutes } from './consent-routes.js';
import { registerNoteRoutes } from './note-routes.js';
import { registerPatientRoutes } from './patient-routes.js';

export function registerPatientModule(app: FastifyInstance, identity: IdentityContext): void {
  registerPatientRoutes(app, identity);
  registerConsentRoutes(app, identity);
  registerNoteRoutes(app, identity);
}
