// The clinical modules (organizations, patients, consents, notes, portal, break-glass, audit
// administration), registered after identity so they inherit every platform control.
import type { FastifyInstance } from 'fastify';
import type { IdentityContext } from '../identity/session-kit.js';
import { registerAuditAdminModule } from '../audit-admin/index.js';
import { registerBreakGlassModule } from '../break-glass/index.js';
import { registerPortalModule } from '../portal/index.js';
import { registerOrganizationModule } from '../organizations/index.js';
import { registerPatientModule } from '../patients/index.js';

export function registerClinicalModules(app: FastifyInstance, identity: IdentityContext): void {
  registerOrganizationModule(app, identity);
  registerPatientModule(app, identity);
  registerPortalModule(app, identity);
  registerBreakGlassModule(app, identity);
  registerAuditAdminModule(app, identity);
}
