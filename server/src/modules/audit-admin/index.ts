// Audit-log search and chain verification for admins (L3).
import type { FastifyPluginAsync } from 'fastify';
import type { ModuleContext } from '../../platform/module-context.js';
import type { IdentityApi } from '../identity/index.js';
import { registerAuditAdminRoutes } from './routes.js';

export interface AuditAdminModuleOptions {
  readonly context: ModuleContext<Record<string, never>>;
  /** Part of every module's options; audit administration needs nothing of identity. */
  readonly identity: IdentityApi;
}

/** The module's front door: app.register(auditAdminModule, options). */
export const auditAdminModule: FastifyPluginAsync<AuditAdminModuleOptions> = async (
  app,
  { context },
) => {
  registerAuditAdminRoutes(app, context);
};
