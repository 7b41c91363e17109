// Audit-log administration routes (L3): search and chain verification, for holders of
// audit:read (platform admins and machine clients granted it).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../platform/http/route-contract.js';
import { requirePrincipal } from '../../platform/auth/access.js';
import { requestContext } from '../../platform/http/request-context.js';
import {
  ActionCatalogue,
  AuditPage,
  ExportBody,
  ExportQuery,
  SearchQuery,
  VerifyAnswer,
  VerifyRequest,
} from './schemas.js';
import {
  actionCatalogue,
  EXPORT_ROW_CAP,
  exportAuditLog,
  searchAuditLog,
  verifyAuditLog,
  type AuditAdminActor,
  type AuditAdminContext,
} from './service.js';
import { nameTargets } from './target-names.js';

/**
 * The audit log's reads serve, besides people holding audit:read, machine clients granted it: a
 * SIEM pulling the log with client credentials (A12). No other route of Haven's serves them.
 */
export const AUDIT_CALLERS = { serves: ['machine-client'] } as const;

/** Who is asking, as the audit trail names them. */
export function auditActor(request: FastifyRequest): AuditAdminActor {
  const principal = requirePrincipal(request);
  return { type: principal.kind, id: principal.subject };
}

export function registerAuditAdminRoutes(app: FastifyInstance, context: AuditAdminContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/api/admin/audit-events',
    {
      config: { access: requireScopes(['audit:read'], AUDIT_CALLERS), rateClass: 'read' },
      schema: { querystring: SearchQuery, response: { 200: AuditPage } },
    },
    async (request) =>
      searchAuditLog(
        context,
        auditActor(request),
        request.query,
        requestContext(request),
        (targets) => nameTargets(context.db, request, targets),
      ),
  );

  // Static paths: find-my-way matches them before any parametric sibling.
  typed.get(
    '/api/admin/audit-events/export.csv',
    {
      config: { access: requireScopes(['audit:read'], AUDIT_CALLERS), rateClass: 'sensitive' },
      schema: { querystring: ExportQuery, response: { 200: ExportBody } },
    },
    async (request, reply) => {
      const result = await exportAuditLog(
        context,
        auditActor(request),
        request.query,
        requestContext(request),
      );
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:]/g, '-');
      return (
        reply
          .type('text/csv; charset=utf-8')
          // The file name is built from a timestamp only: nothing to escape.
          .header('content-disposition', `attachment; filename="haven-audit-${stamp}Z.csv"`)
          .header('cache-control', 'no-store')
          // The cap is stated where a script or a person can see it: rows in the file, the cap,
          // and whether older matching events were left out.
          .header('haven-export-rows', String(result.rows))
          .header('haven-export-row-cap', String(EXPORT_ROW_CAP))
          .header('haven-export-truncated', String(result.truncated))
          .send(result.csv)
      );
    },
  );

  typed.get(
    '/api/admin/audit-events/actions',
    {
      config: { access: requireScopes(['audit:read'], AUDIT_CALLERS), rateClass: 'read' },
      schema: { response: { 200: ActionCatalogue } },
    },
    async () => actionCatalogue(context),
  );

  typed.post(
    '/api/admin/audit-log/verify',
    {
      config: { access: requireScopes(['audit:read'], AUDIT_CALLERS), rateClass: 'sensitive' },
      schema: { body: VerifyRequest, response: { 200: VerifyAnswer } },
    },
    async (request) => verifyAuditLog(context, auditActor(request), requestContext(request)),
  );
}
