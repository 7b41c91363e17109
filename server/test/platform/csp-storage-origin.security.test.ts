// T3 with direct uploads: browsers PUT upload parts straight to S3 storage (F2), so the CSP's
// connect-src must admit that one origin. The attack it stops is a widened policy: `*`, a
// scheme, or any origin but the configured storage's would let injected script post PHI
// anywhere. The origin is the one the storage presigns part URLs for, so path-style and
// virtual-hosted endpoints both name exactly the host browsers are sent to.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import { defaultStorageUrl, startS3Server, type TestS3Server } from '../s3-server.js';

async function connectSrc(t: TestApp, url = '/'): Promise<string[] | undefined> {
  const response = await t.app.inject({ method: 'GET', url });
  const csp = String(response.headers['content-security-policy'] ?? '');
  const directive = csp
    .split(';')
    .map((d) => d.trim().split(/\s+/))
    .find(([name]) => name === 'connect-src');
  return directive?.slice(1);
}

describeEachEngine('CSP connect-src and the storage origin', (engine) => {
  let s3: TestS3Server;
  let pathStyle: TestApp;
  let virtualHosted: TestApp;
  let filesystem: TestApp;

  beforeAll(async () => {
    s3 = await startS3Server('haven-csp');
    pathStyle = await createTestApp(engine, { env: { HAVEN_STORAGE_URL: defaultStorageUrl(s3) } });
    const { accessKeyId, secretAccessKey } = s3.credentials;
    // Never contacted: the origin is read from a URL the driver signs locally.
    virtualHosted = await createTestApp(engine, {
      env: {
        HAVEN_STORAGE_URL: `s3+https://${accessKeyId}:${secretAccessKey}@storage.example.test/haven-bucket?region=eu-west-1`,
      },
    });
    filesystem = await createTestApp(engine);
  });
  afterAll(async () => {
    await Promise.all([pathStyle?.close(), virtualHosted?.close(), filesystem?.close()]);
    await s3?.stop();
  });

  it('T3/exfiltration: CSP connect-src admits only the configured storage origin (path-style)', async () => {
    expect(await connectSrc(pathStyle)).toEqual(["'self'", s3.endpoint]);
    expect(await connectSrc(pathStyle, '/api/files/usage')).toEqual(["'self'", s3.endpoint]);
  });

  it('T3/exfiltration: a virtual-hosted bucket adds its own host, not the endpoint or a wildcard', async () => {
    expect(await connectSrc(virtualHosted)).toEqual([
      "'self'",
      'https://haven-bucket.storage.example.test',
    ]);
  });

  it('T3/exfiltration: with the filesystem storage connect-src stays same-origin only', async () => {
    expect(await connectSrc(filesystem)).toEqual(["'self'"]);
  });
});
