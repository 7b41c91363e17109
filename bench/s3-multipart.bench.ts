// Issue 11's S3 benchmark: a file uploaded the way the SPA's @uppy/aws-s3 does it through Haven
// (Haven starts the multipart upload, presigns each part, the client PUTs the bytes straight to
// the store and Haven records the part; Haven completes from its own record) against the AWS
// SDK's own multipart upload (`@aws-sdk/lib-storage` `Upload`) of the same bytes to the same
// store, with the same part size and the same number of parts in flight. Alternating rounds in
// one run; the ratio compares mean throughput.
//
//   node --import tsx bench/s3-multipart.bench.ts
//   BENCH_FILE_MB=512 BENCH_ROUNDS=3 node --import tsx bench/s3-multipart.bench.ts
//
// Target: Haven ÷ SDK ≥ 0.8. The store is fauxqs (in memory, one process): it measures what
// Haven adds per part (two small authenticated requests, a signature, a database write), not
// what a real S3 would take for the bytes, which both sides would pay alike.
import './allocator.js'; // first: the glibc malloc settings Haven is deployed with
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { HavenReady } from './s3-multipart-server.js';
import type { StoreReady } from './s3-store.js';

const MIB = 1024 * 1024;
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 256);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** Parts in flight at once, on both sides (Uppy's default limit for @uppy/aws-s3 is 6). */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

/** Part `index` of a deterministic "PDF"; every part is made on demand, never the whole file. */
function partBytes(index: number, size: number): Buffer {
  const part = Buffer.alloc(size, 0x20 + (index % 64));
  if (index === 0) part.write('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 0, 'latin1');
  return part;
}

/** Runs `work` for 0..count-1 with at most `limit` running at once. */
async function eachLimited(
  count: number,
  limit: number,
  work: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) {
      const index = next;
      next += 1;
      await work(index);
    }
  });
  await Promise.all(lanes);
}

async function json<T>(response: Response, expected: number, what: string): Promise<T> {
  if (response.status !== expected) {
    throw new Error(`${what}: ${response.status} ${await response.text()}`);
  }
  return (await response.json()) as T;
}

async function havenUpload(haven: HavenReady, bytes: number, round: number): Promise<number> {
  const headers = { authorization: haven.authorization, 'content-type': 'application/json' };
  const api = (path: string, method: string, body?: object) =>
    fetch(`${haven.appUrl}${path}`, {
      method,
      headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  const started = performance.now();
  const session = await json<{ uploadId: string; partSize: number; partCount: number }>(
    await api('/api/files/multipart', 'POST', { name: `bench-${round}.pdf`, size: bytes }),
    201,
    'start',
  );
  const base = `/api/files/multipart/${session.uploadId}`;
  await eachLimited(session.partCount, CONCURRENCY, async (index) => {
    const partNumber = index + 1;
    const size = Math.min(session.partSize, bytes - index * session.partSize);
    const { url } = await json<{ url: string }>(
      await api(`${base}/parts/${partNumber}/url`, 'POST', {}),
      200,
      `presign part ${partNumber}`,
    );
    const put = await fetch(url, { method: 'PUT', body: new Uint8Array(partBytes(index, size)) });
    if (!put.ok) throw new Error(`part ${partNumber}: ${put.status} ${await put.text()}`);
    const etag = put.headers.get('etag') ?? '';
    await json(
      await api(`${base}/parts/${partNumber}`, 'PUT', { etag, size }),
      200,
      `record part ${partNumber}`,
    );
  });
  await json(await api(`${base}/complete`, 'POST', {}), 200, 'complete');
  return performance.now() - started;
}

async function sdkUpload(
  client: S3Client,
  store: StoreReady,
  bytes: number,
  partSize: number,
  key: string,
): Promise<number> {
  const parts = Math.ceil(bytes / partSize);
  async function* body(): AsyncGenerator<Buffer> {
    for (let index = 0; index < parts; index += 1) {
      yield partBytes(index, Math.min(partSize, bytes - index * partSize));
    }
  }
  const started = performance.now();
  const upload = new Upload({
    client,
    params: {
      Bucket: store.bucket,
      Key: key,
      Body: Readable.from(body(), { objectMode: false }),
      ContentType: 'application/pdf',
    },
    partSize,
    queueSize: CONCURRENCY,
    leavePartsOnError: false,
  });
  await upload.done();
  const ms = performance.now() - started;
  await client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: key }));
  return ms;
}

function forkReady<T>(script: string, args: string[]): { child: ChildProcess; ready: Promise<T> } {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
    execArgv: ['--import', 'tsx'],
  });
  const ready = new Promise<T>((resolve, reject) => {
    child.once('message', (message) => resolve(message as T));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${String(code)}`)));
  });
  return { child, ready };
}

async function main(): Promise<void> {
  const bytes = FILE_MB * MIB;
  const dir = mkdtempSync(join(tmpdir(), 'haven-s3-bench-'));
  const store = forkReady<StoreReady>('./s3-store.ts', []);
  let haven: ReturnType<typeof forkReady<HavenReady>> | undefined;
  try {
    const storeReady = await store.ready;
    const { accessKeyId, secretAccessKey } = storeReady.credentials;
    const host = new URL(storeReady.endpoint).host;
    const storageUrl = `s3+http://${accessKeyId}:${secretAccessKey}@${host}/${storeReady.bucket}?region=${storeReady.region}&path_style=true&sse=none`;
    haven = forkReady<HavenReady>('./s3-multipart-server.ts', [dir, storageUrl]);
    const havenReady = await haven.ready;
    const client = new S3Client({
      endpoint: storeReady.endpoint,
      region: storeReady.region,
      credentials: storeReady.credentials,
      forcePathStyle: true,
    });
    // The part size Haven picks for this file, so the SDK uploads in the same pieces.
    const probe = await fetch(`${havenReady.appUrl}/api/files/multipart`, {
      method: 'POST',
      headers: { authorization: havenReady.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'probe.pdf', size: bytes }),
    });
    const { uploadId, partSize } = await json<{ uploadId: string; partSize: number }>(
      probe,
      201,
      'probe',
    );
    await fetch(`${havenReady.appUrl}/api/files/multipart/${uploadId}`, {
      method: 'DELETE',
      headers: { authorization: havenReady.authorization },
    });
    // Warm-up: one small upload each way (connections, JIT, the database's first plans).
    await sdkUpload(client, storeReady, 2 * partSize, partSize, 'warm-up');
    await havenUpload(havenReady, 2 * partSize, -1);
    const sdkMs: number[] = [];
    const havenMs: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      sdkMs.push(await sdkUpload(client, storeReady, bytes, partSize, `sdk-${round}`));
      havenMs.push(await havenUpload(havenReady, bytes, round));
    }
    client.destroy();
    const rate = (ms: number[]) => bytes / MIB / (ms.reduce((a, b) => a + b, 0) / ms.length / 1000);
    const sdkRate = rate(sdkMs);
    const havenRate = rate(havenMs);
    const ratio = havenRate / sdkRate;
    console.log(
      `S3 multipart bench: ${FILE_MB} MiB in ${String(Math.ceil(bytes / partSize))} parts of ${String(partSize / MIB)} MiB, ` +
        `${String(CONCURRENCY)} in flight, ${String(ROUNDS)} alternating rounds, store: fauxqs on 127.0.0.1`,
    );
    console.log(`AWS SDK Upload (lib-storage):           ${sdkRate.toFixed(0)} MiB/s`);
    console.log(`Haven (start, presign, PUT, record, complete): ${havenRate.toFixed(0)} MiB/s`);
    console.log(
      `${ratio >= 0.8 ? 'PASS' : 'MISS'}  Haven presigned multipart ÷ SDK multipart = ${ratio.toFixed(2)} (target ≥ 0.8)`,
    );
  } finally {
    haven?.child.disconnect();
    store.child.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
