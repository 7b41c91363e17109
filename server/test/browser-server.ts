// A real Haven server for the Chromium tests: embedded database, the built SPA from
// web/dist, listening on 127.0.0.1 on a free port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { testEnv } from './app-harness.js';

const WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

export async function startBrowserTestServer(
  env: Record<string, string | undefined> = {},
): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'haven-browser-'));
  const config = loadConfig(
    testEnv({
      HAVEN_DATA_DIR: dataDir,
      HAVEN_WEB_DIR: WEB_DIST,
      PORT: '0',
      HAVEN_COOKIE_SECURE: 'true',
      ...env,
    }),
  );
  const app = await buildApp(config);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
