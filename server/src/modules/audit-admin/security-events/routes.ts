// GET /api/admin/audit-events/security: the administrator's home panel in one request, for
// holders of audit:read, like the search whose entries it answers with.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import { requestContext } from '../../../platform/http/request-context.js';
import { AUDIT_CALLERS, auditActor } from '../routes.js';
import { SecurityEventList } from '../schemas.js';
import type { AuditAdminContext } from '../service.js';
import { nameTargets } from '../target-names.js';
import { SecurityEventsQuery } from './schemas.js';
import { listSecurityEvents } from './service.js';

export function registerSecurityEventRoutes(
  app: FastifyInstance,
  context: AuditAdminContext,
): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/admin/audit-events/security',
    {
      config: { access: requireScopes(['audit:read'], AUDIT_CALLERS), rateClass: 'read' },
      schema: { querystring: SecurityEventsQuery, response: { 200: SecurityEventList } },
    },
    async (request) =>
      listSecurityEvents(
        context,
        auditActor(request),
        request.query,
        requestContext(request),
        (targets) => nameTargets(context.db, request, targets),
      ),
  );
}
