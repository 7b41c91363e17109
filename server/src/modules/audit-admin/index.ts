// Audit-log search and chain verification for admins (L3).
import type { FastifyPluginAsync } from 'fastify';
import type { ModuleContext } from '../../platform/module-context.js';
import type { IdentityApi } from '../identity/index.js';
import { registerAuditAdminRoutes } from './routes.js';

export interface AuditAdminModuleOptions {
  readonly context: ModuleContext<Record<string, never>>;
  readonly identity: IdentityApi;
}

/** The module's front door: app.register(auditAdminModule, options). */
export const auditAdminModule: FastifyPluginAsync<AuditAdminModuleOptions> = async (
  app,
  { identity },
) => {
  const legacy = identity.legacyContext;
  registerAuditAdminRoutes(app, legacy);
};
