// T3: the app shell is never cached (a signed-out or switched user must not get a stale
// index.html from a shared cache), while content-hashed assets are cached for good.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app-harness.js';

describe('SPA caching', () => {
  let webDir: string;
  let harness: TestApp;

  beforeAll(async () => {
    webDir = mkdtempSync(path.join(tmpdir(), 'haven-web-'));
    mkdirSync(path.join(webDir, 'assets'));
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(webDir, 'assets', 'index-a1B2c3D4.js'), 'console.log(1);');
    harness = await createTestApp('pglite', { env: { HAVEN_WEB_DIR: webDir } });
  });

  afterAll(async () => {
    await harness.close();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('T3/shared caches: index.html (at / and at a client-side route) is served no-store, never public', async () => {
    for (const url of ['/', '/patients', '/index.html']) {
      const response = await harness.app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
      expect(response.headers['content-type'], url).toMatch(/^text\/html/);
      expect(response.headers['cache-control'], url).toBe('no-store');
    }
  });

  it('T3: a content-hashed asset is cached as immutable', async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/assets/index-a1B2c3D4.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('T3/poisoned cache: a missing or refused hashed asset is answered no-store, not immutable', async () => {
    // A node that does not have a new build's asset yet (rolling deploy) must not let browsers
    // and shared caches keep its 404 for a year under the asset's final URL.
    const response = await harness.app.inject({ method: 'GET', url: '/assets/index-Zz9Yy8Xx.js' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['cache-control']).toBe('no-store');
  });
});
