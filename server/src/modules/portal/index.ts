// The patient portal (/api/portal/*) and the account export (/api/account/export). Also the
// patient's view of their record, which break-glass shows an admin exactly as the patient sees it.
import { defineModule } from '../../platform/module-context.js';
import type { ClinicalModuleOptions } from '../identity/index.js';
import { registerAccountExportRoute } from './account-export/routes.js';
import { registerPortalRoutes } from './routes.js';

/** The module's front door: app.register(portalModule, options). */
export const portalModule = defineModule<ClinicalModuleOptions>((app, { context, identity }) => {
  registerPortalRoutes(app, context);
  registerAccountExportRoute(app, context, identity);
});

export { listSharedNotes, loadPatientRecordView } from './repo.js';
export {
  PatientRecordViewSchema,
  SHARED_NOTES_LIMIT,
  SharedNoteSchema,
  type PatientRecordView,
  type SharedNote,
} from './schemas.js';
