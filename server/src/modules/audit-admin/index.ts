// Audit-log search, the administrator's security events and chain verification for admins (L3).
import type { FastifyPluginAsync } from 'fastify';
import type { IdentityApi } from '../identity/index.js';
import { registerAuditAdminRoutes } from './routes.js';
import { registerSecurityEventRoutes } from './security-events/routes.js';
import type { AuditAdminContext } from './service.js';

export type { AuditAdminSettings } from './service.js';

export interface AuditAdminModuleOptions {
  readonly context: AuditAdminContext;
  /** Part of every module's options; audit administration needs nothing of identity. */
  readonly identity: IdentityApi;
}

/** The module's front door: app.register(auditAdminModule, options). */
export const auditAdminModule: FastifyPluginAsync<AuditAdminModuleOptions> = async (
  app,
  { context },
) => {
  registerAuditAdminRoutes(app, context);
  registerSecurityEventRoutes(app, context);
};
