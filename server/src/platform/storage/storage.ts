// One interface over where uploaded files live: the embedded filesystem driver (encrypts each
// object itself) and the S3 driver (any S3-compatible endpoint, server-side encryption).
//
// The files module keeps ONE upload-session model for both protocols: an S3 multipart upload
// whose parts the client sends straight to storage through presigned URLs, and tus 1.0 through
// the server, where every PATCH becomes one `uploadPart` call. Parts are numbered 1..10000 and
// completion always uses the part list the SERVER recorded, never one a client sent.
//
// What a driver cannot do is a typed capability (`presigner`, `partLister` are null), so the
// module branches on types instead of catching "not supported" at run time.
import type { Readable } from 'node:stream';

/** S3's limits, which the filesystem driver shares so a session means the same on both. */
export const MIN_PART_NUMBER = 1;
export const MAX_PART_NUMBER = 10_000;
/** Presigned links are short-lived (F6): at most five minutes. */
export const MAX_PRESIGN_SECONDS = 300;
const MAX_KEY_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;

type StorageErrorCode =
  | 'INVALID_KEY'
  | 'INVALID_ARGUMENT'
  | 'INVALID_RANGE'
  | 'INVALID_PART'
  | 'PART_TOO_SMALL'
  | 'SIZE_MISMATCH'
  | 'NOT_FOUND'
  | 'UPLOAD_NOT_FOUND'
  | 'BUCKET_NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'INTEGRITY'
  | 'UNAVAILABLE'
  | 'FAILED';

/** Stable, UPPER_SNAKE codes the files module maps to its problem responses. */
export type StorageErrorCodeName = `STORAGE_${StorageErrorCode}`;

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCodeName;
  constructor(code: StorageErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = `STORAGE_${code}`;
  }
}

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive (as in an HTTP Range header). */
  readonly end: number;
}

export interface StoredObjectStream {
  readonly stream: Readable;
  /** Size of the whole object. */
  readonly size: number;
  /** Bytes in `stream`: the range length, or the size. */
  readonly contentLength: number;
  readonly contentType: string;
}

export interface ObjectHead {
  readonly size: number;
  readonly contentType: string;
  /** What storage reports, for the F4 check after completion (`AES256`, `aws:kms`, or the
   *  filesystem driver's own `haven:aes-256-gcm`). Undefined when storage reports none. */
  readonly serverSideEncryption?: string;
  readonly kmsKeyId?: string;
}

export interface CompletedPart {
  readonly partNumber: number;
  readonly etag: string;
}

export interface StoredPart extends CompletedPart {
  readonly size: number;
}

export interface CompletedObject {
  readonly size: number;
  /** Hex SHA-256 of the whole object, when the driver saw every byte (filesystem). */
  readonly sha256?: string;
}

export interface UploadPartInput {
  readonly key: string;
  readonly uploadId: string;
  readonly partNumber: number;
  readonly body: Readable;
  /** Exact byte count of `body`; a body that ends early or runs long fails the part. */
  readonly size: number;
}

export interface PresignGetOptions {
  readonly expiresInSeconds: number;
  /** Offered to the browser in Content-Disposition: attachment (never rendered inline). */
  readonly filename: string;
  readonly contentType: string;
}

/** Storage the client can talk to directly with a signed URL (S3). */
export interface Presigner {
  presignUploadPart(
    input: { key: string; uploadId: string; partNumber: number },
    options: { expiresInSeconds: number },
  ): Promise<string>;
  presignGet(key: string, options: PresignGetOptions): Promise<string>;
}

/** Storage that can tell which parts of an upload it holds (resume reconciliation). */
export interface PartLister {
  listParts(key: string, uploadId: string): Promise<StoredPart[]>;
}

export interface ExpectedEncryption {
  readonly serverSideEncryption: string;
  readonly kmsKeyId?: string;
}

/**
 * The F4 check after completion: the object reports the configured algorithm and, for SSE-KMS,
 * the configured key. S3 answers with the key's full ARN even when configured with a bare key
 * id, so `arn:...:key/<id>` matches `<id>`; an alias never matches (S3 reports the key it
 * resolved to), so configure SSE-KMS with a key id or ARN.
 */
export function encryptionMatches(expected: ExpectedEncryption, head: ObjectHead): boolean {
  if (head.serverSideEncryption !== expected.serverSideEncryption) return false;
  if (expected.kmsKeyId === undefined) return true;
  const reported = head.kmsKeyId ?? '';
  return reported === expected.kmsKeyId || reported.endsWith(`:key/${expected.kmsKeyId}`);
}

export interface PartLimits {
  /** Smallest size of every part but the last, enforced by storage at completion. */
  readonly minPartSize: number;
  readonly maxPartSize: number;
}

export interface ObjectStorage {
  readonly kind: 'filesystem' | 's3';
  readonly partLimits: PartLimits;
  /** Null: downloads go through the server, which signs its own short-lived URLs. */
  readonly presigner: Presigner | null;
  readonly partLister: PartLister | null;
  /** What headObject must report for every stored object (F4); null when none is configured.
   *  Compare with `encryptionMatches`. */
  readonly expectedEncryption: ExpectedEncryption | null;

  /** Throws STORAGE_BUCKET_NOT_FOUND / ACCESS_DENIED / UNAVAILABLE when storage is not usable. */
  headBucket(): Promise<void>;
  /** Stores a whole object; with `size`, a body of another length fails and stores nothing. */
  putObject(
    key: string,
    body: Readable,
    options: { contentType: string; size?: number },
  ): Promise<CompletedObject>;
  getObject(key: string, options?: { range?: ByteRange }): Promise<StoredObjectStream>;
  headObject(key: string): Promise<ObjectHead | undefined>;
  /** A missing object is not an error. */
  deleteObject(key: string): Promise<void>;

  /** Returns the upload id. */
  createMultipartUpload(key: string, options: { contentType: string }): Promise<string>;
  /** The server-side path (tus): re-uploading a part number replaces that part. */
  uploadPart(input: UploadPartInput): Promise<{ etag: string }>;
  /** `parts` are the server's own record, in any order; a part whose ETag differs from what
   *  storage holds fails with STORAGE_INVALID_PART. */
  completeMultipartUpload(
    key: string,
    uploadId: string,
    parts: readonly CompletedPart[],
  ): Promise<CompletedObject>;
  /** An upload that is already gone (NoSuchUpload) is not an error. */
  abortMultipartUpload(key: string, uploadId: string): Promise<void>;
}

// AWS's "safe characters" for object keys: nothing a shell, a URL or a filesystem reads
// specially. Keys are generated by the files module; the user's file name never becomes a key.
const KEY_SEGMENT = /^[A-Za-z0-9!_.*'()-]+$/;

/** The driver never trusts a key: refuses traversal, absolute paths, control characters,
 *  empty segments and anything over S3's 1024-byte limit. */
export function assertValidKey(key: string): void {
  const refuse = (why: string) => new StorageError('INVALID_KEY', `Object key refused: ${why}.`);
  if (typeof key !== 'string' || key.length === 0) throw refuse('empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw refuse('longer than 1024 bytes');
  if (key.startsWith('/')) throw refuse('leading slash');
  if (key.includes('..')) throw refuse('contains ".."');
  for (const segment of key.split('/')) {
    if (segment.length === 0) throw refuse('empty path segment');
    if (segment.length > MAX_SEGMENT_BYTES) throw refuse('path segment longer than 255 bytes');
    if (!KEY_SEGMENT.test(segment)) throw refuse("characters outside A-Z a-z 0-9 ! _ . * ' ( ) -");
  }
}

export function assertValidPartNumber(partNumber: number): void {
  if (
    !Number.isInteger(partNumber) ||
    partNumber < MIN_PART_NUMBER ||
    partNumber > MAX_PART_NUMBER
  ) {
    throw new StorageError(
      'INVALID_PART',
      `Part numbers are whole numbers from ${MIN_PART_NUMBER} to ${MAX_PART_NUMBER}.`,
    );
  }
}

export function assertValidSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new StorageError('INVALID_ARGUMENT', `${what} must be a whole number of bytes.`);
  }
}

export function assertValidRange(range: ByteRange, size: number): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new StorageError('INVALID_RANGE', 'A range runs from a first to a last byte, in order.');
  }
  if (start >= size) {
    throw new StorageError('INVALID_RANGE', `The range starts past the end (${size} bytes).`);
  }
}

export function assertPresignLifetime(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      `Presigned links live 1 to ${MAX_PRESIGN_SECONDS} seconds.`,
    );
  }
}

/** Completion parts sorted by part number; duplicates and bad numbers refused. */
export function orderedParts(parts: readonly CompletedPart[]): CompletedPart[] {
  if (parts.length === 0) {
    throw new StorageError('INVALID_PART', 'An upload completes with at least one part.');
  }
  const sorted = [...parts].sort((a, b) => a.partNumber - b.partNumber);
  sorted.forEach((part, index) => {
    assertValidPartNumber(part.partNumber);
    if (index > 0 && sorted[index - 1]!.partNumber === part.partNumber) {
      throw new StorageError('INVALID_PART', `Part ${part.partNumber} is listed twice.`);
    }
  });
  return sorted;
}

// RFC 5987 attr-chars are ALPHA / DIGIT / "!#$&+-.^_`|~"; encodeURIComponent leaves ' ( ) *
// unescaped too, which are not attr-chars.
const encodeRfc5987 = (value: string): string =>
  encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * `Content-Disposition: attachment` (RFC 6266) with the name twice: a plain-ASCII fallback in
 * `filename` (anything else, quotes, backslashes and percent signs become `_`) and the exact
 * name in `filename*` (RFC 5987, UTF-8). No input can break out of the header: CR/LF and other
 * control characters never appear unescaped.
 */
export function attachmentDisposition(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\%]/g, '_') || 'download';
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(filename)}`;
}
