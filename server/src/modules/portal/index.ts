// The patient portal (/api/portal/*) and the account export (/api/account/export).
import type { FastifyPluginAsync } from 'fastify';
import type { ModuleContext } from '../../platform/module-context.js';
import type { IdentityApi } from '../identity/index.js';
import { registerAccountExportRoute } from './account-export.js';
import { registerPortalRoutes } from './routes.js';

export interface PortalModuleOptions {
  readonly context: ModuleContext<Record<string, never>>;
  readonly identity: IdentityApi;
}

/** The module's front door: app.register(portalModule, options). */
export const portalModule: FastifyPluginAsync<PortalModuleOptions> = async (app, { identity }) => {
  const legacy = identity.legacyContext;
  registerPortalRoutes(app, legacy);
  registerAccountExportRoute(app, legacy);
};
