// SigV4 and transport for the S3 driver: presigned URLs carry a signature that recomputes with
// the SDK's own signer (fauxqs checks none, so this is the only place a signature is proved),
// and a dead or silent endpoint fails within bounded time with a typed error.
import { createHash, createHmac } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Server, type TestS3Server } from '../../../test/s3-server.js';
import { createS3Storage, type S3Storage } from './s3.js';

let server: TestS3Server;
let storage: S3Storage;

beforeAll(async () => {
  server = await startS3Server();
  storage = createS3Storage({
    endpoint: server.endpoint,
    region: server.region,
    bucket: server.bucket,
    credentials: server.credentials,
    forcePathStyle: true,
    serverSideEncryption: { mode: 'AES256' },
  });
});
afterAll(async () => {
  storage.client.destroy();
  await server.stop();
});

/** node:crypto SHA-256 in the Checksum shape the SDK's signer takes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {}
}

/** Recomputes a presigned URL's SigV4 signature with @smithy/signature-v4, independently of
 *  the presigner that made it. S3 presigned URLs sign the payload as UNSIGNED-PAYLOAD. */
async function expectedSignature(url: URL, method: 'GET' | 'PUT'): Promise<string> {
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) if (name !== 'X-Amz-Signature') query[name] = value;
  const date = query['X-Amz-Date']!;
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    service: 's3',
    region: server.region,
    credentials: server.credentials,
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const presigned = await signer.presign(
    {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: { host: url.host, 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
    },
    { signingDate, expiresIn: Number(query['X-Amz-Expires']) },
  );
  return presigned.query!['X-Amz-Signature'] as string;
}

describe('SigV4: presigned URLs carry a valid signature over what they allow', () => {
  it('SigV4: the part URL signature recomputes; changing its part number or upload breaks it', async () => {
    const url = new URL(
      await storage.presigner.presignUploadPart(
        { key: 'files/sig', uploadId: 'upload-1', partNumber: 7 },
        { expiresInSeconds: 120 },
      ),
    );
    const signature = url.searchParams.get('X-Amz-Signature');
    expect(await expectedSignature(url, 'PUT')).toBe(signature);
    const otherPart = new URL(url);
    otherPart.searchParams.set('partNumber', '8');
    expect(await expectedSignature(otherPart, 'PUT')).not.toBe(signature);
    const otherUpload = new URL(url);
    otherUpload.searchParams.set('uploadId', 'upload-2');
    expect(await expectedSignature(otherUpload, 'PUT')).not.toBe(signature);
  });

  it('SigV4: the download URL signature covers the attachment disposition', async () => {
    const url = new URL(
      await storage.presigner.presignGet('files/sig', {
        expiresInSeconds: 60,
        filename: 'x.pdf',
        contentType: 'application/pdf',
      }),
    );
    const signature = url.searchParams.get('X-Amz-Signature');
    expect(await expectedSignature(url, 'GET')).toBe(signature);
    url.searchParams.set('response-content-disposition', 'inline');
    expect(await expectedSignature(url, 'GET')).not.toBe(signature);
  });
});

describe('an unreachable endpoint fails fast with a typed error', () => {
  const against = (endpoint: string) =>
    createS3Storage({
      endpoint,
      region: 'us-east-1',
      bucket: 'haven-test',
      credentials: server.credentials,
      forcePathStyle: true,
      serverSideEncryption: { mode: 'none' },
      connectTimeoutMs: 500,
      idleTimeoutMs: 500,
      maxAttempts: 2,
    });

  it('a closed port: STORAGE_UNAVAILABLE within seconds', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const started = Date.now();
    await expect(against(`http://127.0.0.1:${port}`).headBucket()).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a server that accepts and never answers: STORAGE_UNAVAILABLE after the idle timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const started = Date.now();
      await expect(against(`http://127.0.0.1:${port}`).headObject('files/x')).rejects.toMatchObject(
        { code: 'STORAGE_UNAVAILABLE' },
      );
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
