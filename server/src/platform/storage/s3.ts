// The S3 driver (AWS SDK v3) for AWS and any S3-compatible endpoint. Server-side encryption is
// requested on every object-creating write and reported back by headObject, for F4's check.
// Timeouts are bounded so a dead or silent endpoint cannot hold a request: a connect timeout, an
// idle-socket timeout (not a total one: a 5 GiB part may take long, but never sits silent), and
// the SDK's own retries capped at a few attempts. Checksums are left to the SDK only when the
// operation requires them: the SDK's newer default (CRC32 trailers on every upload) is refused
// by several S3-compatible servers and would also leak into presigned URLs.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { PinnedAgents } from './pinned-agents.js';
import {
  assertValidBucketName,
  assertValidRegion,
  exactLength,
  toStorageError,
} from './s3-checks.js';
import {
  StorageError,
  assertPresignLifetime,
  assertValidKey,
  assertValidPartNumber,
  assertValidRange,
  assertValidSize,
  attachmentDisposition,
  orderedParts,
  type ObjectStorage,
  type PartLister,
  type Presigner,
  type StoredPart,
} from './storage.js';

export type ServerSideEncryption =
  { mode: 'none' } | { mode: 'AES256' } | { mode: 'aws:kms'; kmsKeyId: string };

export interface S3StorageOptions {
  /** Omit for AWS itself; e.g. `https://s3.eu-central-1.wasabisys.com` otherwise. */
  endpoint?: string;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle?: boolean;
  serverSideEncryption: ServerSideEncryption;
  /** Default 5000. */
  connectTimeoutMs?: number;
  /** A socket silent this long is dropped. Default 30000. */
  idleTimeoutMs?: number;
  /** Attempts per call, retries included. Default 3. */
  maxAttempts?: number;
  agents?: PinnedAgents;
}

/** The S3 driver has every capability; `client` is exposed for instrumentation in tests. */
export interface S3Storage extends ObjectStorage {
  readonly kind: 's3';
  readonly client: S3Client;
  readonly presigner: Presigner;
  readonly partLister: PartLister;
}

const MiB = 1024 * 1024;
export const S3_PART_LIMITS = { minPartSize: 5 * MiB, maxPartSize: 5 * 1024 * MiB };
/** Buffer per part when a body of unknown length is stored as a multipart upload. */
const UNKNOWN_LENGTH_PART_BYTES = 8 * MiB;

export function createS3Storage(options: S3StorageOptions): S3Storage {
  const { bucket, serverSideEncryption: sse } = options;
  assertValidBucketName(bucket);
  assertValidRegion(options.region);
  if (sse.mode === 'aws:kms' && !sse.kmsKeyId.trim()) {
    throw new StorageError('INVALID_ARGUMENT', 'SSE-KMS needs a KMS key id.');
  }
  const encryption =
    sse.mode === 'none'
      ? {}
      : sse.mode === 'AES256'
        ? { ServerSideEncryption: 'AES256' as const }
        : { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: sse.kmsKeyId };

  const client = new S3Client({
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    region: options.region,
    credentials: options.credentials,
    forcePathStyle: options.forcePathStyle ?? false,
    maxAttempts: options.maxAttempts ?? 3,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? 5000,
      socketTimeout: options.idleTimeoutMs ?? 30_000,
      ...(options.agents ?? {}),
    },
  });

  const call = async <T>(
    send: () => Promise<T>,
    notFound?: 'NOT_FOUND' | 'UPLOAD_NOT_FOUND' | 'BUCKET_NOT_FOUND',
  ): Promise<T> => {
    try {
      return await send();
    } catch (error) {
      throw toStorageError(error, notFound);
    }
  };

  /** Sends a request carrying `body`; a body of the wrong length aborts it. */
  const sendBody = async <T>(
    body: Readable,
    size: number,
    send: (checked: Readable, abortSignal: AbortSignal) => Promise<T>,
    notFound?: 'NOT_FOUND' | 'UPLOAD_NOT_FOUND',
  ): Promise<T> => {
    const controller = new AbortController();
    let bodyError: Error | undefined;
    const checked = exactLength(body, size, (error) => {
      bodyError = error;
      controller.abort(error);
    });
    try {
      return await send(checked, controller.signal);
    } catch (error) {
      throw toStorageError(bodyError ?? error, notFound);
    }
  };

  async function head(key: string) {
    assertValidKey(key);
    try {
      const answer = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        size: answer.ContentLength ?? 0,
        contentType: answer.ContentType ?? 'application/octet-stream',
        ...(answer.ServerSideEncryption
          ? { serverSideEncryption: answer.ServerSideEncryption }
          : {}),
        ...(answer.SSEKMSKeyId ? { kmsKeyId: answer.SSEKMSKeyId } : {}),
      };
    } catch (error) {
      const mapped = toStorageError(error);
      if (mapped.code === 'STORAGE_NOT_FOUND') return undefined;
      throw mapped;
    }
  }

  async function abort(key: string, uploadId: string): Promise<void> {
    assertValidKey(key);
    try {
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }),
      );
    } catch (error) {
      const mapped = toStorageError(error, 'UPLOAD_NOT_FOUND');
      if (mapped.code !== 'STORAGE_UPLOAD_NOT_FOUND') throw mapped;
    }
  }

  const storage: S3Storage = {
    kind: 's3',
    client,
    partLimits: S3_PART_LIMITS,
    expectedEncryption:
      sse.mode === 'none'
        ? null
        : sse.mode === 'AES256'
          ? { serverSideEncryption: 'AES256' }
          : { serverSideEncryption: 'aws:kms', kmsKeyId: sse.kmsKeyId },

    presigner: {
      async presignUploadPart({ key, uploadId, partNumber }, { expiresInSeconds }) {
        assertValidKey(key);
        assertValidPartNumber(partNumber);
        assertPresignLifetime(expiresInSeconds);
        const command = new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
        });
        return getSignedUrl(client, command, { expiresIn: expiresInSeconds });
      },
      async presignGet(key, { expiresInSeconds, filename, contentType }) {
        assertValidKey(key);
        assertPresignLifetime(expiresInSeconds);
        const command = new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ResponseContentDisposition: attachmentDisposition(filename),
          ResponseContentType: contentType,
        });
        return getSignedUrl(client, command, { expiresIn: expiresInSeconds });
      },
    },

    partLister: {
      async listParts(key, uploadId) {
        assertValidKey(key);
        const parts: StoredPart[] = [];
        let marker: string | undefined;
        for (;;) {
          const page = await call(
            () =>
              client.send(
                new ListPartsCommand({
                  Bucket: bucket,
                  Key: key,
                  UploadId: uploadId,
                  ...(marker === undefined ? {} : { PartNumberMarker: marker }),
                }),
              ),
            'UPLOAD_NOT_FOUND',
          );
          for (const part of page.Parts ?? []) {
            parts.push({
              partNumber: part.PartNumber ?? 0,
              etag: part.ETag ?? '',
              size: part.Size ?? 0,
            });
          }
          if (!page.IsTruncated || !page.NextPartNumberMarker) return parts;
          marker = page.NextPartNumberMarker;
        }
      },
    },

    async headBucket() {
      await call(() => client.send(new HeadBucketCommand({ Bucket: bucket })), 'BUCKET_NOT_FOUND');
    },

    async putObject(key, body, { contentType, size }) {
      assertValidKey(key);
      if (size === undefined) return putUnknownLength(key, body, contentType);
      assertValidSize(size, 'The size');
      await sendBody(body, size, (checked, abortSignal) =>
        client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: checked,
            ContentLength: size,
            ContentType: contentType,
            ...encryption,
          }),
          { abortSignal },
        ),
      );
      return { size };
    },

    async getObject(key, options = {}) {
      assertValidKey(key);
      const { range } = options;
      if (range) assertValidRange(range, Number.MAX_SAFE_INTEGER);
      const answer = await call(() =>
        client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        ),
      );
      const contentLength = answer.ContentLength ?? 0;
      const total = /\/(\d+)$/.exec(answer.ContentRange ?? '')?.[1];
      return {
        stream: answer.Body as Readable,
        size: total === undefined ? contentLength : Number(total),
        contentLength,
        contentType: answer.ContentType ?? 'application/octet-stream',
      };
    },

    headObject: head,

    async deleteObject(key) {
      assertValidKey(key);
      await call(() => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })));
    },

    async createMultipartUpload(key, { contentType }) {
      assertValidKey(key);
      const answer = await call(() =>
        client.send(
          new CreateMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            ContentType: contentType,
            ...encryption,
          }),
        ),
      );
      if (!answer.UploadId) throw new StorageError('FAILED', 'S3 returned no upload id.');
      return answer.UploadId;
    },

    async uploadPart({ key, uploadId, partNumber, body, size }) {
      assertValidKey(key);
      assertValidPartNumber(partNumber);
      assertValidSize(size, 'The part size');
      const answer = await sendBody(
        body,
        size,
        (checked, abortSignal) =>
          client.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: partNumber,
              Body: checked,
              ContentLength: size,
            }),
            { abortSignal },
          ),
        'UPLOAD_NOT_FOUND',
      );
      if (!answer.ETag) throw new StorageError('FAILED', 'S3 returned no ETag for the part.');
      return { etag: answer.ETag };
    },

    async completeMultipartUpload(key, uploadId, parts) {
      assertValidKey(key);
      const ordered = orderedParts(parts);
      await call(
        () =>
          client.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: {
                Parts: ordered.map(({ partNumber, etag }) => ({
                  PartNumber: partNumber,
                  ETag: etag,
                })),
              },
            }),
          ),
        'UPLOAD_NOT_FOUND',
      );
      // S3 does not return the size; the module compares it with the declared one.
      const stored = await head(key);
      if (!stored) throw new StorageError('NOT_FOUND', 'The completed object is missing.');
      return { size: stored.size };
    },

    abortMultipartUpload: abort,
  };

  /** A body of unknown length goes up as a multipart upload, one buffered part at a time. */
  async function putUnknownLength(key: string, body: Readable, contentType: string) {
    const uploadId = await storage.createMultipartUpload(key, { contentType });
    try {
      const parts: Array<{ partNumber: number; etag: string }> = [];
      let buffered: Buffer[] = [];
      let bufferedBytes = 0;
      let size = 0;
      const flush = async () => {
        const partNumber = parts.length + 1;
        const data = Buffer.concat(buffered);
        buffered = [];
        bufferedBytes = 0;
        const { etag } = await storage.uploadPart({
          key,
          uploadId,
          partNumber,
          body: Readable.from([data]),
          size: data.length,
        });
        parts.push({ partNumber, etag });
      };
      for await (const chunk of body as AsyncIterable<Buffer>) {
        buffered.push(chunk);
        bufferedBytes += chunk.length;
        size += chunk.length;
        if (bufferedBytes >= UNKNOWN_LENGTH_PART_BYTES) await flush();
      }
      if (bufferedBytes > 0 || parts.length === 0) await flush();
      await storage.completeMultipartUpload(key, uploadId, parts);
      return { size };
    } catch (error) {
      await abort(key, uploadId).catch(() => undefined);
      throw error;
    }
  }

  return storage;
}
