/**
 * The uploader's Uppy (@uppy/core, headless) with the protocol the server's storage takes
 * (/api/files/usage): S3 multipart straight to storage (s3Uploader.ts) when
 * `multipartPartBytes` is set, tus through the server (tusUploader.ts) otherwise. Uploads into
 * an owned bucket always go through the server with tus: only the default storage's origin is in
 * the CSP's connect-src. Either way the UI sees the same files, progress, pause, resume, cancel
 * and errors.
 */
import Uppy from '@uppy/core';
import type { FilesUsage } from './filesApi';
import { installS3Multipart } from './s3Uploader';
import { installTus } from './tusUploader';
import type { Body, CsrfSource, Meta, Protocol, UploadTarget } from './uppyClient';

export function createUppy(
  id: string,
  target: UploadTarget,
  usage: Pick<FilesUsage, 'chunkBytes' | 'multipartPartBytes'>,
  csrf: CsrfSource,
): { uppy: Uppy<Meta, Body>; protocol: Protocol } {
  const uppy = new Uppy<Meta, Body>({ id, autoProceed: true, allowMultipleUploadBatches: true });
  const protocol =
    usage.multipartPartBytes === null || target.bucketId !== undefined
      ? installTus(uppy, target, usage.chunkBytes, csrf)
      : installS3Multipart(uppy, target.patientId, usage.multipartPartBytes);
  return { uppy, protocol };
}
