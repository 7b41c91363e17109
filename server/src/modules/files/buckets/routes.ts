// Storage buckets (F1, Z5, Z6): the system default (read-only) and owned ones. Adding, changing
// and deleting need a fresh MFA check (step-up) and are audited; credentials are never returned.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { FilesSettings } from '../shared/settings.js';
import { NoContent } from '../shared/schemas.js';
import {
  BucketAnswer,
  BucketList,
  BucketParams,
  CreateBucketBody,
  UpdateBucketBody,
} from './schemas.js';
import { createBucket, deleteBucket, getBucket, listBuckets, updateBucket } from './service.js';
import { registerUploadRelayRoute } from './upload-relay.js';

export function registerBucketRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<FilesSettings>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const read = requireScopes(['files:read']);
  // Z5: bucket credentials and endpoints are privileged: MFA within the last five minutes.
  const manage = requireScopes(['files:write'], { stepUp: true });

  typed.get(
    '/api/files/buckets',
    {
      config: { access: read, rateClass: 'read' },
      schema: { response: { 200: BucketList } },
    },
    async (request) => ({ buckets: await listBuckets(ctx, request) }),
  );

  typed.get(
    '/api/files/buckets/:bucketId',
    {
      config: { access: read, rateClass: 'read' },
      schema: { params: BucketParams, response: { 200: BucketAnswer } },
    },
    async (request) => ({ bucket: await getBucket(ctx, request, request.params.bucketId) }),
  );

  typed.post(
    '/api/files/buckets',
    {
      config: { access: manage, rateClass: 'write' },
      bodyLimit: 8 * 1024,
      schema: { body: CreateBucketBody, response: { 201: BucketAnswer } },
    },
    async (request, reply) =>
      reply.code(201).send({ bucket: await createBucket(ctx, request, request.body) }),
  );

  typed.patch(
    '/api/files/buckets/:bucketId',
    {
      config: { access: manage, rateClass: 'write' },
      bodyLimit: 8 * 1024,
      schema: { params: BucketParams, body: UpdateBucketBody, response: { 200: BucketAnswer } },
    },
    async (request) => ({
      bucket: await updateBucket(ctx, request, request.params.bucketId, request.body),
    }),
  );

  typed.delete(
    '/api/files/buckets/:bucketId',
    {
      config: { access: manage, rateClass: 'write' },
      schema: { params: BucketParams, response: { 204: NoContent } },
    },
    async (request, reply) => {
      await deleteBucket(ctx, request, request.params.bucketId);
      return reply.code(204).send(null);
    },
  );

  registerUploadRelayRoute(app, ctx);
}
