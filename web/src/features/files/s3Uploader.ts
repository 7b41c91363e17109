/**
 * The S3 multipart client of the uploader (@uppy/aws-s3, headless), used when storage takes
 * parts directly: Haven starts the session and presigns each part's URL; the browser PUTs the
 * part to storage (the default storage from this page; an owned bucket through its upload relay
 * frame, uploadRelay.ts), then records its ETag and size with Haven before the part counts as
 * done (Haven completes from its own record, F2). Each session id is kept in localStorage under the
 * file's fingerprint (Uppy's file id: name, type, size, modification time, and the instance id,
 * which names the person and the target), so adding the same file again after a reload, or
 * retrying after an error, continues from the parts Haven recorded.
 */
import AwsS3, { type AwsS3Part, type AwsS3UploadParameters } from '@uppy/aws-s3';
import type Uppy from '@uppy/core';
import { sessionStore } from '../../auth/sessionStore';
import { ApiError } from '../../shared/api';
import { ignoreBody } from '../../shared/decoding';
import {
  MULTIPART_ENDPOINT,
  decodeMultipartCompleted,
  decodeMultipartStarted,
  decodePartRecorded,
  decodePartUrl,
  decodeRecordedParts,
  multipartPath,
} from './filesApi';
import {
  RETRY_DELAYS,
  answerOfError,
  type Body,
  type Meta,
  type Protocol,
  type Upload,
  type UploadTarget,
} from './uppyClient';
import { RelayUnavailableError, UploadRelay } from './uploadRelay';

const MIB = 1024 * 1024;
const MAX_PARTS = 10_000;
/** How long after its last byte went out a part may wait for storage's answer. */
const CONFIRMATION_WAIT_MS = 60_000;

type PartUpload = Parameters<typeof AwsS3.uploadPartBytes>[0];

/** A part storage took but never confirmed; its message is the sentence the person reads. */
class UnconfirmedPartError extends Error {
  constructor() {
    super(
      'The storage did not confirm a part of this file. An administrator needs to let browsers read the ETag header in the bucket’s CORS rules.',
    );
  }
}

/**
 * Sends one part. @uppy/aws-s3 5.x never settles a part whose answer hides the ETag header (a
 * bucket whose CORS rules do not expose it): it logs and waits for ever. Once every byte is out,
 * the part gets CONFIRMATION_WAIT_MS to be confirmed; then it fails with a sentence that says
 * what to fix, and the upload can be retried from the parts Haven recorded.
 */
function confirmedByStorage(options: PartUpload): ReturnType<typeof AwsS3.uploadPartBytes> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const size = options.size ?? (options.body as Blob).size;
  const unconfirmed = new Promise<never>((_, reject) => {
    const report = options.onProgress as (event: ProgressEvent) => void;
    options.onProgress = (event: ProgressEvent) => {
      report(event);
      if (timer === undefined && event.loaded >= size) {
        timer = setTimeout(() => reject(new UnconfirmedPartError()), CONFIRMATION_WAIT_MS);
      }
    };
  });
  const sent = AwsS3.uploadPartBytes({ ...options, onComplete: () => undefined });
  return Promise.race([sent, unconfirmed]).finally(() => clearTimeout(timer));
}

/** Sends one part through an owned bucket's relay, which says at once if the ETag is hidden. */
async function confirmedThroughRelay(
  relay: UploadRelay,
  options: PartUpload,
  partId: string,
): Promise<{ ETag: string }> {
  const etag = await relay.send({
    url: options.signature.url,
    body: options.body as Blob,
    partId,
    onProgress: options.onProgress as (event: { loaded: number }) => void,
    signal: options.signal,
  });
  if (etag === null) throw new UnconfirmedPartError();
  return { ETag: etag };
}

const STORED = 'haven-s3::';

/** The part size Haven cuts a file of `size` bytes into (server: uploads/multipart.ts). */
export function partBytesFor(floor: number, size: number): number {
  return Math.max(floor, Math.ceil(size / MAX_PARTS / MIB) * MIB);
}

/** Sessions left unfinished, by Uppy file id (a fingerprint of the file and the target). */
const stored = {
  get: (fileId: string) => localStorage.getItem(STORED + fileId),
  set: (fileId: string, uploadId: string) => localStorage.setItem(STORED + fileId, uploadId),
  forget(uploadId: string) {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith(STORED) && localStorage.getItem(key) === uploadId) {
        localStorage.removeItem(key);
      }
    }
  },
};

/** Forgets a discarded session, so the same file later starts a new upload. */
export const forgetMultipartSession = (uploadId: string): void => stored.forget(uploadId);

function sizeMismatch(): ApiError {
  return new ApiError({
    status: 409,
    code: 'PART_SIZE_MISMATCH',
    title: 'Conflict',
    detail: 'The server expects parts of another size. Add the file again to start over',
  });
}

type MultipartUpload = { s3Multipart?: { uploadId?: string; key?: string } };

export function installS3Multipart(
  uppy: Uppy<Meta, Body>,
  { patientId, bucketId }: UploadTarget,
  partFloor: number,
): Protocol {
  // An owned bucket's origin is not in this page's CSP: its parts go through its relay frame.
  const relay = bucketId === undefined ? null : new UploadRelay(bucketId);
  /** Which session and part each presigned URL is for, so the part can be recorded. */
  const partOf = new WeakMap<AwsS3UploadParameters, { uploadId: string; partNumber: number }>();
  const checkPartSize = (size: number | null, partSize: number) => {
    if (partSize !== partBytesFor(partFloor, size ?? 0)) throw sizeMismatch();
  };

  uppy.use(AwsS3<Meta, Body>, {
    shouldUseMultipart: true,
    limit: 2,
    retryDelays: RETRY_DELAYS,
    getChunkSize: (file) => partBytesFor(partFloor, file.size),
    async createMultipartUpload(file) {
      const started = await sessionStore.api('POST', MULTIPART_ENDPOINT, decodeMultipartStarted, {
        name: file.name,
        size: file.size ?? 0,
        ...(patientId === undefined ? {} : { patientId }),
        ...(bucketId === undefined ? {} : { bucketId }),
      });
      if (started.partSize !== partBytesFor(partFloor, file.size ?? 0)) {
        await sessionStore.api('DELETE', multipartPath(started.uploadId), ignoreBody);
        throw sizeMismatch();
      }
      stored.set(file.id, started.uploadId);
      return { uploadId: started.uploadId, key: started.uploadId };
    },
    async signPart(_file, { uploadId, partNumber }) {
      const path = multipartPath(uploadId, `/parts/${partNumber}/url`);
      const { url } = await sessionStore.api('POST', path, decodePartUrl, {});
      const signature: AwsS3UploadParameters = { method: 'PUT', url };
      partOf.set(signature, { uploadId, partNumber });
      return signature;
    },
    // The part goes to storage; it counts as done once Haven has recorded it.
    async uploadPartBytes(options) {
      const part = partOf.get(options.signature);
      if (!part) throw new Error('A part URL Haven did not sign.');
      const result = relay
        ? await confirmedThroughRelay(relay, options, `${part.uploadId}/${part.partNumber}`)
        : await confirmedByStorage(options);
      const size = options.size ?? (options.body as Blob).size;
      const path = multipartPath(part.uploadId, `/parts/${part.partNumber}`);
      await sessionStore.api('PUT', path, decodePartRecorded, { etag: result.ETag, size });
      (options.onComplete as (etag: string) => void)(result.ETag);
      return result;
    },
    async listParts(file, { uploadId }): Promise<AwsS3Part[]> {
      const recorded = await sessionStore
        .api('GET', multipartPath(uploadId!, '/parts'), decodeRecordedParts)
        .catch((error: unknown) => {
          if (error instanceof ApiError && (error.status === 404 || error.status === 410)) {
            stored.forget(uploadId!);
          }
          throw error;
        });
      checkPartSize(file.size, recorded.partSize);
      return recorded.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, Size: p.size }));
    },
    async completeMultipartUpload(_file, { uploadId }) {
      const path = multipartPath(uploadId, '/complete');
      await sessionStore.api('POST', path, decodeMultipartCompleted, {});
      stored.forget(uploadId);
      return {};
    },
    async abortMultipartUpload(file, { uploadId }) {
      // Uppy also "aborts" after an error; only a file taken off the list ends its session, so
      // Retry, or adding the file again, continues from the recorded parts.
      if (!uploadId || uppy.getFile(file.id)) return;
      stored.forget(uploadId);
      await sessionStore.api('DELETE', multipartPath(uploadId), ignoreBody).catch(() => undefined);
    },
  });

  const restore = (fileId: string) => {
    const uploadId = stored.get(fileId);
    if (uploadId) {
      // Read by @uppy/aws-s3 (its own file state, not in Uppy's file type): restore, not create.
      const state: MultipartUpload = { s3Multipart: { uploadId, key: uploadId } };
      uppy.setFileState(fileId, state as Partial<Upload>);
    }
  };
  uppy.on('upload-retry', (file) => {
    if (file) restore(file.id);
  });
  if (relay) {
    // The frame lives while files are being sent: done, cancelled, or the uploader left.
    uppy.on('complete', () => relay.close());
    uppy.on('cancel-all', () => relay.close());
  }

  return {
    // The guard's sentence, as a problem detail: it has no HTTP status, and would otherwise read
    // as "the server could not be reached".
    answerTo: (error) =>
      error instanceof UnconfirmedPartError || error instanceof RelayUnavailableError
        ? { status: undefined, body: JSON.stringify({ detail: error.message }), retryAfter: null }
        : answerOfError(error),
    sessionOf: (file) => (file as MultipartUpload).s3Multipart?.uploadId,
    prepare(fileId, openSessions) {
      const uploadId = stored.get(fileId);
      // The server no longer holds it (finished, expired, discarded): start over.
      if (uploadId && openSessions && !openSessions.has(uploadId)) stored.forget(uploadId);
      else restore(fileId);
    },
    detach(fileId) {
      uppy.getPlugin<AwsS3<Meta, Body>>('AwsS3Multipart')?.resetUploaderReferences(fileId);
      relay?.close();
    },
  };
}
