/**
 * The uploader's Uppy (@uppy/core, headless) with the protocol the chosen storage takes: S3
 * multipart straight to storage (s3Uploader.ts) when its `multipartPartBytes` is set (the
 * default's from /api/files/usage, an owned bucket's from its bucket view), tus through the
 * server (tusUploader.ts) otherwise. The default storage's parts go from this page, whose CSP
 * connect-src names that storage; an owned bucket's go through its upload relay frame
 * (uploadRelay.ts), whose own CSP names that bucket only, so this page's CSP never grows with
 * the buckets people register. Either way the UI sees the same files, progress, pause, resume,
 * cancel and errors.
 */
import Uppy from '@uppy/core';
import type { FilesUsage } from './filesApi';
import { installS3Multipart } from './s3Uploader';
import { installTus } from './tusUploader';
import type { Body, CsrfSource, Meta, Protocol, UploadTarget } from './uppyClient';

export function createUppy(
  id: string,
  target: UploadTarget,
  /** `multipartPartBytes`: the chosen storage's (the default's or the owned bucket's). */
  usage: Pick<FilesUsage, 'chunkBytes' | 'multipartPartBytes'>,
  csrf: CsrfSource,
): { uppy: Uppy<Meta, Body>; protocol: Protocol } {
  const uppy = new Uppy<Meta, Body>({ id, autoProceed: true, allowMultipleUploadBatches: true });
  const protocol =
    usage.multipartPartBytes === null
      ? installTus(uppy, target, usage.chunkBytes, csrf)
      : installS3Multipart(uppy, target, usage.multipartPartBytes);
  return { uppy, protocol };
}
