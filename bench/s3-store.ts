// Forked by s3-multipart.bench.ts: the local S3-compatible store (fauxqs, in memory, 127.0.0.1,
// the same stand-in the tests use) in a process of its own, so neither the load generator nor
// Haven shares its event loop. It reports its endpoint and stops when the parent disconnects.
import { startS3Server } from '../server/test/s3-server.js';

export interface StoreReady {
  readonly type: 'ready';
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
}

if (!process.send) throw new Error('s3-store.ts is forked by s3-multipart.bench.ts');
const store = await startS3Server('haven-bench');
process.on('disconnect', () => void store.stop().then(() => process.exit(0)));
process.send({
  type: 'ready',
  endpoint: store.endpoint,
  region: store.region,
  bucket: store.bucket,
  credentials: store.credentials,
} satisfies StoreReady);
