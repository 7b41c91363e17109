// S3 multipart straight to storage (F2): start, a presigned URL per part, record a part, list the
// recorded parts (resume), complete, abort. Same sessions, same 404 for anyone else's (Z4).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { Empty, NoContent } from '../shared/schemas.js';
import type { FilesSettings } from '../shared/settings.js';
import {
  completeMultipart,
  listRecordedParts,
  presignPart,
  recordPart,
  startMultipart,
} from './multipart.js';
import {
  MultipartCompleted,
  MultipartStart,
  MultipartStarted,
  PartParams,
  PartRecord,
  PartRecorded,
  PartUrl,
  RecordedParts,
  UploadParams,
} from './schemas.js';
import { cancelUpload } from './service.js';

export function registerMultipartRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<FilesSettings>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const write = requireScopes(['files:write']);

  typed.post(
    '/api/files/multipart',
    {
      config: { access: write, rateClass: 'upload' },
      bodyLimit: 4096,
      schema: { body: MultipartStart, response: { 201: MultipartStarted } },
    },
    async (request, reply) => {
      const started = await startMultipart(ctx, request, request.body);
      return reply.code(201).send({
        uploadId: started.session.id,
        partSize: started.partSize,
        partCount: Math.ceil(started.length / started.partSize),
        expiresAt: started.session.expires_at.toISOString(),
      });
    },
  );

  typed.post(
    '/api/files/multipart/:uploadId/parts/:partNumber/url',
    {
      config: { access: write, rateClass: 'upload' },
      bodyLimit: 1024,
      schema: { params: PartParams, body: Empty, response: { 200: PartUrl } },
    },
    async (request) =>
      presignPart(ctx, request, request.params.uploadId, request.params.partNumber),
  );

  typed.put(
    '/api/files/multipart/:uploadId/parts/:partNumber',
    {
      config: { access: write, rateClass: 'upload' },
      bodyLimit: 1024,
      schema: { params: PartParams, body: PartRecord, response: { 200: PartRecorded } },
    },
    async (request) => {
      const progress = await recordPart(ctx, request, {
        sessionId: request.params.uploadId,
        partNumber: request.params.partNumber,
        etag: request.body.etag,
        size: request.body.size,
      });
      return { receivedBytes: progress.offset, size: progress.length };
    },
  );

  typed.get(
    '/api/files/multipart/:uploadId/parts',
    {
      config: { access: write, rateClass: 'upload' },
      schema: { params: UploadParams, response: { 200: RecordedParts } },
    },
    async (request) => listRecordedParts(ctx, request, request.params.uploadId),
  );

  typed.post(
    '/api/files/multipart/:uploadId/complete',
    {
      config: { access: write, rateClass: 'upload' },
      bodyLimit: 1024,
      schema: { params: UploadParams, body: Empty, response: { 200: MultipartCompleted } },
    },
    async (request) => ({ fileId: await completeMultipart(ctx, request, request.params.uploadId) }),
  );

  typed.delete(
    '/api/files/multipart/:uploadId',
    {
      config: { access: write, rateClass: 'upload' },
      schema: { params: UploadParams, response: { 204: NoContent } },
    },
    async (request, reply) => {
      await cancelUpload(ctx, request, request.params.uploadId, 's3');
      return reply.code(204).send(null);
    },
  );
}
