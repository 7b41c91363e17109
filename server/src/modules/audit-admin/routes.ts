// Audit-log administration routes (L3): search and chain verification, for holders of
// audit:read (platform admins and machine clients granted it).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { requestContext } from '../../platform/http/request-context.js';
import { AuditPage, SearchQuery, VerifyAnswer, VerifyRequest } from './schemas.js';
import {
  searchAuditLog,
  verifyAuditLog,
  type AuditAdminActor,
  type AuditAdminContext,
} from './service.js';

/** Who is asking, as the audit trail names them. */
function auditActor(request: FastifyRequest): AuditAdminActor {
  const principal = requirePrincipal(request);
  return { type: principal.kind, id: principal.subject };
}

export function registerAuditAdminRoutes(app: FastifyInstance, context: AuditAdminContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/api/admin/audit-events',
    {
      config: { access: requireScopes(['audit:read']), rateClass: 'read' },
      schema: { querystring: SearchQuery, response: { 200: AuditPage } },
    },
    async (request) =>
      searchAuditLog(context, auditActor(request), request.query, requestContext(request)),
  );

  typed.post(
    '/api/admin/audit-log/verify',
    {
      config: { access: requireScopes(['audit:read']), rateClass: 'sensitive' },
      schema: { body: VerifyRequest, response: { 200: VerifyAnswer } },
    },
    async (request) => verifyAuditLog(context, auditActor(request), requestContext(request)),
  );
}
