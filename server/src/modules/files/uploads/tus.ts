// tus 1.0 (https://tus.io/protocols/resumable-upload) request headers, parsed strictly. Haven
// speaks the protocol itself rather than through @tus/server: that server answers requests on the
// raw Node response outside Fastify's hooks (access control, rate classes, problem responses,
// audit), and its stores keep upload state in their own files or in S3 `.info` objects, where
// Haven's one upload-session model (F2) lives in the database and is shared with S3 multipart.
// The protocol surface is small: creation, HEAD, PATCH, termination, checksum and expiration.
import { HavenError } from '../../../platform/errors.js';

export const TUS_VERSION = '1.0.0';
export const TUS_EXTENSIONS = 'creation,termination,checksum,expiration';
export const TUS_CHECKSUM_ALGORITHMS = ['sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof TUS_CHECKSUM_ALGORITHMS)[number];
export const OFFSET_CONTENT_TYPE = 'application/offset+octet-stream';

/** Upload-Metadata keys Haven reads; tus clients (Uppy) send others, which are ignored. */
const MAX_METADATA_PAIRS = 20;
const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) {
    throw new HavenError('BAD_REQUEST', `The ${name} header must appear once.`);
  }
  return value;
}

/** Every tus request but OPTIONS names the protocol version it speaks. */
export function assertTusVersion(headers: Headers): void {
  if (single(headers, 'tus-resumable') !== TUS_VERSION) {
    throw new HavenError('TUS_VERSION_UNSUPPORTED', 'Send Tus-Resumable: 1.0.0.', {
      headers: { 'tus-version': TUS_VERSION },
    });
  }
}

/** A non-negative whole number of bytes; the header is required. */
export function byteCountHeader(headers: Headers, name: string): number {
  const raw = single(headers, name);
  if (raw === undefined) throw new HavenError('BAD_REQUEST', `The ${name} header is required.`);
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new HavenError('BAD_REQUEST', `The ${name} header must be a whole number of bytes.`);
  }
  return Number(raw);
}

/**
 * `key base64,key base64,...` → values as UTF-8 text. Values must be valid base64 of valid UTF-8
 * (a name is shown to people: no replacement characters slipped in); a key may have no value.
 */
export function parseMetadata(headers: Headers): Map<string, string> {
  const raw = single(headers, 'upload-metadata');
  const metadata = new Map<string, string>();
  if (raw === undefined || raw.trim() === '') return metadata;
  const pairs = raw.split(',');
  if (pairs.length > MAX_METADATA_PAIRS) {
    throw new HavenError(
      'BAD_REQUEST',
      `Upload-Metadata holds at most ${MAX_METADATA_PAIRS} keys.`,
    );
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const pair of pairs) {
    const [key = '', value, extra] = pair.trim().split(' ');
    if (!METADATA_KEY.test(key) || extra !== undefined || metadata.has(key)) {
      throw new HavenError('BAD_REQUEST', 'Upload-Metadata is malformed.');
    }
    if (value === undefined) {
      metadata.set(key, '');
      continue;
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
      throw new HavenError('BAD_REQUEST', `Upload-Metadata "${key}" is not base64.`);
    }
    try {
      metadata.set(key, utf8.decode(Buffer.from(value, 'base64')));
    } catch {
      throw new HavenError('BAD_REQUEST', `Upload-Metadata "${key}" is not UTF-8 text.`);
    }
  }
  return metadata;
}

export interface ChunkChecksum {
  readonly algorithm: ChecksumAlgorithm;
  readonly digest: Buffer;
}

/** `Upload-Checksum: sha256 <base64>` (checksum extension); absent → undefined. */
export function parseChecksum(headers: Headers): ChunkChecksum | undefined {
  const raw = single(headers, 'upload-checksum');
  if (raw === undefined) return undefined;
  const [algorithm = '', encoded = '', extra] = raw.trim().split(' ');
  if (!(TUS_CHECKSUM_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new HavenError(
      'BAD_REQUEST',
      `Upload-Checksum algorithms are ${TUS_CHECKSUM_ALGORITHMS.join(' and ')}.`,
    );
  }
  const digest = Buffer.from(encoded, 'base64');
  const expected = algorithm === 'sha1' ? 20 : 32;
  if (
    extra !== undefined ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ||
    digest.length !== expected
  ) {
    throw new HavenError('BAD_REQUEST', 'Upload-Checksum is malformed.');
  }
  return { algorithm: algorithm as ChecksumAlgorithm, digest };
}

/** Tus-Resumable on every answer, and the headers a HEAD or PATCH answer carries. */
export function progressHeaders(offset: number, length: number, expiresAt?: Date) {
  return {
    'tus-resumable': TUS_VERSION,
    'upload-offset': String(offset),
    'upload-length': String(length),
    'cache-control': 'no-store',
    ...(expiresAt && { 'upload-expires': expiresAt.toUTCString() }),
  };
}
