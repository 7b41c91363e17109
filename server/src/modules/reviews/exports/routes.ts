// Exports of a study (issue 10): four row exports as CSV or NDJSON, keyset-paginated, and the
// study archive as a ZIP. All are streamed; each is an audit event.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import {
  ArchiveParams,
  DEFAULT_EXPORT_LIMIT,
  ExportBody,
  ExportParams,
  ExportQuery,
} from './schemas.js';
import { openArchive, openExport, type ExportStream } from './service.js';

function sendStream(reply: FastifyReply, stream: ExportStream, nextLink: string | undefined) {
  reply
    .type(stream.contentType)
    // The filename is built from a UUID and a fixed kind: nothing to escape.
    .header('content-disposition', `attachment; filename="${stream.filename}"`)
    .header('cache-control', 'no-store');
  if (nextLink !== undefined) reply.header('link', `<${nextLink}>; rel="next"`);
  return reply.send(stream.body);
}

export function registerExportRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<Record<string, never>>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  // Registered before /exports/:kind for the reader; find-my-way prefers the static segment
  // anyway, and `kind` only admits the four export names.
  typed.get(
    '/api/studies/:studyId/exports/archive',
    {
      config: { access: requireScopes(['exports:read']), rateClass: 'sensitive' },
      schema: { params: ArchiveParams, response: { 200: ExportBody } },
    },
    async (request, reply) => {
      const stream = await openArchive(ctx, request, request.params.studyId);
      return sendStream(reply, stream, undefined);
    },
  );

  typed.get(
    '/api/studies/:studyId/exports/:kind',
    {
      config: { access: requireScopes(['exports:read']), rateClass: 'read' },
      schema: { params: ExportParams, querystring: ExportQuery, response: { 200: ExportBody } },
    },
    async (request, reply) => {
      const { studyId, kind } = request.params;
      const format = request.query.format ?? 'csv';
      const limit = request.query.limit ?? DEFAULT_EXPORT_LIMIT;
      const stream = await openExport(ctx, request, {
        studyId,
        kind,
        format,
        since: request.query.since,
        after: request.query.after,
        limit,
      });
      let nextLink: string | undefined;
      if (stream.next !== undefined) {
        const query = new URLSearchParams({ format, limit: String(limit), after: stream.next });
        if (request.query.since !== undefined) query.set('since', request.query.since);
        nextLink = `/api/studies/${studyId}/exports/${kind}?${query.toString()}`;
      }
      return sendStream(reply, stream, nextLink);
    },
  );
}
