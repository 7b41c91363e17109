// Audit-log search and chain verification for admins (L3).
import type { FastifyInstance } from 'fastify';
import type { IdentityContext } from '../identity/session-kit.js';
import { registerAuditAdminRoutes } from './routes.js';

export function registerAuditAdminModule(app: FastifyInstance, identity: IdentityContext): void {
  registerAuditAdminRoutes(app, identity);
}
