// F2/F4/F6 for the S3 driver, against a real S3-compatible server (fauxqs on 127.0.0.1): the
// object calls, multipart through presigned part URLs sent with plain fetch, completion with the
// server's recorded ETags, SSE on every write, attachment downloads. Signatures and timeouts:
// s3-transport.test.ts.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type TestS3Server } from '../../../test/s3-server.js';
import { createS3Storage, type S3Storage, type ServerSideEncryption } from './s3.js';
import { encryptionMatches } from './storage.js';

const MiB = 1024 * 1024;
const KMS_KEY = 'arn:aws:kms:us-east-1:111122223333:key/haven-test';
let server: TestS3Server;
let storage: S3Storage;
/** Headers of every request the driver sent, by command, as they left the SDK (signed). */
const sent: Array<{ command: string; headers: Record<string, string> }> = [];

function driver(serverSideEncryption: ServerSideEncryption): S3Storage {
  const created = createS3Storage({
    endpoint: server.endpoint,
    region: server.region,
    bucket: server.bucket,
    credentials: server.credentials,
    forcePathStyle: true,
    serverSideEncryption,
  });
  created.client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers: Record<string, string> };
      sent.push({ command: context.commandName ?? '', headers: { ...request.headers } });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'captureHeaders' },
  );
  return created;
}

beforeAll(async () => {
  server = await startS3Server();
  storage = driver({ mode: 'aws:kms', kmsKeyId: KMS_KEY });
});
afterAll(async () => {
  storage.client.destroy();
  await server.stop();
});

const put = (s: S3Storage, key: string, data: Buffer) =>
  s.putObject(key, Readable.from([data]), { contentType: 'application/pdf', size: data.length });
const lastSent = (command: string) => sent.filter((r) => r.command === command).at(-1)?.headers;

describe('S3 storage: objects', () => {
  it('puts, reads, reads a range, heads and deletes an object', async () => {
    const data = randomBytes(300_000);
    expect(await put(storage, 'files/a', data)).toEqual({ size: data.length });
    const got = await storage.getObject('files/a');
    expect(got.size).toBe(data.length);
    expect((await buffer(got.stream)).equals(data)).toBe(true);
    const range = await storage.getObject('files/a', { range: { start: 1000, end: 1999 } });
    expect({ size: range.size, contentLength: range.contentLength }).toEqual({
      size: data.length,
      contentLength: 1000,
    });
    expect((await buffer(range.stream)).equals(data.subarray(1000, 2000))).toBe(true);
    expect(await storage.headObject('files/a')).toMatchObject({
      size: data.length,
      contentType: 'application/pdf',
    });
    await storage.deleteObject('files/a');
    await storage.deleteObject('files/a');
    expect(await storage.headObject('files/a')).toBeUndefined();
    await expect(storage.getObject('files/a')).rejects.toMatchObject({ code: 'STORAGE_NOT_FOUND' });
  });

  it('stores a body of unknown length as a multipart upload', async () => {
    const data = randomBytes(9 * MiB + 17);
    const source = Readable.from([data.subarray(0, 3 * MiB), data.subarray(3 * MiB)]);
    expect(
      await storage.putObject('files/unknown', source, { contentType: 'application/zip' }),
    ).toEqual({ size: data.length });
    expect((await buffer((await storage.getObject('files/unknown')).stream)).equals(data)).toBe(
      true,
    );
  });

  it('refuses a body whose length differs from the declared size', async () => {
    await expect(
      storage.putObject('files/short', Readable.from([randomBytes(10)]), {
        contentType: 'text/plain',
        size: 20,
      }),
    ).rejects.toMatchObject({ code: 'STORAGE_SIZE_MISMATCH' });
    expect(await storage.headObject('files/short')).toBeUndefined();
  });

  it('headBucket reaches the bucket; a missing bucket and bad names are typed errors', async () => {
    await storage.headBucket();
    const other = createS3Storage({
      endpoint: server.endpoint,
      region: server.region,
      bucket: 'no-such-bucket',
      credentials: server.credentials,
      forcePathStyle: true,
      serverSideEncryption: { mode: 'none' },
    });
    await expect(other.headBucket()).rejects.toMatchObject({ code: 'STORAGE_BUCKET_NOT_FOUND' });
    for (const bucket of ['A', 'under_score', '192.168.0.1', 'a..b', '-dash']) {
      expect(() =>
        createS3Storage({
          region: 'us-east-1',
          bucket,
          credentials: server.credentials,
          serverSideEncryption: { mode: 'none' },
        }),
      ).toThrow(/bucket name/);
    }
  });
});

describe('F4: server-side encryption is requested on every write', () => {
  it('F4: SSE-KMS with its key id is sent on PutObject and CreateMultipartUpload', async () => {
    await put(storage, 'files/kms', randomBytes(10));
    await storage.abortMultipartUpload(
      'files/kms-mp',
      await storage.createMultipartUpload('files/kms-mp', { contentType: 'text/plain' }),
    );
    for (const command of ['PutObjectCommand', 'CreateMultipartUploadCommand']) {
      expect(lastSent(command)).toMatchObject({
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': KMS_KEY,
      });
    }
  });

  it('F4: SSE-S3 sends AES256; "none" sends no SSE header', async () => {
    const sse = driver({ mode: 'AES256' });
    await put(sse, 'files/sse-s3', randomBytes(10));
    expect(lastSent('PutObjectCommand')?.['x-amz-server-side-encryption']).toBe('AES256');
    const plain = driver({ mode: 'none' });
    await put(plain, 'files/sse-none', randomBytes(10));
    expect(lastSent('PutObjectCommand')).not.toHaveProperty('x-amz-server-side-encryption');
  });

  it('F4: SSE-KMS without a key id is refused at configuration', () => {
    expect(() => driver({ mode: 'aws:kms', kmsKeyId: ' ' })).toThrow(/KMS key id/);
  });

  it('F4: headObject reports the encryption storage answers with, for the check after completion', async () => {
    // fauxqs does not echo SSE; a real S3 answers with these headers, added here on the way in.
    const probe = driver({ mode: 'none' });
    probe.client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const response = result.response as { headers: Record<string, string> };
        response.headers['x-amz-server-side-encryption'] = 'aws:kms';
        response.headers['x-amz-server-side-encryption-aws-kms-key-id'] = KMS_KEY;
        return result;
      },
      { step: 'deserialize', name: 'fakeSseAnswer', priority: 'low' },
    );
    await put(probe, 'files/sse-head', randomBytes(10));
    const head = await probe.headObject('files/sse-head');
    expect(head).toMatchObject({ serverSideEncryption: 'aws:kms', kmsKeyId: KMS_KEY });
    expect(encryptionMatches(storage.expectedEncryption!, head!)).toBe(true);
  });

  it('F4: the check after completion refuses another algorithm, another key or none', () => {
    const expected = storage.expectedEncryption!;
    expect(expected).toEqual({ serverSideEncryption: 'aws:kms', kmsKeyId: KMS_KEY });
    const head = { size: 1, contentType: 'text/plain' };
    expect(encryptionMatches(expected, head)).toBe(false);
    expect(encryptionMatches(expected, { ...head, serverSideEncryption: 'AES256' })).toBe(false);
    expect(
      encryptionMatches(expected, {
        ...head,
        serverSideEncryption: 'aws:kms',
        kmsKeyId: `${KMS_KEY}-other`,
      }),
    ).toBe(false);
    // SSE-S3 expected: an object stored with no encryption, or under KMS instead, is refused.
    const sseS3 = { serverSideEncryption: 'AES256' } as const;
    expect(encryptionMatches(sseS3, head)).toBe(false);
    expect(encryptionMatches(sseS3, { ...head, serverSideEncryption: 'aws:kms' })).toBe(false);
    expect(encryptionMatches(sseS3, { ...head, serverSideEncryption: 'AES256' })).toBe(true);
    // A bare key id is configured, S3 reports the ARN: the same key.
    expect(
      encryptionMatches(
        { serverSideEncryption: 'aws:kms', kmsKeyId: '1234abcd-12ab' },
        {
          ...head,
          serverSideEncryption: 'aws:kms',
          kmsKeyId: 'arn:aws:kms:eu-west-1:1:key/1234abcd-12ab',
        },
      ),
    ).toBe(true);
    expect(driver({ mode: 'AES256' }).expectedEncryption).toEqual({
      serverSideEncryption: 'AES256',
    });
    expect(driver({ mode: 'none' }).expectedEncryption).toBeNull();
  });
});

describe('F2: multipart uploads', () => {
  async function putPart(url: string, body: Buffer): Promise<string> {
    const response = await fetch(url, { method: 'PUT', body: new Uint8Array(body) });
    expect(response.status).toBe(200);
    return response.headers.get('etag')!;
  }

  it('F2: parts go straight to storage through presigned URLs and complete with the recorded ETags', async () => {
    const key = 'files/presigned-mp';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'application/dicom' });
    const parts = [randomBytes(5 * MiB), randomBytes(123_456)];
    const recorded: Array<{ partNumber: number; etag: string }> = [];
    // Out of order, as concurrent browser uploads arrive.
    for (const partNumber of [2, 1]) {
      const url = await storage.presigner.presignUploadPart(
        { key, uploadId, partNumber },
        { expiresInSeconds: 300 },
      );
      recorded.push({ partNumber, etag: await putPart(url, parts[partNumber - 1]!) });
    }
    const whole = Buffer.concat(parts);
    expect(await storage.completeMultipartUpload(key, uploadId, recorded)).toEqual({
      size: whole.length,
    });
    expect((await buffer((await storage.getObject(key)).stream)).equals(whole)).toBe(true);
  });

  it('F2: the server-side path (tus) uploads parts itself; a wrong ETag or a small part is refused', async () => {
    const key = 'files/server-mp';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/csv' });
    const upload = (partNumber: number, data: Buffer) =>
      storage.uploadPart({
        key,
        uploadId,
        partNumber,
        body: Readable.from([data]),
        size: data.length,
      });
    const first = await upload(1, randomBytes(MiB));
    const second = await upload(2, randomBytes(10));
    await expect(
      storage.completeMultipartUpload(key, uploadId, [
        { partNumber: 1, ...first },
        { partNumber: 2, etag: first.etag },
      ]),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_PART' });
    await expect(
      storage.completeMultipartUpload(key, uploadId, [
        { partNumber: 1, ...first },
        { partNumber: 2, ...second },
      ]),
    ).rejects.toMatchObject({ code: 'STORAGE_PART_TOO_SMALL' });
    const bigger = await upload(1, randomBytes(5 * MiB));
    const done = await storage.completeMultipartUpload(key, uploadId, [
      { partNumber: 1, ...bigger },
      { partNumber: 2, ...second },
    ]);
    expect(done.size).toBe(5 * MiB + 10);
  });

  it('F2: listParts follows every page of ListParts (answered here: fauxqs has none)', async () => {
    const page = (parts: number[], next?: number) =>
      `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult><Bucket>${server.bucket}</Bucket>` +
      `<Key>files/list</Key><UploadId>u-1</UploadId><IsTruncated>${next !== undefined}</IsTruncated>` +
      (next === undefined ? '' : `<NextPartNumberMarker>${next}</NextPartNumberMarker>`) +
      parts
        .map(
          (n) =>
            `<Part><PartNumber>${n}</PartNumber><ETag>"e${n}"</ETag><Size>${n * 10}</Size></Part>`,
        )
        .join('') +
      '</ListPartsResult>';
    const lister = driver({ mode: 'none' });
    const markers: Array<string | null> = [];
    lister.client.middlewareStack.add(
      () => async (args) => {
        const request = args.request as { query: Record<string, string> };
        markers.push(request.query['part-number-marker'] ?? null);
        const body = markers.length === 1 ? page([1, 2], 2) : page([3]);
        return {
          response: {
            statusCode: 200,
            headers: { 'content-type': 'application/xml' },
            body: Readable.from([Buffer.from(body)]),
          },
          output: {},
        } as never;
      },
      { step: 'deserialize', name: 'cannedListParts', priority: 'low' },
    );
    expect(await lister.partLister.listParts('files/list', 'u-1')).toEqual([
      { partNumber: 1, etag: '"e1"', size: 10 },
      { partNumber: 2, etag: '"e2"', size: 20 },
      { partNumber: 3, etag: '"e3"', size: 30 },
    ]);
    expect(markers).toEqual([null, '2']);
  });

  it('F7: abort ends the upload; aborting again is fine; later parts are refused', async () => {
    const key = 'files/abort-mp';
    const uploadId = await storage.createMultipartUpload(key, { contentType: 'text/csv' });
    await storage.abortMultipartUpload(key, uploadId);
    await storage.abortMultipartUpload(key, uploadId);
    await expect(
      storage.uploadPart({
        key,
        uploadId,
        partNumber: 1,
        body: Readable.from([Buffer.alloc(1)]),
        size: 1,
      }),
    ).rejects.toMatchObject({ code: 'STORAGE_UPLOAD_NOT_FOUND' });
  });

  it('F2: part numbers and presign lifetimes are checked before anything is signed', async () => {
    for (const partNumber of [0, 10_001, 2.5]) {
      await expect(
        storage.presigner.presignUploadPart(
          { key: 'files/x', uploadId: 'u', partNumber },
          { expiresInSeconds: 60 },
        ),
      ).rejects.toMatchObject({ code: 'STORAGE_INVALID_PART' });
    }
    await expect(
      storage.presigner.presignUploadPart(
        { key: 'files/x', uploadId: 'u', partNumber: 1 },
        { expiresInSeconds: 301 },
      ),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_ARGUMENT' });
    await expect(
      storage.presigner.presignUploadPart(
        { key: '../x', uploadId: 'u', partNumber: 1 },
        { expiresInSeconds: 60 },
      ),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_KEY' });
  });
});

describe('F6: presigned downloads', () => {
  it('F6: a GET link lives at most 300 s and asks for an attachment with an RFC 5987 name', async () => {
    const data = randomBytes(2000);
    await put(storage, 'files/download', data);
    const url = new URL(
      await storage.presigner.presignGet('files/download', {
        expiresInSeconds: 300,
        filename: 'Résumé "scan"\r\n.pdf',
        contentType: 'application/pdf',
      }),
    );
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('response-content-disposition')).toBe(
      `attachment; filename="R_sum_ _scan___.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22scan%22%0D%0A.pdf`,
    );
    expect(url.searchParams.get('response-content-type')).toBe('application/pdf');
    const response = await fetch(url);
    expect(Buffer.from(await response.arrayBuffer()).equals(data)).toBe(true);
    await expect(
      storage.presigner.presignGet('files/download', {
        expiresInSeconds: 301,
        filename: 'a',
        contentType: 'a/b',
      }),
    ).rejects.toMatchObject({ code: 'STORAGE_INVALID_ARGUMENT' });
  });
});
