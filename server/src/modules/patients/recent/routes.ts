// GET /api/patients/recent: the caller's own most recently opened patients of the active
// organization (the clinician's home page), newest first, by name and MRN.
import type { ModuleContext } from '../../../platform/module-context.js';
import { PATIENTS_READ, type TypedApp } from '../route-access.js';
import { RecentPatients } from './schemas.js';
import { listRecentPatients } from './service.js';

export function registerRecentPatientRoutes(typed: TypedApp, context: ModuleContext): void {
  typed.get(
    '/api/patients/recent',
    { config: PATIENTS_READ, schema: { response: { 200: RecentPatients } } },
    async function recentPatientsRoute(request) {
      return listRecentPatients(context.db, request, context.now());
    },
  );
}
