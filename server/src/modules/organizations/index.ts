// The organizations module: memberships and the active organization, organization
// administration and member management (docs/api/clinical.md).
import { defineModule } from '../../platform/module-context.js';
import type { ClinicalModuleOptions } from '../identity/index.js';
import { registerOrganizationRoutes } from './routes.js';

/**
 * The module's front door: app.register(organizationsModule, options). Member invitations of
 * unknown emails go through identity's invitations.
 */
export const organizationsModule = defineModule<ClinicalModuleOptions>(
  (app, { context, identity }) => registerOrganizationRoutes(app, context, identity),
);

export { createdInThisTransaction, lockAccountByEmail, lockAccountById } from './members/repo.js';
