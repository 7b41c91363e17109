// Break-glass access to one patient record (Z5): request, use, list and revoke grants.
import type { FastifyInstance } from 'fastify';
import type { IdentityContext } from '../identity/session-kit.js';
import { registerBreakGlassRoutes } from './routes.js';

export function registerBreakGlassModule(app: FastifyInstance, identity: IdentityContext): void {
  registerBreakGlassRoutes(app, identity);
}
