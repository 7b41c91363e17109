// The patient portal (/api/portal/*) and the account export (/api/account/export).
import type { FastifyInstance } from 'fastify';
import type { IdentityContext } from '../identity/session-kit.js';
import { registerAccountExportRoute } from './account-export.js';
import { registerPortalRoutes } from './routes.js';

export function registerPortalModule(app: FastifyInstance, identity: IdentityContext): void {
  registerPortalRoutes(app, identity);
  registerAccountExportRoute(app, identity);
}
