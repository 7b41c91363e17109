// Storage buckets in Chromium (issue 11 items 2 and 12; F1, Z5, Z6): a clinician sees the system
// default storage read-only, gets sentences (not schema text) for a bad bucket name and for an
// endpoint at the cloud metadata address, adds an S3 bucket of their own on a real S3-compatible
// server (fauxqs on 127.0.0.1, reachable only because this suite widens the V5 guard for its
// loopback stand-in) after confirming with an authenticator code (step-up), edits its notes,
// uploads a two-part file into it from "My files", and is told why a bucket holding files cannot
// be deleted. The secret never comes back to the page. The bucket is reached through a CORS proxy
// (s3-cors-proxy.ts, standing in for the bucket's CORS rules) on an origin of its own: the upload
// is S3 multipart, each part PUT straight to the bucket by its upload relay frame, whose own CSP
// names that origin while the page's does not (T3, F2). Every page and frame is checked for CSP
// violations and page errors (suite.ts) and for accessibility.
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startS3Server } from '../../server/test/s3-server.js';
import { expectAccessible } from './accessibility.js';
import { nextTotpCode, seedUser, type SeededUser, type TotpDevice } from './haven-server.js';
import { startCorsProxy } from './s3-cors-proxy.js';
import { useBrowserSuite } from './suite.js';
import { pdf, useScratchFiles } from './upload-fixtures.js';

const PASSWORD = 'our own bucket for the clinic scans';
const BUCKET = 'clinic-scans';
const MIB = 1024 * 1024;
/** Two parts: an owned S3 bucket takes 8 MiB parts (multipart.ts partSizeFor). */
const SIZE = 10 * MIB;

const s3 = await startS3Server(BUCKET);
const proxy = await startCorsProxy(s3.endpoint);
afterAll(async () => {
  await proxy.close();
  await s3.stop();
});
const fileOnDisk = useScratchFiles('haven-buckets-e2e-');

// The operator's allowlist names the stand-in's host; the test-only widening lets that host
// resolve to a loopback address, which the V5 guard refuses everywhere else.
const suite = useBrowserSuite(
  { HAVEN_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' },
  { bucketEndpointTestCidrs: ['127.0.0.1/32'] },
);
const { open, goto } = suite;

async function seedClinician(): Promise<SeededUser> {
  return seedUser(suite.server(), {
    email: suite.uniqueEmail('clinician'),
    password: PASSWORD,
    roles: ['clinician'],
    displayName: 'Dr Bucket Owner',
    withTotp: true,
  });
}

async function confirmWithCode(page: Page, user: SeededUser): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.waitFor();
  await dialog.getByLabel('Authentication code').fill(await nextTotpCode(user.totp as TotpDevice));
  await dialog.getByRole('button', { name: 'Confirm' }).click();
}

describe('storage buckets', () => {
  it('F1/Z5/Z6: the default is read-only; a bucket is added after step-up, edited, takes an upload and is kept while it holds files; the secret never returns', async () => {
    const user = await seedClinician();
    const { page } = await open('/sign-in');
    await suite.signIn(page, user.email, user.password, user.totp);
    await goto(page, '/files/buckets');
    await page.getByRole('heading', { level: 1, name: 'Storage buckets' }).waitFor();

    const list = page.getByRole('list', { name: 'Storage buckets' });
    const defaultCard = list.getByRole('listitem').filter({ hasText: 'Default storage' });
    await defaultCard.waitFor();
    await defaultCard.getByText('Read-only here').waitFor();
    expect(await defaultCard.getByRole('button').count()).toBe(0);
    await expectAccessible(page, '/files/buckets');

    await page.getByRole('button', { name: 'Add a bucket' }).click();
    const form = page.getByRole('region', { name: 'Add an S3 bucket' });
    // A name S3 would refuse is caught in the browser, in words.
    await form.getByLabel('Bucket name').fill('Clinic_Scans');
    await form.getByLabel('Storage address').fill('https://s3.example.org');
    await form.getByLabel('Region').fill('us-east-1');
    await form.getByLabel('Access key id').fill(s3.credentials.accessKeyId);
    await form.getByLabel('Secret access key').fill(s3.credentials.secretAccessKey);
    await form.getByRole('button', { name: 'Add bucket' }).click();
    await form.getByText('Enter the bucket name as S3 spells it').waitFor();
    expect(await form.getByLabel('Bucket name').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, '/files/buckets with a field error');

    // V5: an endpoint at the cloud metadata address is refused by the server with a sentence.
    suite.server().stepUpClock.offsetMs = 0;
    await form.getByLabel('Bucket name').fill(BUCKET);
    await form.getByLabel('Storage address').fill('https://169.254.169.254');
    await form.getByRole('button', { name: 'Add bucket' }).click();
    const refusal = form.getByRole('alert').or(form.locator('[aria-invalid="true"]')).first();
    await refusal.waitFor();
    expect(await page.locator('body').textContent()).not.toMatch(/must match|body\./);
    expect(await list.getByRole('listitem').count()).toBe(1);

    // The real one: the sign-in's MFA is "old", so the server asks for a code first.
    suite.server().stepUpClock.offsetMs = 6 * 60_000;
    await form.getByLabel('Storage address').fill(proxy.origin);
    await form.getByLabel(/Path-style addresses/).check();
    await form.getByLabel('Encryption at rest').selectOption('none');
    await form.getByLabel('Notes').fill('Scans from the imaging room');
    await form.getByRole('button', { name: 'Add bucket' }).click();
    await confirmWithCode(page, user);

    const card = list.getByRole('listitem').filter({ hasText: BUCKET });
    await card.waitFor();
    await card.getByText('Scans from the imaging room').waitFor();
    await card.getByText(`ending in ${s3.credentials.accessKeyId.slice(-4)}`).waitFor();
    expect(await page.content()).not.toContain(s3.credentials.secretAccessKey);
    await expectAccessible(page, '/files/buckets with an own bucket');

    await card.getByRole('button', { name: `Edit ${BUCKET}` }).click();
    await card.getByLabel('Notes').fill('Imaging room, second floor');
    await card.getByRole('button', { name: 'Save bucket' }).click();
    await card.getByText('Imaging room, second floor').waitFor();

    // Uploading into it from "My files": the file lands in the bucket, not the default, its
    // parts PUT straight to the bucket's origin by the relay frame; Haven sees no part's bytes.
    const calls: string[] = [];
    page.on('request', (request) => {
      const { pathname } = new URL(request.url());
      if (pathname.startsWith('/api/files/')) calls.push(`${request.method()} ${pathname}`);
    });
    const spaDocument = await page.goto(new URL('/files', suite.server().baseUrl).href, {
      waitUntil: 'load',
    });
    // The page's own CSP never names the bucket (only its relay's does).
    expect(spaDocument?.headers()['content-security-policy']).not.toContain(proxy.origin);
    await page.getByRole('heading', { level: 1, name: 'My files' }).waitFor();
    await page.getByLabel('Store new uploads in').selectOption({ label: BUCKET });
    const before = proxy.parts.length;
    await page
      .getByLabel('Files to upload')
      .setInputFiles(await fileOnDisk('Chest X-ray report.pdf', pdf(SIZE)));
    const row = page.getByTestId('upload').filter({ hasText: 'Chest X-ray report.pdf' });
    await row.getByText(/^Uploaded\./).waitFor();
    const file = page.getByTestId('file').filter({ hasText: 'Chest X-ray report.pdf' });
    await file.waitFor();
    // Uppy sends parts side by side, so they may arrive in either order.
    const partNumbers = proxy.parts.slice(before).map((p) => p.partNumber);
    expect(partNumbers.sort((a, b) => a - b)).toEqual([1, 2]);
    expect(calls.filter((c) => c.startsWith('POST /api/files/uploads'))).toEqual([]);
    expect(calls.filter((c) => c.startsWith('PATCH '))).toEqual([]);
    expect(calls).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^GET \/api\/files\/buckets\/[0-9a-f-]+\/upload-relay$/),
        'POST /api/files/multipart',
        expect.stringMatching(/^POST \/api\/files\/multipart\/[0-9a-f-]+\/complete$/),
      ]),
    );
    // The relay frame is removed once the upload is done.
    await expect.poll(() => page.locator('iframe').count()).toBe(0);
    const db = suite.server().app.database.db;
    const session = await db
      .selectFrom('upload_sessions')
      .select(['protocol', 'status', 'received_bytes'])
      .where('owner_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect([session.protocol, session.status, Number(session.received_bytes)]).toEqual([
      's3',
      'completed',
      SIZE,
    ]);
    const stored = await db
      .selectFrom('files')
      .innerJoin('buckets', 'buckets.id', 'files.bucket_id')
      .select(['buckets.bucket_name'])
      .where('files.name', '=', 'Chest X-ray report.pdf')
      .executeTakeFirstOrThrow();
    expect(stored.bucket_name).toBe(BUCKET);
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: s3.credentials,
      forcePathStyle: true,
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    client.destroy();
    expect(listed.KeyCount).toBe(1);

    // A bucket that holds files is not deleted: the person is told why, in words.
    await goto(page, '/files/buckets');
    await card.getByRole('button', { name: `Delete ${BUCKET}` }).click();
    await card.getByRole('button', { name: 'Yes, delete' }).click();
    await card.getByRole('alert').waitFor();
    expect(await card.getByRole('alert').textContent()).not.toMatch(/BUCKET_|body\./);
    expect(await list.getByRole('listitem').count()).toBe(2);
  });
});
