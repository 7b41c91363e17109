// tus 1.0 through the server (F2): creation (POST), progress (HEAD), bytes (PATCH) and
// termination (DELETE), plus the caller's unfinished uploads. Every route is the uploader's own:
// another person's upload id is 404 (Z4).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { HavenError } from '../../../platform/errors.js';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { FilesSettings } from '../shared/settings.js';
import { NoContent, RawBody } from '../shared/schemas.js';
import { OpenUploadList, UploadParams } from './schemas.js';
import { appendChunk } from './append.js';
import { cancelUpload, listOpenUploads, startUpload, uploadProgress } from './service.js';
import {
  OFFSET_CONTENT_TYPE,
  TUS_CHECKSUM_ALGORITHMS,
  TUS_EXTENSIONS,
  TUS_VERSION,
  assertTusVersion,
  byteCountHeader,
  parseChecksum,
  parseMetadata,
  progressHeaders,
} from './tus.js';

export const TUS_PATH = '/api/files/uploads';

/**
 * A PATCH refused before its body was read to the end (a full disk, the database away, the
 * upload taken over) leaves the rest of the body in the connection, where the next request on it
 * would wait behind bytes nobody reads: the answer closes the connection instead.
 */
function closeIfBodyUnread(request: FastifyRequest, reply: FastifyReply, error: unknown): never {
  if (!request.raw.complete) reply.header('connection', 'close');
  throw error;
}

export function registerUploadRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<FilesSettings>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const write = requireScopes(['files:write']);

  // PATCH bodies are read by the handler as they arrive, part by part, never buffered whole.
  app.addContentTypeParser(OFFSET_CONTENT_TYPE, (_request, _payload, done) =>
    done(null, undefined),
  );
  // Every tus answer names the protocol version, errors included.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith(TUS_PATH) && request.method !== 'GET') {
      reply.header('tus-resumable', TUS_VERSION);
    }
    done(null, payload);
  });

  typed.post(
    TUS_PATH,
    {
      config: { access: write, rateClass: 'upload' },
      bodyLimit: 1,
      schema: { body: RawBody, response: { 201: NoContent } },
    },
    async (request, reply) => {
      assertTusVersion(request.headers);
      if (request.headers['upload-defer-length'] !== undefined) {
        throw new HavenError(
          'BAD_REQUEST',
          'Upload-Defer-Length is not supported: send Upload-Length.',
        );
      }
      const length = byteCountHeader(request.headers, 'upload-length');
      const metadata = parseMetadata(request.headers);
      const name = metadata.get('filename') ?? metadata.get('name');
      if (!name) {
        throw new HavenError('VALIDATION_FAILED', 'filename: the file needs a name.', {
          errors: [{ field: 'filename', message: 'The file needs a name.' }],
        });
      }
      const progress = await startUpload(
        ctx,
        request,
        {
          name,
          size: length,
          sha256: metadata.get('sha256') || undefined,
          patientId: metadata.get('patientId') || undefined,
          bucketId: metadata.get('bucketId') || undefined,
        },
        'tus',
      );
      return reply
        .code(201)
        .headers({
          ...progressHeaders(0, length, progress.session.expires_at),
          location: `${TUS_PATH}/${progress.session.id}`,
          'tus-extension': TUS_EXTENSIONS,
          'tus-max-size': String(ctx.settings.maxFileBytes),
          'tus-checksum-algorithm': TUS_CHECKSUM_ALGORITHMS.join(','),
        })
        .send(null);
    },
  );

  typed.route({
    method: 'HEAD',
    url: `${TUS_PATH}/:uploadId`,
    config: { access: write, rateClass: 'upload' },
    schema: { params: UploadParams, response: { 200: NoContent } },
    handler: async (request, reply) => {
      assertTusVersion(request.headers);
      const progress = await uploadProgress(ctx, request, request.params.uploadId);
      if (progress.fileId) reply.header('haven-file-id', progress.fileId);
      return reply
        .code(200)
        .headers(progressHeaders(progress.offset, progress.length, progress.session.expires_at))
        .send(null);
    },
  });

  typed.patch(
    `${TUS_PATH}/:uploadId`,
    {
      config: { access: write, rateClass: 'upload' },
      schema: {
        params: UploadParams,
        body: RawBody,
        consumes: [OFFSET_CONTENT_TYPE],
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      assertTusVersion(request.headers);
      const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== OFFSET_CONTENT_TYPE) {
        throw new HavenError('UNSUPPORTED_MEDIA_TYPE', `Send bytes as ${OFFSET_CONTENT_TYPE}.`);
      }
      const offset = byteCountHeader(request.headers, 'upload-offset');
      const declared = request.headers['content-length'];
      const progress = await appendChunk(ctx, request, {
        sessionId: request.params.uploadId,
        offset,
        contentLength: declared === undefined ? undefined : Number(declared),
        checksum: parseChecksum(request.headers),
        body: request.raw,
      }).catch((error: unknown) => closeIfBodyUnread(request, reply, error));
      if (progress.fileId) reply.header('haven-file-id', progress.fileId);
      return reply
        .code(204)
        .headers(progressHeaders(progress.offset, progress.length, progress.session.expires_at))
        .send(null);
    },
  );

  typed.delete(
    `${TUS_PATH}/:uploadId`,
    {
      config: { access: write, rateClass: 'upload' },
      schema: { params: UploadParams, response: { 204: NoContent } },
    },
    async (request, reply) => {
      assertTusVersion(request.headers);
      await cancelUpload(ctx, request, request.params.uploadId);
      return reply.code(204).send(null);
    },
  );

  typed.get(
    TUS_PATH,
    {
      config: { access: requireScopes(['files:read']), rateClass: 'read' },
      schema: { response: { 200: OpenUploadList } },
    },
    async (request) => {
      const rows = await listOpenUploads(ctx, request);
      return {
        uploads: rows.map((row) => ({
          id: row.id,
          name: row.file_name,
          size: Number(row.declared_size),
          receivedBytes: Number(row.received_bytes),
          patientId: row.patient_id,
          protocol: row.protocol,
          createdAt: row.created_at.toISOString(),
          expiresAt: row.expires_at.toISOString(),
        })),
      };
    },
  );
}
