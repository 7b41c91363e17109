// Medical file uploads in Chromium with S3 storage (issue 11 items 3 and 12): Haven runs with
// HAVEN_STORAGE_URL on a real S3-compatible server (fauxqs on 127.0.0.1, behind a CORS proxy
// that stands in for a bucket's CORS rules, s3-cors-proxy.ts), so the SPA's uploader uses
// @uppy/aws-s3 multipart: each part goes straight to storage with a URL Haven presigned, and is
// recorded with Haven before it counts. Pause/resume and a reload continue from the parts Haven
// recorded; no byte goes through tus. A bucket whose CORS rules hide ETag stops the upload with a
// sentence naming the fix (Playwright's clock skips the wait). The CSP admits the storage origin,
// and only it: a bucket the person owns, behind a second proxy on another origin, gets its parts
// through its upload relay frame, whose own CSP names that origin. Every page and frame is checked
// for CSP violations and page errors (suite.ts) and for accessibility. The same page with the filesystem storage uses tus (files.test.ts).
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrganization } from '../../server/test/actors.js';
import { startS3Server } from '../../server/test/s3-server.js';
import { expectAccessible } from './accessibility.js';
import { pdf, useScratchFiles } from './upload-fixtures.js';
import { seedUser, type SeededUser } from './haven-server.js';
import { startCorsProxy } from './s3-cors-proxy.js';
import { settle, useBrowserSuite } from './suite.js';

const PASSWORD = 'parts go straight to the bucket';
const MIB = 1024 * 1024;
/** The server's part size for S3 (multipart.ts partSizeFor: 8 MiB below 80 GB). */
const PART = 8 * MIB;
const SIZE = PART + 2 * MIB;
const WAITING =
  'Waiting for a malware check: no scanner is configured, so it cannot be downloaded yet.';

// Started before the suite: the server's configuration names the storage.
const s3 = await startS3Server('haven-browser');
const proxy = await startCorsProxy(s3.endpoint);
/** An owned bucket's origin: the same stand-in behind a second proxy (another port). */
const OWNED_BUCKET = 'haven-owned-browser';
await s3.createBucket(OWNED_BUCKET);
const ownedProxy = await startCorsProxy(s3.endpoint);
afterAll(async () => {
  await ownedProxy.close();
  await proxy.close();
  await s3.stop();
});

function storageUrl(): string {
  const { accessKeyId, secretAccessKey } = s3.credentials;
  const host = new URL(proxy.origin).host;
  // fauxqs ignores SSE headers and reports none: F4 for S3 is proven in s3.test.ts.
  return `s3+http://${accessKeyId}:${secretAccessKey}@${host}/${s3.bucket}?region=${s3.region}&path_style=true&sse=none`;
}

// The test-only widening lets an owned bucket's endpoint be the loopback proxy (V5 refuses it
// everywhere else).
const suite = useBrowserSuite(
  { HAVEN_STORAGE_URL: storageUrl(), HAVEN_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' },
  { bucketEndpointTestCidrs: ['127.0.0.1/32'] },
);
const { open, goto } = suite;

async function seedClinician(displayName: string): Promise<SeededUser> {
  const s = suite.server();
  const user = await seedUser(s, {
    email: suite.uniqueEmail('clinician'),
    password: PASSWORD,
    roles: ['clinician'],
    displayName,
    withTotp: true,
  });
  await createOrganization(s.app.database.db, {
    name: `Clinic ${Date.now()} ${displayName}`,
    members: [{ userId: user.id, role: 'org_admin' }],
  });
  return user;
}

const fileOnDisk = useScratchFiles('haven-files-s3-e2e-');

/** The person's own bucket behind `ownedProxy`, as POST /api/files/buckets leaves one. */
async function insertOwnedBucket(ownerId: string): Promise<string> {
  const { app } = suite.server();
  const id = randomUUID();
  const sealed = app.fileServices.buckets.sealCredentials(id, s3.credentials);
  await app.database.db
    .insertInto('buckets')
    .values({
      id,
      owner_user_id: ownerId,
      owner_organization_id: null,
      endpoint: ownedProxy.origin,
      region: s3.region,
      bucket_name: OWNED_BUCKET,
      path_style: true,
      access_key_hint: s3.credentials.accessKeyId.slice(-4),
      credentials_sealed: sealed.sealed,
      credentials_key_id: sealed.keyId,
      // fauxqs ignores SSE headers and reports none (see storageUrl).
      sse_mode: 'none',
      kms_key_id: null,
      size_limit_bytes: null,
      created_by: ownerId,
      updated_by: ownerId,
    })
    .execute();
  return id;
}

async function uploadSessions(ownerId: string) {
  return suite
    .server()
    .app.database.db.selectFrom('upload_sessions')
    .select(['id', 'status', 'protocol', 'received_bytes'])
    .where('owner_id', '=', ownerId)
    .execute();
}

/** Haven's upload routes the page calls: tus must see none of them. */
function recordUploadCalls(page: Page): { tus: string[]; multipart: string[] } {
  const seen = { tus: [] as string[], multipart: [] as string[] };
  page.on('request', (request) => {
    const url = new URL(request.url());
    const call = `${request.method()} ${url.pathname}`;
    if (url.pathname.startsWith('/api/files/uploads') && request.method() !== 'GET') {
      seen.tus.push(call);
    }
    if (url.pathname.startsWith('/api/files/multipart')) seen.multipart.push(call);
  });
  return seen;
}

async function signedInOnFiles(user: SeededUser): Promise<Page> {
  const { page } = await open('/sign-in');
  await suite.signIn(page, user.email, user.password, user.totp);
  await goto(page, '/files');
  await page.getByRole('heading', { level: 1, name: 'My files' }).waitFor();
  await page.getByText('No files yet.').waitFor();
  return page;
}

describe('files with S3 storage: multipart straight to storage (issue 11 item 3)', () => {
  it('uploads in two parts to storage, pauses, resumes from the recorded part, lists the file', async () => {
    const user = await seedClinician('Dr Bucket');
    const page = await signedInOnFiles(user);
    const calls = recordUploadCalls(page);
    const before = proxy.parts.length;

    // Hold part 2 in the network so the test can pause while it is under way.
    const hold = proxy.hold(2);
    await page
      .getByLabel('Files to upload')
      .setInputFiles(await fileOnDisk('Angiogram report.pdf', pdf(SIZE)));
    const row = page.getByTestId('upload').filter({ hasText: 'Angiogram report.pdf' });
    await hold.held;
    // Part 1 is stored and recorded with Haven before it counts.
    await expect
      .poll(async () => (await uploadSessions(user.id)).map((s) => Number(s.received_bytes)))
      .toEqual([PART]);
    await row.getByRole('button', { name: 'Pause upload of Angiogram report.pdf' }).click();
    await row.getByText(/^Paused at \d+%/).waitFor();
    hold.drop();
    const [session] = await uploadSessions(user.id);
    expect(session).toMatchObject({ status: 'open', protocol: 's3' });
    await expectAccessible(page, '/files with a paused S3 upload');

    await row.getByRole('button', { name: 'Resume upload of Angiogram report.pdf' }).click();
    await row.getByText(/^Uploaded\./).waitFor();
    const progress = row.getByRole('progressbar', { name: 'Progress of Angiogram report.pdf' });
    expect(await progress.getAttribute('value')).toBe(String(SIZE));
    const file = page.getByTestId('file').filter({ hasText: 'Angiogram report.pdf' });
    await file.getByText(WAITING).waitFor();
    expect(await file.textContent()).toContain('uploaded by Dr Bucket');

    // Part 1 reached storage once; part 2 only after the resume. Nothing went through tus.
    const parts = proxy.parts.slice(before);
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2]);
    expect(calls.tus).toEqual([]);
    const id = session!.id;
    expect(calls.multipart).toEqual(
      expect.arrayContaining([
        'POST /api/files/multipart',
        `PUT /api/files/multipart/${id}/parts/1`,
        `GET /api/files/multipart/${id}/parts`,
        `PUT /api/files/multipart/${id}/parts/2`,
        `POST /api/files/multipart/${id}/complete`,
      ]),
    );
    expect(calls.multipart.filter((c) => c === 'POST /api/files/multipart')).toHaveLength(1);
    expect(
      (await uploadSessions(user.id)).map((s) => [s.status, Number(s.received_bytes)]),
    ).toEqual([['completed', SIZE]]);
    await expect
      .poll(() => page.getByTestId('files-usage').textContent())
      .toBe('10 MB of 20 GB used.');
    await expectAccessible(page, '/files with an S3 upload');
  });

  it('after a reload, adding the same file again sends only the parts Haven has not recorded', async () => {
    const user = await seedClinician('Dr Reload Bucket');
    // A file on disk keeps its modification time, part of the fingerprint, across both picks.
    const onDisk = await fileOnDisk('Echo report.pdf', pdf(SIZE));
    const page = await signedInOnFiles(user);

    const hold = proxy.hold(2);
    await page.getByLabel('Files to upload').setInputFiles(onDisk);
    await hold.held;
    await expect
      .poll(async () => (await uploadSessions(user.id)).map((s) => Number(s.received_bytes)))
      .toEqual([PART]);
    const stored = await page.evaluate(() =>
      Object.keys(localStorage).filter((key) => key.startsWith('haven-s3::')),
    );
    expect(stored).toHaveLength(1);
    await page.reload({ waitUntil: 'load' });
    hold.drop();

    const unfinished = page.getByTestId('unfinished-upload').filter({ hasText: 'Echo report.pdf' });
    await unfinished.getByText('8 MB of 10 MB received', { exact: false }).waitFor();
    await expectAccessible(page, '/files with an unfinished S3 upload');

    const calls = recordUploadCalls(page);
    const before = proxy.parts.length;
    await page.getByLabel('Files to upload').setInputFiles(onDisk);
    const file = page.getByTestId('file').filter({ hasText: 'Echo report.pdf' });
    await file.getByText(WAITING).waitFor();
    // The same session: Haven's recorded parts were read, and only part 2 was sent.
    expect(calls.multipart.some((c) => c === 'POST /api/files/multipart')).toBe(false);
    expect(proxy.parts.slice(before).map((p) => p.partNumber)).toEqual([2]);
    expect(calls.tus).toEqual([]);
    await expect.poll(() => page.getByTestId('unfinished-upload').count()).toBe(0);
    expect(
      (await uploadSessions(user.id)).map((s) => [s.status, Number(s.received_bytes)]),
    ).toEqual([['completed', SIZE]]);
    await expect
      .poll(() =>
        page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('haven-s3::'))),
      )
      .toEqual([]);
  });

  it('cancelling an upload ends its session on the server and in storage', async () => {
    const user = await seedClinician('Dr Cancel Bucket');
    const page = await signedInOnFiles(user);
    const hold = proxy.hold(2);
    await page
      .getByLabel('Files to upload')
      .setInputFiles(await fileOnDisk('Cancelled.pdf', pdf(SIZE)));
    await hold.held;
    const row = page.getByTestId('upload').filter({ hasText: 'Cancelled.pdf' });
    await row.getByRole('button', { name: 'Cancel upload of Cancelled.pdf' }).click();
    hold.drop();
    await expect
      .poll(async () => (await uploadSessions(user.id)).map((s) => s.status))
      .not.toEqual(['open']);
    await expect.poll(() => page.getByTestId('upload').count()).toBe(0);
    expect(await page.getByTestId('unfinished-upload').count()).toBe(0);
  });

  it('F2/part storage never confirms: with ETag hidden by the bucket’s CORS rules, the upload stops after 60 s with a sentence naming the fix; the part is not counted and nothing can be downloaded', async () => {
    const user = await seedClinician('Dr Hidden ETag');
    const page = await signedInOnFiles(user);
    const calls = recordUploadCalls(page);
    const before = proxy.parts.length;
    // The page's timers from now on run on Playwright's clock: real time flows, and the test jumps
    // over the 60 s wait instead of sitting through it.
    await page.clock.install();
    const showETag = proxy.hideETag();
    try {
      // Logged by @uppy/aws-s3 once the part's answer is in, after the part's last progress event,
      // which started the wait: from here the part waits for a confirmation that cannot come.
      const unreadable = page.waitForEvent('console', (message) =>
        message.text().includes('Could not read the ETag header'),
      );
      await page
        .getByLabel('Files to upload')
        .setInputFiles(await fileOnDisk('Holter report.pdf', pdf(2048)));
      await unreadable;
    } finally {
      showETag();
    }
    const row = page.getByTestId('upload').filter({ hasText: 'Holter report.pdf' });
    const error = row.getByRole('alert');

    // Just short of the wait, the part is still being waited for.
    await page.clock.fastForward(59_000);
    await settle(page);
    expect(await error.count()).toBe(0);
    expect(await row.getByRole('status').textContent()).toMatch(/^Uploading: /);

    await page.clock.fastForward(1_000);
    await error.waitFor();
    expect(await error.textContent()).toBe(
      'The storage did not confirm a part of this file. An administrator needs to let browsers read the ETag header in the bucket’s CORS rules.',
    );
    expect(await row.getByRole('status').textContent()).toBe('Stopped.');
    await row.getByRole('button', { name: 'Retry upload of Holter report.pdf' }).waitFor();

    // The part reached storage, but Haven never recorded it: it does not count, and the session
    // stays open for a retry once the bucket is fixed.
    expect(proxy.parts.slice(before).map((p) => p.partNumber)).toEqual([1]);
    const [session] = await uploadSessions(user.id);
    expect(session).toMatchObject({ status: 'open', protocol: 's3' });
    expect(Number(session!.received_bytes)).toBe(0);
    expect(calls.multipart).not.toContain(`PUT /api/files/multipart/${session!.id}/parts/1`);
    expect(calls.multipart).not.toContain(`POST /api/files/multipart/${session!.id}/complete`);

    // Nothing can be downloaded: no file on the page, none on the server.
    expect(await page.getByTestId('file').count()).toBe(0);
    await page.getByText('No files yet.').waitFor();
    const files = await suite
      .server()
      .app.database.db.selectFrom('files')
      .select('id')
      .where('owner_id', '=', user.id)
      .execute();
    expect(files).toEqual([]);
    await expectAccessible(page, '/files with a part storage never confirmed');
  });

  it('T3/F2: an owned bucket on another origin takes its parts through its relay frame; the page’s CSP never names it, and a hidden ETag stops the upload with the same sentence', async () => {
    const user = await seedClinician('Dr Own Bucket');
    const bucketId = await insertOwnedBucket(user.id);
    const { page } = await open('/sign-in');
    await suite.signIn(page, user.email, user.password, user.totp);
    const spaDocument = await page.goto(new URL('/files', suite.server().baseUrl).href, {
      waitUntil: 'load',
    });
    const policy = spaDocument?.headers()['content-security-policy'] ?? '';
    expect(policy).toContain(proxy.origin);
    expect(policy).not.toContain(ownedProxy.origin);
    await page.getByText('No files yet.').waitFor();
    await page.getByLabel('Store new uploads in').selectOption({ label: OWNED_BUCKET });
    const calls = recordUploadCalls(page);
    const relayLoads: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/upload-relay')) relayLoads.push(request.url());
    });
    const defaultParts = proxy.parts.length;
    const ownedParts = ownedProxy.parts.length;

    await page
      .getByLabel('Files to upload')
      .setInputFiles(await fileOnDisk('Carotid doppler.pdf', pdf(SIZE)));
    const file = page.getByTestId('file').filter({ hasText: 'Carotid doppler.pdf' });
    await file.getByText(WAITING).waitFor();
    // Both parts went straight to the owned bucket's origin, none to the default's, none
    // through Haven (no tus); the frame was loaded for this bucket and is gone again.
    expect(ownedProxy.parts.slice(ownedParts).map((p) => p.partNumber)).toEqual([1, 2]);
    expect(proxy.parts.length).toBe(defaultParts);
    expect(calls.tus).toEqual([]);
    expect(relayLoads.map((url) => new URL(url).pathname)).toEqual([
      `/api/files/buckets/${bucketId}/upload-relay`,
    ]);
    await expect.poll(() => page.locator('iframe').count()).toBe(0);
    const [session] = await uploadSessions(user.id);
    expect(session).toMatchObject({ status: 'completed', protocol: 's3' });
    expect(Number(session!.received_bytes)).toBe(SIZE);
    const stored = await suite
      .server()
      .app.database.db.selectFrom('files')
      .select('bucket_id')
      .where('owner_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(stored.bucket_id).toBe(bucketId);
    await expectAccessible(page, '/files with an upload into an owned bucket');

    // The frame PUTs only to the origin the server wrote into it: a part URL for anywhere else
    // (here, the default storage's origin) is refused, never fetched.
    const probe = await page.evaluate(
      async ({ path, url }) => {
        const frame = document.createElement('iframe');
        frame.hidden = true;
        frame.title = 'Relay probe';
        frame.src = path;
        const ready = new Promise<void>((resolve) => {
          window.addEventListener('message', (event: MessageEvent<{ type?: string }>) => {
            if (event.source === frame.contentWindow && event.data.type?.endsWith('ready')) {
              resolve();
            }
          });
        });
        document.body.append(frame);
        await ready;
        const { port1, port2 } = new MessageChannel();
        const answer = new Promise<unknown>((resolve) => {
          port1.onmessage = (event) => resolve(event.data);
        });
        frame.contentWindow?.postMessage({ type: 'haven-upload-relay-part' }, location.origin, [
          port2,
        ]);
        port1.postMessage({ type: 'put', url, body: new Blob(['stolen']), partId: 'probe' });
        const result = await answer;
        frame.remove();
        return result;
      },
      { path: `/api/files/buckets/${bucketId}/upload-relay`, url: `${proxy.origin}/elsewhere` },
    );
    expect(probe).toEqual({ type: 'refused' });
    expect(proxy.parts.length).toBe(defaultParts);

    // The relay reads the ETag itself and reports a hidden one at once: the guard's sentence.
    const showETag = ownedProxy.hideETag();
    try {
      await page
        .getByLabel('Files to upload')
        .setInputFiles(await fileOnDisk('Holter owned.pdf', pdf(2048)));
      const row = page.getByTestId('upload').filter({ hasText: 'Holter owned.pdf' });
      const error = row.getByRole('alert');
      await error.waitFor();
      expect(await error.textContent()).toBe(
        'The storage did not confirm a part of this file. An administrator needs to let browsers read the ETag header in the bucket’s CORS rules.',
      );
    } finally {
      showETag();
    }
    const sessions = await uploadSessions(user.id);
    const unconfirmed = sessions.find((s) => s.id !== session!.id);
    expect(unconfirmed).toMatchObject({ status: 'open', protocol: 's3' });
    expect(Number(unconfirmed!.received_bytes)).toBe(0);
  });

  it('a refused name gets the same human error as with tus, and starts no session', async () => {
    const user = await seedClinician('Dr Names Bucket');
    const page = await signedInOnFiles(user);
    await page.getByLabel('Files to upload').setInputFiles({
      name: 'results.exe.pdf',
      mimeType: 'application/pdf',
      buffer: pdf(2048),
    });
    const row = page.getByTestId('upload').filter({ hasText: 'results.exe.pdf' });
    const error = row.getByRole('alert');
    await error.waitFor();
    expect(await error.textContent()).toBe(
      'The name "results.exe.pdf" cannot be used: a file name must not carry a program or script extension before its own. Rename the file and add it again.',
    );
    await expectAccessible(page, '/files with a refused S3 upload');
    expect(await uploadSessions(user.id)).toEqual([]);
  });
});
