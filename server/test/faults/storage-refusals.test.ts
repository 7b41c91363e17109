// Object storage that stops answering, or that refuses Haven (an owner rotated a bucket's keys
// or removed the bucket at the provider), is "not now" with a reason, never a 500: uploads into
// the bucket and downloads from it answer 503 with Retry-After, and the log says why. What
// storage reports otherwise (a failed integrity check) stays an internal error to look into.
import { afterAll, expect, it } from 'vitest';
import { toHavenError } from '../../src/platform/http/problem-handler.js';
import { StorageError } from '../../src/platform/storage/storage.js';
import { describeClinic } from '../clinical-actors.js';
import { LOCAL_S3_CLINIC, addOwnedBucket } from '../owned-buckets.js';
import { startS3Server, type TestS3Server } from '../s3-server.js';
import { tusCreate } from '../tus.js';

const s3: TestS3Server = await startS3Server('haven-refusals');
let stopped = false;
afterAll(async () => {
  if (!stopped) await s3.stop();
});

it('storage that is unreachable or refuses Haven maps to 503 with Retry-After; an integrity failure stays internal', () => {
  for (const code of ['UNAVAILABLE', 'ACCESS_DENIED', 'BUCKET_NOT_FOUND'] as const) {
    const { error, internal } = toHavenError(new StorageError(code, 'from storage'));
    expect(internal, code).toBe(false);
    expect(error.statusCode, code).toBe(503);
    expect(error.extra.headers?.['retry-after'], code).toMatch(/^\d+$/);
  }
  const integrity = toHavenError(new StorageError('INTEGRITY', 'chunk 3 was altered'));
  expect(integrity.internal).toBe(true);
  expect(integrity.error.statusCode).toBe(500);
});

describeClinic('an owned bucket whose storage went away', LOCAL_S3_CLINIC, (clinic) => {
  it('F1: an upload into an owned bucket whose endpoint no longer answers gets 503 with Retry-After and a reason, not 500', async () => {
    const owner = await clinic.actor(['clinician']);
    const bucketId = await addOwnedBucket(clinic, owner, s3);
    await s3.stop();
    stopped = true;
    const refused = await tusCreate(clinic.app, owner, 4096, {
      filename: 'scan.pdf',
      bucketId,
    });
    expect(refused.statusCode, refused.body).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json<{ detail: string }>().detail).toContain('storage');
  });
});
