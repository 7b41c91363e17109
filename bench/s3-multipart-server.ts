// Forked by s3-multipart.bench.ts: the real Haven app with the S3 driver as its default storage
// (HAVEN_STORAGE_URL pointing at the bench's local store), PGlite in a temporary folder, rate
// limits and quotas lifted, request logs silent, and one clinician's access token. Haven only
// signs and records here: the part bytes go from the client straight to the store.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { buildApp } from '../server/src/app.js';
import { loadConfig, RATE_CLASSES } from '../server/src/config.js';
import { createActor } from '../server/test/actors.js';

export interface HavenReady {
  readonly type: 'ready';
  readonly appUrl: string;
  readonly authorization: string;
}

const [dataDir, storageUrl] = process.argv.slice(2);
if (!dataDir || !storageUrl || !process.send) {
  throw new Error('s3-multipart-server.ts is forked by s3-multipart.bench.ts');
}
const rates = Object.fromEntries(
  RATE_CLASSES.map((name) => [`HAVEN_RATE_${name.toUpperCase()}`, '1000000/60']),
);
const config = loadConfig({
  HAVEN_ENV: 'development',
  HAVEN_DATA_DIR: dataDir,
  HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
  HAVEN_LOG_LEVEL: 'silent',
  HAVEN_STORAGE_URL: storageUrl,
  HAVEN_FILES_USER_QUOTA_MB: '1000000',
  HAVEN_FILES_STORAGE_QUOTA_MB: '1000000',
  ...rates,
});
const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
await app.listen({ host: '127.0.0.1', port: 0 });
const { port } = app.server.address() as AddressInfo;
const clinician = await createActor(app, ['clinician']);
process.on('disconnect', () => void app.close().then(() => process.exit(0)));
process.send({
  type: 'ready',
  appUrl: `http://127.0.0.1:${port}`,
  authorization: clinician.authorization,
} satisfies HavenReady);
