// Medical file uploads in Chromium against the real server (embedded DB), issue 11 item 12: a
// clinician uploads through the tus uploader of "My files" and of a patient's Documents, sees
// the progress and then the malware-check status, pauses and resumes an upload that carries on
// from the bytes the server holds, and gets human errors for refused names. No scanner is
// configured here (HAVEN_CLAMD_URL unset), so new files stay "waiting for a malware check".
// Every page is checked for CSP violations and page errors (suite.ts) and for accessibility.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Page, Route } from 'playwright-core';
import { createOrganization, createPatientRow } from '../../server/test/actors.js';
import { expectAccessible } from './accessibility.js';
import { pdf, useScratchFiles } from './upload-fixtures.js';
import { useBrowserSuite } from './suite.js';
import { seedUser, type SeededUser } from './haven-server.js';

const PASSWORD = 'files are checked before anyone opens them';
const MIB = 1024 * 1024;
/** The server's tus part size (TUS_PART_BYTES), which /api/files/usage hands the uploader. */
const CHUNK = 8 * MIB;
const WAITING =
  'Waiting for a malware check: no scanner is configured, so it cannot be downloaded yet.';

const suite = useBrowserSuite();
const { open, goto } = suite;

async function signIn(page: Page, user: SeededUser): Promise<void> {
  await suite.signIn(page, user.email, user.password, user.totp);
}

/** A clinician (MFA enrolled) who administers an organization of their own. */
async function seedClinician(displayName: string): Promise<{ user: SeededUser; orgId: string }> {
  const s = suite.server();
  const user = await seedUser(s, {
    email: suite.uniqueEmail('clinician'),
    password: PASSWORD,
    roles: ['clinician'],
    displayName,
    withTotp: true,
  });
  const orgId = await createOrganization(s.app.database.db, {
    name: `Clinic ${Date.now()} ${displayName}`,
    members: [{ userId: user.id, role: 'org_admin' }],
  });
  return { user, orgId };
}

const fileOnDisk = useScratchFiles('haven-files-e2e-');

/** The server's record of the user's upload sessions (how many bytes it holds of each). */
async function uploadSessions(ownerId: string) {
  return suite
    .server()
    .app.database.db.selectFrom('upload_sessions')
    .select(['id', 'status', 'received_bytes', 'declared_size'])
    .where('owner_id', '=', ownerId)
    .execute();
}

/** The tus requests the page sends: method and Upload-Offset, in order. */
function recordTus(page: Page): Array<{ method: string; offset: string | undefined }> {
  const seen: Array<{ method: string; offset: string | undefined }> = [];
  page.on('request', (request) => {
    if (!new URL(request.url()).pathname.startsWith('/api/files/uploads')) return;
    if (request.method() === 'GET') return;
    seen.push({ method: request.method(), offset: request.headers()['upload-offset'] });
  });
  return seen;
}

/**
 * Holds the first tus PATCH that does not start at 0 (the second chunk) in the network, so a
 * test can pause or reload while it is under way. Resolves with a release that drops it.
 */
async function holdSecondChunk(
  page: Page,
): Promise<{ held: Promise<void>; drop: () => Promise<void> }> {
  const holder: { route: Route | null } = { route: null };
  let arrived: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (arrived = resolve));
  await page.route('**/api/files/uploads/*', async (r) => {
    const request = r.request();
    if (
      holder.route === null &&
      request.method() === 'PATCH' &&
      request.headers()['upload-offset'] !== '0'
    ) {
      holder.route = r;
      arrived();
      return;
    }
    await r.continue();
  });
  return {
    held,
    async drop() {
      await holder.route?.abort().catch(() => undefined);
      await page.unroute('**/api/files/uploads/*');
    },
  };
}

describe('files: upload, status, resume, refusals (issue 11 item 12)', () => {
  it('a clinician uploads a PDF to their files: progress, then the malware-check status', async () => {
    const { user } = await seedClinician('Dr Files');
    const { page } = await open('/sign-in');
    await signIn(page, user);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'My files' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'My files' }).waitFor();
    await expect
      .poll(() => page.getByTestId('files-usage').textContent())
      .toBe('0 bytes of 20 GB used.');
    await expect.poll(() => page.getByText(/No malware scanner is configured/).count()).toBe(1);
    await page.getByText('No files yet.').waitFor();
    await expectAccessible(page, '/files empty');

    const tus = recordTus(page);
    await page
      .getByLabel('Files to upload')
      .setInputFiles(await fileOnDisk('Discharge letter.pdf', pdf(CHUNK + 2 * MIB)));
    const row = page.getByTestId('upload').filter({ hasText: 'Discharge letter.pdf' });
    const progress = row.getByRole('progressbar', { name: 'Progress of Discharge letter.pdf' });
    await progress.waitFor();
    await row.getByText(/^Uploaded\./).waitFor();
    expect(await progress.getAttribute('value')).toBe(String(CHUNK + 2 * MIB));
    // Two chunks of the server's part size: one creation, two PATCHes, nothing restarted.
    expect(tus).toEqual([
      { method: 'POST', offset: undefined },
      { method: 'PATCH', offset: '0' },
      { method: 'PATCH', offset: String(CHUNK) },
    ]);

    const file = page.getByTestId('file').filter({ hasText: 'Discharge letter.pdf' });
    await file.getByText(WAITING).waitFor();
    expect(await file.textContent()).toContain('a PDF document');
    expect(await file.textContent()).toContain('uploaded by Dr Files');
    // Not clean: no download button; the owner may delete it.
    expect(await file.getByRole('button', { name: /^Download/ }).count()).toBe(0);
    await expect
      .poll(() => page.getByTestId('files-usage').textContent())
      .toBe('10 MB of 20 GB used.');
    await expectAccessible(page, '/files with an upload');

    await file.getByRole('button', { name: 'Delete Discharge letter.pdf' }).click();
    await file.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByText('No files yet.').waitFor();
  });

  it('a paused upload resumes from the bytes the server holds, not from 0', async () => {
    const { user } = await seedClinician('Dr Pause');
    const { page } = await open('/sign-in');
    await signIn(page, user);
    await goto(page, '/files');
    await page.getByRole('heading', { level: 1, name: 'My files' }).waitFor();
    await page.getByText('No files yet.').waitFor();

    // Hold the second chunk in the network so the test can pause while it is under way.
    const hold = await holdSecondChunk(page);
    const tus = recordTus(page);
    const size = 2 * CHUNK + 3 * MIB;
    await page
      .getByLabel('Files to upload')
      .setInputFiles(await fileOnDisk('MRI report.pdf', pdf(size)));
    const row = page.getByTestId('upload').filter({ hasText: 'MRI report.pdf' });
    await hold.held;
    await row.getByRole('button', { name: 'Pause upload of MRI report.pdf' }).click();
    await row.getByText(/^Paused at \d+%/).waitFor();
    await hold.drop();

    // The server holds the first chunk, and the page lists nothing as finished.
    const [session] = await uploadSessions(user.id);
    expect(session?.status).toBe('open');
    expect(Number(session?.received_bytes)).toBe(CHUNK);

    await row.getByRole('button', { name: 'Resume upload of MRI report.pdf' }).click();
    await row.getByText(/^Uploaded\./).waitFor();
    const file = page.getByTestId('file').filter({ hasText: 'MRI report.pdf' });
    await file.getByText(WAITING).waitFor();
    // One upload only; after the pause the bytes went on from the server's offset.
    expect(tus.filter((r) => r.method === 'POST')).toHaveLength(1);
    const patches = tus.filter((r) => r.method === 'PATCH').map((r) => r.offset);
    expect(patches[0]).toBe('0');
    expect(patches.slice(1).every((offset) => offset !== '0')).toBe(true);
    expect(patches.at(-1)).toBe(String(2 * CHUNK));
    const sessions = await uploadSessions(user.id);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.status).toBe('completed');
    expect(Number(sessions[0]?.received_bytes)).toBe(size);
  });

  it('after a reload, adding the same file again resumes its upload (tus fingerprint)', async () => {
    const { user } = await seedClinician('Dr Reload');
    // A file on disk keeps its modification time, part of the fingerprint, across both picks.
    const size = 2 * CHUNK + 3 * MIB;
    const onDisk = await fileOnDisk('CT scan.pdf', pdf(size));
    const { page } = await open('/sign-in');
    await signIn(page, user);
    await goto(page, '/files');
    await page.getByText('No files yet.').waitFor();

    const hold = await holdSecondChunk(page);
    await page.getByLabel('Files to upload').setInputFiles(onDisk);
    await hold.held;
    const stored = await page.evaluate(() =>
      Object.keys(localStorage).filter((key) => key.startsWith('tus::')),
    );
    expect(stored).toHaveLength(1);
    await page.reload({ waitUntil: 'load' });
    await hold.drop();
    const [session] = await uploadSessions(user.id);
    expect(Number(session?.received_bytes)).toBe(CHUNK);

    // The server's unfinished upload is listed, with what to do about it.
    const unfinished = page.getByTestId('unfinished-upload').filter({ hasText: 'CT scan.pdf' });
    await unfinished.getByText('8 MB of 19 MB received', { exact: false }).waitFor();
    await expectAccessible(page, '/files with an unfinished upload');

    const tus = recordTus(page);
    await page.getByLabel('Files to upload').setInputFiles(onDisk);
    const file = page.getByTestId('file').filter({ hasText: 'CT scan.pdf' });
    await file.getByText(WAITING).waitFor();
    // No new upload: tus asked the server how far it got, then sent only the rest.
    expect(tus).toEqual([
      { method: 'HEAD', offset: undefined },
      { method: 'PATCH', offset: String(CHUNK) },
      { method: 'PATCH', offset: String(2 * CHUNK) },
    ]);
    await expect.poll(() => page.getByTestId('unfinished-upload').count()).toBe(0);
    const sessions = await uploadSessions(user.id);
    expect(sessions.map((row) => [row.status, Number(row.received_bytes)])).toEqual([
      ['completed', size],
    ]);
    // The finished upload's fingerprint is gone: the same file later is a new upload.
    await expect
      .poll(() =>
        page.evaluate(() => Object.keys(localStorage).filter((key) => key.startsWith('tus::'))),
      )
      .toEqual([]);
  });

  it('refused names get a human error: before upload (run.exe) and from the server', async () => {
    const { user } = await seedClinician('Dr Names');
    const { page } = await open('/sign-in');
    await signIn(page, user);
    await goto(page, '/files');
    await page.getByRole('heading', { level: 1, name: 'My files' }).waitFor();
    const tus = recordTus(page);

    // The extension list from /api/files/usage: refused at once, nothing is sent.
    await page.getByLabel('Files to upload').setInputFiles({
      name: 'run.exe',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from('MZ not a program'),
    });
    const refusal = page.getByRole('alert').filter({ hasText: '"run.exe" cannot be uploaded' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/Haven accepts .*\.pdf/);
    expect(tus).toEqual([]);

    // An allowed ending with a program's before it: the server's name rule, said in words.
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
    expect(await error.textContent()).not.toMatch(/HTTP|VALIDATION_FAILED/);
    await expectAccessible(page, '/files with refusals');
    expect(await uploadSessions(user.id)).toEqual([]);
  });

  it("the patient page's Documents section uploads to the record and lists its files", async () => {
    const { user, orgId } = await seedClinician('Dr Record');
    const patientId = await createPatientRow(suite.server().app.database.db, orgId, {
      givenName: 'Ada',
      familyName: 'Lovelace',
    });
    const { page } = await open('/sign-in');
    await signIn(page, user);
    await goto(page, `/patients/${patientId}?tab=documents`);
    const documents = page.getByRole('region', { name: 'Documents' });
    await documents.getByText('No files yet.').waitFor();
    await documents.getByLabel('Files to upload').setInputFiles({
      name: 'ECG.pdf',
      mimeType: 'application/pdf',
      buffer: pdf(4096),
    });
    const file = documents.getByTestId('file').filter({ hasText: 'ECG.pdf' });
    await file.getByText(WAITING).waitFor();
    expect(await file.textContent()).toContain('uploaded by Dr Record');
    await expectAccessible(page, 'patient page with a document');

    // A scan that found nothing (set here: no scanner in this server): the file downloads by
    // its name, through a signed link the SPA asked for.
    const db = suite.server().app.database.db;
    await db
      .updateTable('files')
      .set({ status: 'clean', scanned_at: new Date() })
      .where('name', '=', 'ECG.pdf')
      .execute();
    await page.reload({ waitUntil: 'load' });
    const clean = documents.getByTestId('file').filter({ hasText: 'ECG.pdf' });
    const downloading = page.waitForEvent('download');
    await clean.getByRole('button', { name: 'Download ECG.pdf' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('ECG.pdf');
    expect((await readFile(await download.path())).equals(pdf(4096))).toBe(true);

    // Back to unchecked while the page still offers the button: the server's reason, in words.
    await db
      .updateTable('files')
      .set({ status: 'scanning', scanned_at: null })
      .where('name', '=', 'ECG.pdf')
      .execute();
    await clean.getByRole('button', { name: 'Download ECG.pdf' }).click();
    await clean.getByRole('alert').filter({ hasText: WAITING }).waitFor();

    // The same file in "My files", named with the record it went to.
    await goto(page, '/files');
    const mine = page.getByTestId('file').filter({ hasText: 'ECG.pdf' });
    await mine.waitFor();
    expect(await mine.textContent()).toMatch(/record of (Ada Lovelace|Lovelace, Ada)/);
  });
});
