// The upload relay of an owned bucket (F2, T3, Z4): a tiny same-origin document the SPA frames,
// hidden, to PUT S3 multipart parts straight to that bucket. The SPA document's CSP names only
// the default storage's origin in connect-src; an owned bucket's origin is named only by this
// document's own CSP, so the page itself never gains a new place to send data, and the relay's
// script (web: uploadRelayFrame.ts, no inline code) sends only PUTs to the origin baked in here.
// Served only to a caller who may upload into the bucket (`bucket:use`, 404 for anyone else).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireAccess } from '../../../platform/access/index.js';
import { HavenError } from '../../../platform/errors.js';
import { OutboundRequestError } from '../../../platform/http-client.js';
import { escapeHtml } from '../../../platform/html.js';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { directUploadOrigin } from '../../../platform/storage/upload-origin.js';
import { withBucket } from '../shared/bucket-storage.js';
import type { FilesSettings } from '../shared/settings.js';
import { BucketParams, DEFAULT_BUCKET_ID } from './schemas.js';

type FilesContext = ModuleContext<FilesSettings>;

/** The relay's script, a Vite entry of the SPA build with a fixed name (web/vite.config.ts). */
export const UPLOAD_RELAY_SCRIPT = '/assets/upload-relay.js';

/**
 * The relay document's whole policy: its own script, PUTs to its bucket's origin only, framed by
 * Haven's own pages only, nothing else (T3).
 */
export function uploadRelayPolicy(bucketOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `connect-src ${bucketOrigin}`,
    "frame-ancestors 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function uploadRelayDocument(bucketOrigin: string): string {
  return [
    '<!doctype html>',
    `<html lang="en" data-upload-origin="${escapeHtml(bucketOrigin)}">`,
    '<head><meta charset="utf-8"><title>Haven upload relay</title>',
    `<script type="module" src="${UPLOAD_RELAY_SCRIPT}"></script></head>`,
    '<body></body>',
    '</html>',
  ].join('\n');
}

/** The origin the caller's uploads into this bucket go to; 404 for a bucket they may not use. */
export async function uploadRelayOrigin(
  ctx: FilesContext,
  request: FastifyRequest,
  bucketId: string,
): Promise<string> {
  if (bucketId === DEFAULT_BUCKET_ID) {
    throw new HavenError(
      'NOT_FOUND',
      'The default storage has no upload relay: the page sends its parts itself.',
    );
  }
  // Z4: the same check as starting an upload into the bucket (deny by default, 404); only then
  // is the bucket's driver opened, which V5 refuses for a host taken off the allowlist since.
  await requireAccess(ctx.db, request, 'bucket:use', { bucketId });
  const bucketCtx = await withBucket(ctx, bucketId, { active: true }).catch((error: unknown) => {
    if (!(error instanceof OutboundRequestError)) throw error;
    throw new HavenError(
      'CONFLICT',
      'Haven may no longer connect to this bucket’s storage address. Ask an administrator to allow its host.',
    );
  });
  const origin = await directUploadOrigin(bucketCtx.settings.storage);
  if (origin === null) {
    throw new HavenError(
      'CONFLICT',
      'This bucket takes uploads through the server: use the tus endpoint /api/files/uploads.',
    );
  }
  return origin;
}

export function registerUploadRelayRoute(app: FastifyInstance, ctx: FilesContext): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/api/files/buckets/:bucketId/upload-relay',
    {
      config: { access: requireScopes(['files:write']), rateClass: 'read' },
      schema: {
        params: BucketParams,
        response: { 200: Type.String({ description: 'the relay document (text/html)' }) },
      },
    },
    async (request, reply) => {
      const origin = await uploadRelayOrigin(ctx, request, request.params.bucketId);
      // This response alone replaces the global CSP and allows framing by Haven's own pages.
      return reply
        .headers({
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': uploadRelayPolicy(origin),
          'x-frame-options': 'SAMEORIGIN',
          'cache-control': 'no-store',
        })
        .send(uploadRelayDocument(origin));
    },
  );
}
