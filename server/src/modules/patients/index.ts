// Patients, consents and clinical notes of the active organization (docs/api/clinical.md).
// The front door: the plugin, and the consent rules the patient portal and break-glass share.
import { defineModule } from '../../platform/module-context.js';
import type { ClinicalModuleOptions } from '../identity/index.js';
import { registerConsentRoutes } from './consents/routes.js';
import { registerNoteRoutes } from './notes/routes.js';
import { registerPortalInvitationRoutes } from './portal-invitation/routes.js';
import { registerRecentPatientRoutes } from './recent/routes.js';
import { registerRecordRoutes } from './records/routes.js';
import { typedApp } from './route-access.js';

/** The module's front door: app.register(patientsModule, options). */
export const patientsModule = defineModule<ClinicalModuleOptions>((app, { context, identity }) => {
  const typed = typedApp(app);
  registerRecentPatientRoutes(typed, context);
  registerRecordRoutes(typed, context);
  registerPortalInvitationRoutes(typed, context, identity);
  registerConsentRoutes(typed, context.db);
  registerNoteRoutes(typed, context.db);
});

export {
  ConsentDocumentSchema,
  ConsentGateSchema,
  ConsentRecordSchema,
  type ConsentDocumentView,
  type ConsentGateView,
  type ConsentRecordView,
} from './consents/schemas.js';
export { currentNoteVersions } from './notes/repo.js';
export { patientColumns, patientNameStartsWith } from './records/repo.js';
export { assertRecordOpen, demographicsOf } from './records/service.js';
export {
  auditConsentChange,
  consentGate,
  listConsentDocuments,
  listPatientConsents,
  recordConsent,
  requireConsent,
  withdrawConsent,
} from './consents/service.js';
