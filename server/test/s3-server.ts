// A real S3-compatible server for tests: fauxqs (in memory) listening on 127.0.0.1 on a free
// port, in this process. Know its gaps: it checks no signatures (SigV4 is verified separately
// with the SDK's own signer), has no ListParts, ignores SSE headers and the response-* query
// parameters of presigned GETs. It does enforce the 5 MiB minimum part size and part ETags.
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { buildApp } from 'fauxqs';

export interface TestS3Server {
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}

const REGION = 'us-east-1';
// Any values do: fauxqs checks none. Fixed so SigV4 checks can recompute a signature.
const CREDENTIALS = { accessKeyId: 'AKIAHAVENTEST0000000', secretAccessKey: 'haven-test-secret' };

export async function startS3Server(bucket = 'haven-test'): Promise<TestS3Server> {
  const app = buildApp({ logger: false, defaultRegion: REGION });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fauxqs has no port');
  const endpoint = `http://127.0.0.1:${address.port}`;
  const admin = new S3Client({
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
  });
  const createBucket = async (name: string) => {
    await admin.send(new CreateBucketCommand({ Bucket: name }));
  };
  await createBucket(bucket);
  return {
    endpoint,
    region: REGION,
    bucket,
    credentials: CREDENTIALS,
    createBucket,
    async stop() {
      admin.destroy();
      await app.close();
    },
  };
}

/** `HAVEN_STORAGE_URL` naming the server's bucket as Haven's default storage (path style, no SSE). */
export function defaultStorageUrl(s3: TestS3Server): string {
  const { accessKeyId, secretAccessKey } = s3.credentials;
  const host = new URL(s3.endpoint).host;
  // The stand-in ignores SSE headers and reports none: the F4 check of S3 is proven in s3.test.ts.
  return `s3+http://${accessKeyId}:${secretAccessKey}@${host}/${s3.bucket}?region=${s3.region}&path_style=true&sse=none`;
}

/** The body of `POST /api/files/buckets` for the server's bucket, as an owner adds it. */
export function ownedBucketBody(
  s3: TestS3Server,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: s3.bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    pathStyle: true,
    accessKeyId: s3.credentials.accessKeyId,
    secretAccessKey: s3.credentials.secretAccessKey,
    sseMode: 'none',
    ...overrides,
  };
}
