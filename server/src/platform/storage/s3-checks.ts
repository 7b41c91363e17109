// Input checks and error mapping for the S3 driver (s3.ts): bucket and region names as S3
// defines them, SDK failures as typed StorageErrors, and bodies held to their declared length.
import { S3ServiceException } from '@aws-sdk/client-s3';
import { Transform, type Readable } from 'node:stream';
import { StorageError } from './storage.js';

const BUCKET_NAME =
  /^(?!xn--)(?!sthree-)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-[a-z0-9]+){1,4}$|^[a-z0-9-]{1,32}$/;

/** S3's bucket naming rules (general-purpose buckets). */
export function assertValidBucketName(name: string): void {
  if (!BUCKET_NAME.test(name) || name.endsWith('-s3alias') || name.endsWith('--ol-s3')) {
    throw new StorageError(
      'INVALID_ARGUMENT',
      'A bucket name is 3-63 lowercase letters, digits, dots and hyphens, not an IP address.',
    );
  }
}

export function assertValidRegion(region: string): void {
  if (!REGION.test(region)) {
    throw new StorageError('INVALID_ARGUMENT', 'A region looks like "eu-central-1".');
  }
}

const SERVICE_ERRORS: Record<string, ConstructorParameters<typeof StorageError>[0]> = {
  NoSuchKey: 'NOT_FOUND',
  NoSuchUpload: 'UPLOAD_NOT_FOUND',
  NoSuchBucket: 'BUCKET_NOT_FOUND',
  AccessDenied: 'ACCESS_DENIED',
  InvalidAccessKeyId: 'ACCESS_DENIED',
  SignatureDoesNotMatch: 'ACCESS_DENIED',
  InvalidPart: 'INVALID_PART',
  InvalidPartOrder: 'INVALID_PART',
  EntityTooSmall: 'PART_TOO_SMALL',
  InvalidRange: 'INVALID_RANGE',
};

/** Maps SDK failures to typed errors; `notFound` names what a bare 404 means for this call. */
export function toStorageError(
  error: unknown,
  notFound: 'NOT_FOUND' | 'UPLOAD_NOT_FOUND' | 'BUCKET_NOT_FOUND' = 'NOT_FOUND',
): StorageError {
  if (error instanceof StorageError) return error;
  if (error instanceof S3ServiceException) {
    const mapped = SERVICE_ERRORS[error.name];
    const status = error.$metadata.httpStatusCode;
    const code =
      mapped ?? (status === 404 ? notFound : status === 403 ? 'ACCESS_DENIED' : 'FAILED');
    return new StorageError(code, `S3 ${error.name} (${status ?? 'no status'}).`, { cause: error });
  }
  // No answer from storage at all: refused, unreachable, timed out, reset.
  return new StorageError('UNAVAILABLE', 'The storage endpoint did not answer.', { cause: error });
}

/**
 * Passes `body` through, failing when it runs longer or shorter than `size`. The SDK pipes the
 * body into the HTTP request and would otherwise wait on a short body until the idle timeout,
 * so a failure (or the source's own error) calls `onFailure`, which aborts the request.
 */
export function exactLength(
  body: Readable,
  size: number,
  onFailure: (error: Error) => void,
): Readable {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > size) done(new StorageError('SIZE_MISMATCH', 'The body is longer than declared.'));
      else done(null, chunk);
    },
    flush(done) {
      done(seen === size ? null : new StorageError('SIZE_MISMATCH', 'The body ended early.'));
    },
  });
  counter.on('error', onFailure);
  body.on('error', (error) => counter.destroy(error));
  return body.pipe(counter);
}
