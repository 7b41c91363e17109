// File type, encryption at rest and quotas (F3, F4, F8): controls a fifth mutation hunt found no
// test for. A NIfTI header that is also another format, a NIfTI-2 header with half its magic, a
// ".txt" holding a PDF or a binary are all mismatches. An object under another KMS key whose id
// only ends like the configured one is refused; a storage URL without `sse` still encrypts; an
// owned bucket's SSE-S3 is verified after upload. An owned bucket's size limit counts the bytes
// that bucket holds.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { LOCAL_S3_CLINIC, addOwnedBucket } from '../owned-buckets.js';
import { startS3Server, type TestS3Server } from '../s3-server.js';
import { pdfBytes, tusCreate, tusUpload } from '../tus.js';
import { scanFile } from '../../src/modules/files/index.js';
import { checkContent } from '../../src/platform/file-checks/types.js';
import type { ClamdClient } from '../../src/platform/scanning/clamd.js';
import { parseStorageUrl } from '../../src/platform/storage/configured.js';
import { encryptionMatches } from '../../src/platform/storage/index.js';

const log = pino({ level: 'silent' });

/** A NIfTI-1 single-file header (348 bytes, "n+1\0" at 344), the extender, then voxels. */
function nifti1(): Buffer {
  const header = Buffer.alloc(352);
  header.writeInt32LE(348, 0);
  header.write('n+1\0', 344, 'latin1');
  return Buffer.concat([header, Buffer.alloc(4096, 1)]);
}

describe('F3: stored bytes against the declared type (fifth hunt)', () => {
  it('F3: a NIfTI header that is also a tar archive is not a .nii (polyglot)', async () => {
    const polyglot = nifti1();
    // "ustar" at 257 makes the same bytes a tar archive; 257 lies inside the NIfTI-1 header.
    polyglot.write('ustar\u000000', 257, 'latin1');
    expect(await checkContent('nifti', polyglot)).toEqual({
      result: 'mismatch',
      declared: 'nifti',
      detected: 'tar',
    });
  });

  it('F3: a NIfTI-2 header needs its whole magic, "n+2\\0" and then \\r\\n\\x1a\\n', async () => {
    const header = Buffer.alloc(544);
    header.writeInt32LE(540, 0);
    header.write('n+2\0', 4, 'latin1');
    header.write('XXXX', 8, 'latin1');
    const bytes = Buffer.concat([header, Buffer.alloc(1024, 2)]);
    expect(await checkContent('nifti', bytes)).toMatchObject({ result: 'mismatch' });
    header.write('\r\n\x1a\n', 8, 'latin1');
    expect(await checkContent('nifti', Buffer.concat([header, Buffer.alloc(1024, 2)]))).toEqual({
      result: 'match',
      type: 'nifti',
    });
  });

  it('F3: a .txt holding a PDF is a mismatch, though every byte of it is text', async () => {
    const pdf = Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n');
    expect(await checkContent('text', pdf)).toEqual({
      result: 'mismatch',
      declared: 'text',
      detected: 'pdf',
    });
  });

  it('F3: a .txt holding a binary file-type does not name is a mismatch', async () => {
    const binary = Buffer.from([0x13, 0x37, 0x00, 0xff, 0xfe, 0x00, 0x01, 0x02, 0x80, 0x00]);
    expect(await checkContent('text', binary)).toEqual({
      result: 'mismatch',
      declared: 'text',
      detected: 'unknown',
    });
  });
});

describe('F4: encryption at rest (fifth hunt)', () => {
  it('F4: an object under another KMS key whose id only ends like the configured one is refused', () => {
    const expected = { serverSideEncryption: 'aws:kms', kmsKeyId: '1234abcd-12ab' };
    const head = { size: 1, contentType: 'text/plain', serverSideEncryption: 'aws:kms' };
    expect(
      encryptionMatches(expected, {
        ...head,
        kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/ffff1234abcd-12ab',
      }),
    ).toBe(false);
    expect(
      encryptionMatches(expected, {
        ...head,
        kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/1234abcd-12ab',
      }),
    ).toBe(true);
  });

  it('F4: a storage URL that names no sse asks for SSE-S3; SSE-KMS carries its key id', () => {
    const base = 's3+https://AKIAEXAMPLE:secret@s3.eu-central-1.amazonaws.com/haven-files';
    expect(parseStorageUrl(`${base}?region=eu-central-1`).serverSideEncryption).toEqual({
      mode: 'AES256',
    });
    expect(
      parseStorageUrl(`${base}?sse=aws:kms&kms_key_id=1234abcd-12ab`).serverSideEncryption,
    ).toEqual({ mode: 'aws:kms', kmsKeyId: '1234abcd-12ab' });
    expect(parseStorageUrl(`${base}?sse=none`).serverSideEncryption).toEqual({ mode: 'none' });
  });
});

const s3: TestS3Server = await startS3Server('haven-r5');
afterAll(async () => {
  await s3.stop();
});

const KiB = 1024;

describeClinic('files: owned bucket controls (fifth hunt)', LOCAL_S3_CLINIC, (clinic) => {
  let owner: Actor;

  beforeAll(async () => {
    owner = await clinic.actor(['clinician']);
  });

  const create = (overrides: Record<string, unknown> = {}) =>
    addOwnedBucket(clinic, owner, s3, overrides);

  it('F4: an upload into an SSE-S3 bucket that storage reports unencrypted is quarantined, never scanned or released', async () => {
    // The S3 stand-in ignores SSE headers and reports none: storage did not encrypt.
    const id = await create({ sseMode: 'AES256' });
    const upload = await tusUpload(clinic.app, owner, pdfBytes(4096), {
      filename: 'unencrypted.pdf',
      bucketId: id,
    });
    expect(upload.last.statusCode, upload.last.body).toBe(204);
    const fileId = String(upload.last.headers['haven-file-id']);
    let scanned = false;
    const scanner: ClamdClient = {
      scan: async (source) => {
        scanned = true;
        for await (const chunk of source) void chunk;
        return { verdict: 'clean' };
      },
      probe: async () => ({ ok: true, version: 'test scanner' }),
    };
    const services = clinic.app.fileServices;
    await scanFile(
      clinic.db,
      {
        storage: services.storage,
        buckets: services.buckets,
        scanner,
        mailer: undefined,
        publicOrigin: 'https://haven.example',
      },
      fileId,
      log,
    );
    const [row] = await clinic.rows('files', { id: fileId });
    expect(row).toMatchObject({ status: 'quarantined', status_reason: 'encryption_mismatch' });
    expect(scanned).toBe(false);
    const link = await clinic.call(owner, 'POST', `/api/files/${fileId}/download-link`, {});
    expect(link.statusCode).toBe(409);
  });

  it("F8: an owned bucket's size limit counts the bytes that bucket already holds", async () => {
    const id = await create({ sizeLimitBytes: 1024 * KiB });
    const first = await tusCreate(clinic.app, owner, 700 * KiB, {
      filename: 'first.pdf',
      bucketId: id,
    });
    expect(first.statusCode, first.body).toBe(201);
    // 700 KiB reserved of 1 MiB: another 700 KiB does not fit, though each alone would.
    const second = await tusCreate(clinic.app, owner, 700 * KiB, {
      filename: 'second.pdf',
      bucketId: id,
    });
    expect(second.statusCode, second.body).toBe(413);
    expect(second.json()).toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(await clinic.rows('upload_sessions', { bucket_id: id })).toHaveLength(1);
    // The default storage is another place: the same upload fits there.
    const elsewhere = await tusCreate(clinic.app, owner, 700 * KiB, { filename: 'third.pdf' });
    expect(elsewhere.statusCode, elsewhere.body).toBe(201);
  });
});
