// The organizations module: memberships and the active organization, organization
// administration and member management (docs/api/clinical.md).
import type { FastifyInstance } from 'fastify';
import type { IdentityContext } from '../identity/session-kit.js';
import { registerOrganizationRoutes } from './routes.js';

export function registerOrganizationModule(app: FastifyInstance, identity: IdentityContext): void {
  registerOrganizationRoutes(app, identity);
}
