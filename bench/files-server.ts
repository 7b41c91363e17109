// Server side of files.bench.ts, forked: the real Haven app on the embedded defaults (PGlite,
// the encrypting filesystem driver in the bench's own data folder), rate limits lifted, request
// logs silent, one clinician's access token; beside it a sink that only reads request bodies. It
// reports its RSS, the peak seen between samples and its CPU time, so the parent measures the
// server alone.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { buildApp } from '../server/src/app.js';
import { loadConfig, RATE_CLASSES } from '../server/src/config.js';
import { createActor } from '../server/test/actors.js';

export interface FilesReady {
  readonly type: 'ready';
  readonly appUrl: string;
  /** A plain node:http server in this process that reads each body and discards it. */
  readonly sinkUrl: string;
  readonly authorization: string;
}

export interface FilesRss {
  readonly type: 'rss';
  readonly rss: number;
  readonly peakRss: number;
  /** process.cpuUsage() of the server (µs, user + system) when asked. */
  readonly cpuMicros: number;
}

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir || !process.send) throw new Error('files-server.ts is forked by files.bench.ts');
  const rates = Object.fromEntries(
    RATE_CLASSES.map((name) => [`HAVEN_RATE_${name.toUpperCase()}`, '1000000/60']),
  );
  const config = loadConfig({
    HAVEN_ENV: 'development',
    HAVEN_DATA_DIR: dataDir,
    HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
    HAVEN_LOG_LEVEL: 'silent',
    HAVEN_FILES_USER_QUOTA_MB: '1000000',
    HAVEN_FILES_STORAGE_QUOTA_MB: '1000000',
    ...rates,
  });
  const app = await buildApp(config, { logger: pino({ level: 'silent' }) });
  // The parent kills this process at the end: exit normally, so a --cpu-prof profile is written.
  process.on('SIGTERM', () => process.exit(0));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const clinician = await createActor(app, ['clinician']);
  // The floor: the same requests to a server that only reads the bytes (the HTTP transfer's own
  // cost on this machine, with nothing stored).
  const sink = createServer((request, response) => {
    request.on('data', () => undefined);
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  let peakRss = process.memoryUsage().rss;
  process.on('message', (message: { type: string }) => {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    if (message.type === 'rss') {
      const { user, system } = process.cpuUsage();
      process.send?.({ type: 'rss', rss, peakRss, cpuMicros: user + system } satisfies FilesRss);
      peakRss = rss;
    }
  });
  process.send({
    type: 'ready',
    appUrl: `http://127.0.0.1:${port}`,
    sinkUrl: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    authorization: clinician.authorization,
  } satisfies FilesReady);
}

await main();
