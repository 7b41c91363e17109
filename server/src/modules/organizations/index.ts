// The organizations module: memberships and the active organization, organization
// administration and member management (docs/api/clinical.md).
import type { FastifyPluginAsync } from 'fastify';
import type { ModuleContext } from '../../platform/module-context.js';
import type { IdentityApi } from '../identity/index.js';
import { registerOrganizationRoutes } from './routes.js';

export interface OrganizationsModuleOptions {
  readonly context: ModuleContext<Record<string, never>>;
  /** Member invitations of unknown emails go through identity's invitations. */
  readonly identity: IdentityApi;
}

/** The module's front door: app.register(organizationsModule, options). */
export const organizationsModule: FastifyPluginAsync<OrganizationsModuleOptions> = async (
  app,
  { context, identity },
) => {
  registerOrganizationRoutes(app, context, identity);
};
