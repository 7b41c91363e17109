// Owned buckets and upload cleanup (F1, F7): controls a fourth mutation hunt found no test for.
// Sealed bucket credentials open only for the bucket they were sealed for; a bucket's name and
// region are validated, and a renamed bucket reached, when they change as when they are added.
// An expired upload into an owned bucket is aborted in that bucket, and an upload S3 no longer
// knows (NoSuchUpload) closes its expired session like any other.
import { AbortMultipartUploadCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { LOCAL_S3_CLINIC, addOwnedBucket } from '../owned-buckets.js';
import { startS3Server, type TestS3Server } from '../s3-server.js';
import { pdfBytes, tusCreate } from '../tus.js';
import { expireAbandonedUploads } from '../../src/modules/files/index.js';
import type { BucketLocation } from '../../src/platform/storage/configured.js';

const s3: TestS3Server = await startS3Server('haven-r4');
const admin = new S3Client({
  endpoint: s3.endpoint,
  region: s3.region,
  credentials: s3.credentials,
  forcePathStyle: true,
});
afterAll(async () => {
  admin.destroy();
  await s3.stop();
});

const log = pino({ level: 'silent' });

describeClinic('files: owned buckets and cleanup (fourth hunt)', LOCAL_S3_CLINIC, (clinic) => {
  let owner: Actor;

  beforeAll(async () => {
    owner = await clinic.actor(['clinician']);
  });

  const create = (overrides: Record<string, unknown> = {}) =>
    addOwnedBucket(clinic, owner, s3, overrides);

  async function bucketRow(id: string): Promise<Record<string, unknown>> {
    const [row] = await clinic.rows('buckets', { id });
    expect(row).toBeDefined();
    return row!;
  }

  /** An upload session into the owned bucket, expired; its row. */
  async function expiredUploadInto(bucketId: string): Promise<Record<string, unknown>> {
    const created = await tusCreate(clinic.app, owner, 3000, {
      filename: 'stale.pdf',
      bucketId,
    });
    expect(created.statusCode, created.body).toBe(201);
    const uploadId = String(created.headers.location).split('/').pop()!;
    await clinic.db
      .updateTable('upload_sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', uploadId)
      .execute();
    const [session] = await clinic.rows('upload_sessions', { id: uploadId });
    expect(session).toMatchObject({ bucket_id: bucketId, status: 'open' });
    return session!;
  }

  const cleanup = () =>
    expireAbandonedUploads(clinic.db, clinic.app.fileServices.storage, log, {
      buckets: clinic.app.fileServices.buckets,
    });

  it("F1/credential swap: sealed credentials copied into another bucket's row do not open there", async () => {
    const buckets = clinic.app.fileServices.buckets;
    const location: BucketLocation = {
      endpoint: s3.endpoint,
      region: s3.region,
      bucketName: s3.bucket,
      pathStyle: true,
      serverSideEncryption: { mode: 'none' },
    };
    const mine = await create();
    const theirs = await create({ notes: 'another bucket' });
    const sealed = String((await bucketRow(mine)).credentials_sealed);
    // Under its own bucket id the sealed text opens and reaches the bucket.
    await buckets.connect(location, { id: mine, credentialsSealed: sealed }).headBucket();
    // Moved to another bucket (a tampered or copied row), it opens nothing.
    expect(() => buckets.connect(location, { id: theirs, credentialsSealed: sealed })).toThrow();
    // Nor is it taken when that bucket is changed and reconnected with its stored credentials.
    await clinic.db
      .updateTable('buckets')
      .set({ credentials_sealed: sealed })
      .where('id', '=', theirs)
      .execute();
    const reconnect = await clinic.call(owner, 'PATCH', `/api/files/buckets/${theirs}`, {
      region: 'eu-west-1',
    });
    expect(reconnect.statusCode).not.toBe(200);
    expect((await bucketRow(theirs)).region).toBe(s3.region);
  });

  it('F1/validated on change: a changed name or region is refused with the field, nothing changes', async () => {
    const id = await create();
    for (const [field, value] of [
      ['name', 'UPPER'],
      ['name', 'my..bucket'],
      ['region', 'Europe West!'],
    ] as const) {
      const refused = await clinic.call(owner, 'PATCH', `/api/files/buckets/${id}`, {
        [field]: value,
      });
      expect(refused.statusCode, `${field} ${value}`).toBe(400);
      expect(refused.json().errors, `${field} ${value}`).toEqual(
        expect.arrayContaining([expect.objectContaining({ field })]),
      );
    }
    expect(await bucketRow(id)).toMatchObject({ bucket_name: s3.bucket, region: s3.region });
  });

  it('F1/HeadBucket on change: a bucket renamed to one the endpoint does not have is refused, nothing changes', async () => {
    const id = await create();
    const renamed = await clinic.call(owner, 'PATCH', `/api/files/buckets/${id}`, {
      name: 'no-such-bucket',
    });
    expect(renamed.statusCode, renamed.body).toBe(422);
    expect(renamed.json()).toMatchObject({ code: 'BUCKET_UNREACHABLE' });
    expect((await bucketRow(id)).bucket_name).toBe(s3.bucket);
  });

  it('F7/owned bucket: an expired upload is aborted in its own bucket before the record closes', async () => {
    const bucketId = await create();
    const session = await expiredUploadInto(bucketId);
    const counts = await cleanup();
    expect(counts.failed).toBe(0);
    const [closed] = await clinic.rows('upload_sessions', { id: session.id });
    expect(closed).toMatchObject({ status: 'expired' });
    // The bucket no longer has the upload: a part sent to it now is refused.
    await expect(
      admin.send(
        new UploadPartCommand({
          Bucket: s3.bucket,
          Key: String(session.object_key),
          UploadId: String(session.storage_upload_id),
          PartNumber: 1,
          Body: pdfBytes(1000),
        }),
      ),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('F7/NoSuchUpload: an expired upload the bucket no longer has is closed, not failed and retried forever', async () => {
    const bucketId = await create();
    const session = await expiredUploadInto(bucketId);
    await admin.send(
      new AbortMultipartUploadCommand({
        Bucket: s3.bucket,
        Key: String(session.object_key),
        UploadId: String(session.storage_upload_id),
      }),
    );
    const counts = await cleanup();
    expect(counts.failed).toBe(0);
    const [closed] = await clinic.rows('upload_sessions', { id: session.id });
    expect(closed).toMatchObject({ status: 'expired', cleanup_attempts: 0, cleanup_error: null });
  });
});
