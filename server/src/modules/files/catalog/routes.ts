// Files after upload: my files or a patient's, one file, delete, usage, download link, content.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { attachmentDisposition } from '../../../platform/storage/index.js';
import type { FilesSettings } from '../shared/settings.js';
import { Empty, NoContent } from '../shared/schemas.js';
import {
  DownloadContent,
  DownloadLink,
  DownloadQuery,
  FileAnswer,
  FileList,
  FileListQuery,
  FileParams,
  UsageAnswer,
} from './schemas.js';
import {
  createDownloadLink,
  deleteFile,
  getFile,
  listFiles,
  openDownload,
  usage,
} from './service.js';

export function registerCatalogRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<FilesSettings>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = requireScopes(['files:read']);
  const write = requireScopes(['files:write']);

  typed.get(
    '/api/files',
    {
      config: { access: read, rateClass: 'read' },
      schema: { querystring: FileListQuery, response: { 200: FileList } },
    },
    async (request) => ({ files: await listFiles(ctx, request, request.query.patientId) }),
  );

  typed.get(
    '/api/files/usage',
    {
      config: { access: read, rateClass: 'read' },
      schema: { response: { 200: UsageAnswer } },
    },
    async (request) => usage(ctx, request),
  );

  typed.get(
    '/api/files/:fileId',
    {
      config: { access: read, rateClass: 'read' },
      schema: { params: FileParams, response: { 200: FileAnswer } },
    },
    async (request) => ({ file: await getFile(ctx, request, request.params.fileId) }),
  );

  typed.delete(
    '/api/files/:fileId',
    {
      config: { access: write, rateClass: 'write' },
      schema: { params: FileParams, response: { 204: NoContent } },
    },
    async (request, reply) => {
      await deleteFile(ctx, request, request.params.fileId);
      return reply.code(204).send(null);
    },
  );

  typed.post(
    '/api/files/:fileId/download-link',
    {
      config: { access: read, rateClass: 'write' },
      bodyLimit: 1024,
      schema: { params: FileParams, body: Empty, response: { 200: DownloadLink } },
    },
    async (request) => createDownloadLink(ctx, request, request.params.fileId),
  );

  typed.get(
    '/api/files/:fileId/content',
    {
      config: { access: read, rateClass: 'read' },
      schema: {
        params: FileParams,
        querystring: DownloadQuery,
        response: { 200: DownloadContent, 206: DownloadContent },
      },
    },
    async (request, reply) => {
      const { object, name, range } = await openDownload(ctx, request, {
        fileId: request.params.fileId,
        expires: request.query.expires,
        signature: request.query.signature,
        range: request.headers.range,
      });
      reply.headers({
        // F6: never rendered inline, never cached, never sniffed into something executable.
        'content-type': object.contentType,
        'content-disposition': attachmentDisposition(name),
        'content-length': String(object.contentLength),
        'cache-control': 'private, no-store',
        'x-content-type-options': 'nosniff',
        'content-security-policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
        'accept-ranges': 'bytes',
      });
      if (range) {
        reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${object.size}`);
      }
      return reply.send(object.stream);
    },
  );
}
