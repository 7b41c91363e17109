// Clinical SPA in Chromium against the real server (embedded DB). Named by the control each
// test proves: V3 (user content is text, the CSP blocks inline script), Z4/L3 (the portal shows
// only shared notes and the audited reads), Z5 (break-glass: step-up, banner, read-only, expiry).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrganization, createPatientRow } from '../../server/test/actors.js';
import { expectAccessible } from './accessibility.js';
import { useBrowserSuite } from './suite.js';
import { nextTotpCode, seedUser, type SeededUser, type TotpDevice } from './haven-server.js';

const PASSWORD = 'clinical pages are only text here';
const XSS_IMG = '<img src=x onerror="window.__xss=1">';
const XSS_SCRIPT = '<script>window.__xss=1</script>';
const XSS_NOTE = `Plan: ${XSS_IMG} then ${XSS_SCRIPT} & review`;

const suite = useBrowserSuite();
const { open, goto, expectPath } = suite;
const requireServer = suite.server;
/** Numbers organization names and MRNs so each test's are unique. */
let counter = 0;

function uniqueEmail(who: string): string {
  counter += 1;
  return suite.uniqueEmail(who);
}

async function signIn(page: Page, user: SeededUser): Promise<void> {
  await suite.signIn(page, user.email, user.password, user.totp);
}

/** A clinician (MFA enrolled) who administers a fresh organization of their own. */
async function seedClinician(displayName: string): Promise<{ user: SeededUser; orgId: string }> {
  const s = requireServer();
  const user = await seedUser(s, {
    email: uniqueEmail('clinician'),
    password: PASSWORD,
    roles: ['clinician'],
    displayName,
    withTotp: true,
  });
  const orgId = await createOrganization(s.app.database.db, {
    name: `Clinic ${counter} ${Date.now()}`,
    members: [{ userId: user.id, role: 'org_admin' }],
  });
  return { user, orgId };
}

/** What stored XSS would leave behind: the flag, an injected <img>, or an injected <script>. */
async function expectNoInjection(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBe(
    undefined,
  );
  expect(await page.locator('main img').count()).toBe(0);
  expect(await page.locator('main script').count()).toBe(0);
}

/** One <h1>, every input labelled, and no sideways scrolling at 320 px on each of `paths`. */
async function expectFitsNarrowScreen(page: Page, paths: string[]): Promise<void> {
  await page.setViewportSize({ width: 320, height: 640 });
  for (const path of paths) {
    await goto(page, path);
    await page.locator('h1').first().waitFor();
    await expect
      .poll(() =>
        page
          .getByRole('status')
          .filter({ hasText: /^(Loading|Opening)/ })
          .count(),
      )
      .toBe(0);
    expect(await page.locator('h1').count(), path).toBe(1);
    for (const input of await page.locator('main input, main select, main textarea').all()) {
      expect(
        await input.evaluate((el) => (el as HTMLInputElement).labels?.length ?? 0),
        path,
      ).toBeGreaterThan(0);
    }
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
}

describe('clinical SPA', () => {
  it('V3: patient names and a note full of markup render as literal text, with no CSP violation', async () => {
    const { user } = await seedClinician('Dr. Casey Clinician');
    const { page } = await open('/');
    await signIn(page, user);

    await page.getByRole('link', { name: 'Patients', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Patients' }).waitFor();
    await page.getByText('No patients yet.').waitFor();
    expect(await page.getByTestId('active-organization').textContent()).toContain('Working in');

    // Register a patient whose names are script payloads.
    await page.getByRole('button', { name: 'New patient' }).click();
    const form = page.locator('#patient-create-form');
    await form.getByLabel('MRN').fill('XSS-0001');
    await form.getByLabel('Given name').fill(XSS_IMG);
    await form.getByLabel('Family name').fill(XSS_SCRIPT);
    await form.getByLabel('Birth date').fill('1980-04-01');
    await form.getByLabel('Sex').selectOption('female');
    await form.getByRole('button', { name: 'Register patient' }).click();

    await expectPath(page, /^\/patients\/[0-9a-f-]{36}$/);
    const heading = page.getByRole('heading', { level: 1 });
    await expect.poll(() => heading.textContent()).toBe(`${XSS_SCRIPT}, ${XSS_IMG}`);

    // The banner names the patient (a region labelled by the name) with age, MRN and status.
    const banner = page.getByRole('region', { name: `${XSS_SCRIPT}, ${XSS_IMG}` });
    const born = new Date(1980, 3, 1);
    const now = new Date();
    const age =
      now.getFullYear() - 1980 - (now < new Date(now.getFullYear(), born.getMonth(), 1) ? 1 : 0);
    expect(await banner.getByTestId('patient-age').textContent()).toBe(`${age} years`);
    expect(await banner.getByTestId('patient-mrn').textContent()).toBe('XSS-0001');
    await banner.getByText('Active', { exact: true }).waitFor();

    // WAI-ARIA tabs: Summary first; arrows, Home and End move and select; the address keeps it.
    const tabs = page.getByRole('tablist', { name: 'Patient record' });
    const tab = (name: string) => tabs.getByRole('tab', { name, exact: true });
    expect(await tab('Summary').getAttribute('aria-selected')).toBe('true');
    await page.getByRole('tabpanel', { name: 'Summary' }).getByText('No notes yet.').waitFor();
    await tab('Summary').focus();
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => tab('Demographics').getAttribute('aria-selected')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Demographics');
    expect(new URL(page.url()).search).toBe('?tab=demographics');
    expect(await page.getByTestId('patient-given-name').textContent()).toBe(XSS_IMG);
    expect(await page.getByTestId('patient-family-name').textContent()).toBe(XSS_SCRIPT);
    await page.keyboard.press('End');
    await expect.poll(() => tab('Portal invitation').getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => tab('Summary').getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => tab('Portal invitation').getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('Home');
    await expect.poll(() => new URL(page.url()).search).toBe('');
    // Only the selected tab is a tab stop.
    expect(await tabs.locator('[role="tab"][tabindex="0"]').count()).toBe(1);
    await tab('Notes').click();
    expect(new URL(page.url()).search).toBe('?tab=notes');

    // A note with the payloads, then a correction (a new version) whose reason carries one too.
    // Success is a toast (a polite status), not a note left under the form.
    const notes = page.getByRole('region', { name: 'Notes' });
    await notes.getByLabel('New note').fill(XSS_NOTE);
    await notes.getByRole('button', { name: 'Save note' }).click();
    const toast = page.getByTestId('toast').filter({ hasText: 'The note was saved.' });
    await toast.waitFor();
    expect(await toast.evaluate((el) => el.parentElement?.getAttribute('aria-live'))).toBe(
      'polite',
    );
    await toast.getByRole('button', { name: 'Dismiss: The note was saved.' }).click();
    await expect.poll(() => toast.count()).toBe(0);
    const note = notes.getByTestId('note').first();
    await expect.poll(() => note.locator('.note-body').textContent()).toBe(XSS_NOTE);

    await note.getByRole('button', { name: 'Correct' }).click();
    await note.getByLabel('Corrected note').fill(`${XSS_NOTE} (dose checked)`);
    await note.getByLabel('Reason for the correction').fill(`Dose added ${XSS_IMG}`);
    await note.getByRole('button', { name: 'Save correction' }).click();
    await expect
      .poll(() => note.locator('.note-body').first().textContent())
      .toBe(`${XSS_NOTE} (dose checked)`);
    await note.getByRole('button', { name: 'Show history (2 versions)' }).click();
    const versions = note.getByRole('list', { name: 'Versions, oldest first' });
    await expect.poll(() => versions.getByRole('listitem').count()).toBe(2);
    expect(await versions.locator('.note-body').first().textContent()).toBe(XSS_NOTE);
    await versions.getByText(`Reason: Dose added ${XSS_IMG}`).waitFor();
    // The diff between the versions: version 1 with version 2 to start, word by word.
    const diff = note.getByTestId('note-diff');
    expect(await diff.locator('ins').textContent()).toBe('[added:  (dose checked)]');
    expect(await diff.locator('del').count()).toBe(0);
    expect(await note.getByTestId('note-diff-summary').textContent()).toBe(
      '2 words added, 0 words removed.',
    );
    await note.getByLabel('Compare version', { exact: true }).selectOption('2');
    await note.getByLabel('with version', { exact: true }).selectOption('1');
    expect(await diff.locator('del').textContent()).toBe('[removed:  (dose checked)]');
    await expectNoInjection(page);
    await expectAccessible(page, 'patient page, notes tab with a diff');

    // The search results render the names as text too (the search is a POST, not a URL).
    await page.getByRole('link', { name: 'All patients' }).click();
    const search = page.getByRole('search', { name: 'Patients' });
    const results = page.getByRole('region', { name: 'Search results' });
    const count = page.getByTestId('patient-count');
    // The stated rule: any part of a name, any case; an MRN by its first 3 or more characters.
    await search.getByText('Any part of the given or family name', { exact: false }).waitFor();
    await search.getByText('its first 3 or more characters', { exact: false }).waitFor();
    await search.getByLabel('Name', { exact: true }).fill('SCRIPT>WINDOW');
    await search.getByRole('button', { name: 'Search' }).click();
    await results.getByRole('link', { name: `${XSS_SCRIPT}, ${XSS_IMG}` }).waitFor();
    await expect.poll(() => count.textContent()).toBe('1 patient');
    expect(page.url()).not.toContain('script');
    await search.getByLabel('Name', { exact: true }).fill('');
    await search.getByLabel('MRN').fill('xs');
    await search.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No patients match this search.').waitFor();
    await search.getByLabel('MRN').fill('xss-0');
    await search.getByRole('button', { name: 'Search' }).click();
    await results.getByRole('link', { name: `${XSS_SCRIPT}, ${XSS_IMG}` }).waitFor();
    // Sortable headers say their order.
    const mrnHeader = results.getByRole('columnheader', { name: /^MRN/ });
    await results.getByRole('button', { name: /^MRN\s*, sort ascending$/ }).click();
    await expect.poll(() => mrnHeader.getAttribute('aria-sort')).toBe('ascending');
    await results.getByRole('button', { name: /^MRN\s*, sort descending$/ }).click();
    await expect.poll(() => mrnHeader.getAttribute('aria-sort')).toBe('descending');
    await expectNoInjection(page);
    await expectAccessible(page, 'patients list, sorted by MRN');

    // A reload of the patient page (fresh document) still executes nothing and keeps the tab.
    await results.getByRole('link', { name: `${XSS_SCRIPT}, ${XSS_IMG}` }).click();
    await tab('Notes').click();
    await page.reload({ waitUntil: 'load' });
    await expect.poll(() => heading.textContent()).toBe(`${XSS_SCRIPT}, ${XSS_IMG}`);
    expect(await tab('Notes').getAttribute('aria-selected')).toBe('true');
    await notes.getByTestId('note').first().waitFor();
    await expectNoInjection(page);
    await tab('Summary').click();
    await page.getByRole('list', { name: 'Latest notes' }).getByRole('listitem').waitFor();
    await expectAccessible(page, 'patient page, summary');

    const patientPage = new URL(page.url()).pathname;
    await expectFitsNarrowScreen(page, [
      '/patients',
      `${patientPage}?tab=notes`,
      '/organization/members',
      '/organization/consent-documents',
      patientPage,
    ]);
    await expectAccessible(page, 'patient page, summary, 320 px');
  });

  it('Z4/L3: the portal shows the patient their shared note only, the clinician’s reads, and a data download', async () => {
    const s = requireServer();
    const { user: clinician, orgId } = await seedClinician('Dr. Robin Reader');
    const patientUser = await seedUser(s, {
      email: uniqueEmail('patient'),
      password: PASSWORD,
      roles: ['patient'],
      displayName: 'Pat Portal',
    });
    const patientId = await createPatientRow(s.app.database.db, orgId, {
      givenName: 'Pat',
      familyName: 'Portal',
      mrn: `P-${counter}`,
      portalUserId: patientUser.id,
    });

    const staff = await open('/');
    await signIn(staff.page, clinician);
    await goto(staff.page, `/patients/${patientId}?tab=notes`);
    await staff.page.getByRole('heading', { level: 1, name: 'Portal, Pat' }).waitFor();
    const notes = staff.page.getByRole('region', { name: 'Notes' });
    const write = async (body: string, shareable: boolean) => {
      await notes.getByLabel('New note').fill(body);
      if (shareable) await notes.getByLabel('Share with the patient in the portal').check();
      await notes.getByRole('button', { name: 'Save note' }).click();
      await notes.getByText(body).waitFor();
    };
    await write('Shared: keep taking the blood pressure tablets daily.', true);
    await write('Staff only: consider a referral if no improvement.', false);
    await staff.page.getByRole('tab', { name: 'Portal invitation' }).click();
    await staff.page
      .getByRole('region', { name: 'Patient portal' })
      .getByText(/linked/)
      .waitFor();

    const patient = await open('/');
    await signIn(patient.page, patientUser);
    await patient.page.getByRole('link', { name: 'My record', exact: true }).click();
    await patient.page.getByRole('heading', { level: 1, name: 'My record' }).waitFor();

    const shared = patient.page.getByRole('list', { name: 'Shared notes' });
    await shared.getByText('Shared: keep taking the blood pressure tablets daily.').waitFor();
    expect(await shared.getByRole('listitem').count()).toBe(1);
    expect(await patient.page.getByText('Staff only: consider a referral').count()).toBe(0);

    // One card per person a day; the staff-only note leaves no trace (the shared one was written
    // once), and the patient's own views are not listed.
    const access = patient.page.getByRole('region', { name: 'Who accessed my record' });
    const reader = access.getByRole('listitem').filter({ hasText: 'Dr. Robin Reader' }).first();
    await reader
      .getByText(/^Viewed your record/)
      .first()
      .waitFor();
    await reader.getByText(/^Wrote a note at /).waitFor();
    expect(await access.getByText(/Wrote a note/).count()).toBe(1);
    expect(await access.getByText('You', { exact: true }).count()).toBe(0);

    // "Download my data" as a page to read and print: inert HTML (no script, a CSP of its own),
    // every value as text, the shared note in and the staff-only note out.
    const htmlDownloading = patient.page.waitForEvent('download');
    await patient.page.getByRole('button', { name: 'Download as a page (HTML)' }).click();
    const htmlDownload = await htmlDownloading;
    expect(htmlDownload.suggestedFilename()).toMatch(/^haven-export-\d{4}-\d{2}-\d{2}\.html$/);
    const html = await readFile(await htmlDownload.path(), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // React writes the quotes of the attribute value as &#x27;, which the browser reads back.
    expect(html.replaceAll('&#x27;', "'")).toContain(
      `content="default-src 'none'; style-src 'unsafe-inline'"`,
    );
    expect(html).toContain('Your record at ');
    expect(html).toContain('Shared: keep taking the blood pressure tablets daily.');
    expect(html).toContain('Viewed your record');
    expect(html).not.toContain('Staff only');
    expect(html).not.toMatch(/<script/i);
    await patient.page.getByText('Your data was downloaded as a page').waitFor();

    // And as JSON from a Blob, holding the record and only the shared note.
    const downloaded = patient.page.waitForEvent('download');
    await patient.page.getByRole('button', { name: 'Download as data (JSON)' }).click();
    const download = await downloaded;
    expect(download.suggestedFilename()).toMatch(/^haven-export-\d{4}-\d{2}-\d{2}\.json$/);
    const file = await download.path();
    const exported = JSON.parse(await readFile(file, 'utf8'));
    expect(exported.account.email).toBe(patientUser.email);
    expect(exported.patient.record.patient.id).toBe(patientId);
    expect(exported.patient.notes).toHaveLength(1);
    expect(JSON.stringify(exported)).not.toContain('Staff only');
    await patient.page.getByText('Your data was downloaded as a JSON file.').waitFor();
    await expectFitsNarrowScreen(patient.page, ['/portal']);
  });

  it('Z5: break-glass asks for a fresh MFA code, shows a counting-down banner over a read-only record, and leaves at expiry', async () => {
    const s = requireServer();
    const { db } = s.app.database;
    const orgName = `Emergency ${Date.now()}`;
    const orgId = await createOrganization(db, { name: orgName });
    const mrn = `E-${counter}`;
    const patientId = await createPatientRow(db, orgId, {
      givenName: 'Erin',
      familyName: 'Emergency',
      mrn,
      birthDate: '1980-04-01',
    });
    // A namesake the search also finds: the admin must pick the right one.
    await createPatientRow(db, orgId, {
      givenName: 'Erin',
      familyName: 'Emergencyward',
      mrn: `EW-${counter}`,
    });
    const erinLabel = new RegExp(`^Emergency, Erin — born .+ — MRN ${mrn} — ${orgName}$`);
    const admin = await seedUser(s, {
      email: uniqueEmail('admin'),
      password: PASSWORD,
      roles: ['admin'],
      displayName: 'Ada Admin',
      withTotp: true,
    });
    const { page } = await open('/');
    await signIn(page, admin);
    await page.getByRole('link', { name: 'Break-glass', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Break-glass access' }).waitFor();
    await page.getByText('No active grants.').waitFor();

    // The patient is found by name and picked from a list, never typed in as an id. A
    // one-character search never reaches the server.
    const request = page.getByRole('region', { name: 'Request emergency access' });
    const finder = request.getByRole('search', { name: 'Find the patient' });
    const query = finder.getByLabel('Patient name or MRN');
    await query.fill('E');
    await finder.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => query.getAttribute('aria-invalid')).toBe('true');
    await query.fill('Emergency, Erin');
    await query.press('Enter');
    const picker = request.getByRole('group', { name: 'Patient' });
    await request.getByRole('status').filter({ hasText: '2 patients found.' }).waitFor();
    const erin = picker.getByRole('radio', { name: erinLabel });
    expect(await picker.getByRole('radio').count()).toBe(2);
    expect(await erin.isChecked()).toBe(false);
    await expectAccessible(page, 'break-glass picker');
    // Keyboard: the first radio of the group takes focus; Space picks it.
    await erin.focus();
    await page.keyboard.press('Space');
    expect(await erin.isChecked()).toBe(true);

    // A reason that is too short never reaches the server.
    await request.getByLabel('Reason').fill('urgent');
    await request.getByRole('button', { name: 'Request access' }).click();
    const reason = request.getByLabel('Reason');
    await expect.poll(() => reason.getAttribute('aria-invalid')).toBe('true');

    // The sign-in MFA is now "older" than 5 minutes: the server asks for step-up.
    s.stepUpClock.offsetMs = 6 * 60_000;
    await reason.fill('Unconscious patient in the emergency department');
    await request.getByRole('button', { name: 'Request access' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.waitFor();
    await dialog
      .getByLabel('Authentication code')
      .fill(await nextTotpCode(admin.totp as TotpDevice));
    await dialog.getByRole('button', { name: 'Confirm' }).click();

    await expectPath(page, /^\/break-glass\/[0-9a-f-]{36}$/);
    const grantId = new URL(page.url()).pathname.split('/').pop() ?? '';
    const banner = page.getByTestId('break-glass-banner');
    await banner.waitFor();
    expect(await banner.getByRole('status').textContent()).toMatch(
      /Break-glass access ends in (29|30) minutes\./,
    );
    expect(await banner.getByRole('timer').textContent()).toMatch(/^(29|30):\d{2}$/);
    await banner.getByText('Reason: Unconscious patient in the emergency department').waitFor();
    await banner.getByText(`Patient: Emergency, Erin, MRN ${mrn}, ${orgName}`).waitFor();
    const record = page.getByTestId('break-glass-record');
    expect(await record.getByTestId('patient-family-name').textContent()).toBe('Emergency');
    // Read-only: nothing in the record can be edited or submitted.
    expect(await record.locator('form, input, textarea, select, button').count()).toBe(0);
    expect(await page.locator('main form').count()).toBe(0);
    expect(
      await page
        .getByRole('button')
        .filter({ hasText: /Edit|Save|Archive/ })
        .count(),
    ).toBe(0);

    // Near expiry, the record leaves the screen by itself.
    await db
      .updateTable('break_glass_grants')
      .set({ expires_at: new Date(Date.now() + 4_000) })
      .where('id', '=', grantId)
      .execute();
    await page.reload({ waitUntil: 'load' });
    await banner.waitFor();
    expect(await banner.getByRole('status').textContent()).toContain('less than a minute');
    await expectPath(page, '/break-glass');
    await page.getByText('Your break-glass access expired; the record was closed.').waitFor();
    expect(await page.getByTestId('break-glass-record').count()).toBe(0);
    await goto(page, `/break-glass/${grantId}`);
    await page.getByText('This grant has ended.').waitFor();

    // A second grant (MFA still fresh: no prompt), revoked from the list, no longer opens.
    // The MRN finds the one patient, who is then the one picked.
    await goto(page, '/break-glass');
    await query.fill(mrn);
    await finder.getByRole('button', { name: 'Search' }).click();
    await request.getByRole('status').filter({ hasText: '1 patient found.' }).waitFor();
    expect(await erin.isChecked()).toBe(true);
    await request.getByLabel('Reason').fill('Follow-up check of the emergency record');
    await request.getByRole('button', { name: 'Request access' }).click();
    await expectPath(page, /^\/break-glass\/[0-9a-f-]{36}$/);
    const secondId = new URL(page.url()).pathname.split('/').pop() ?? '';
    expect(secondId).not.toBe(grantId);
    await banner.waitFor();
    await page.getByRole('button', { name: 'Leave the record' }).click();
    await expectPath(page, '/break-glass');
    const grants = page.getByRole('list', { name: 'Grants' });
    await expect.poll(() => grants.getByRole('listitem').count()).toBe(1);
    // The card names the patient (the admin knows whom the grant is for), not their id.
    const card = grants.getByRole('listitem');
    await card.getByText('Emergency, Erin', { exact: true }).waitFor();
    await card.getByText(orgName, { exact: true }).waitFor();
    expect(await card.textContent()).not.toContain(patientId);
    await expectAccessible(page, 'break-glass grants');
    await grants.getByRole('button', { name: /^Revoke the grant of Ada Admin/ }).click();
    await grants.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.getByText('No active grants.').waitFor();
    await goto(page, `/break-glass/${secondId}`);
    await page.getByText('This grant has ended.').waitFor();
    expect(await page.getByTestId('break-glass-record').count()).toBe(0);

    // L3: the audit log holds the grants and the reads under them, and its chain verifies.
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    const filters = page.getByRole('search', { name: 'Audit events' });
    await filters.getByLabel('About').selectOption({ label: 'Patient' });
    await filters.getByLabel('Action').fill('patient.');
    await filters.getByRole('button', { name: 'Search' }).click();
    const events = page.getByRole('region', { name: 'Audit events' });
    await events.getByRole('cell', { name: 'patient.read', exact: true }).first().waitFor();
    // The grants have ended: the admin reads the clinic, not the patient's name, and picks the
    // record from a row instead of typing its id.
    const target = events.locator('td[data-label="Target"]').first();
    expect(await target.innerText()).toMatch(/^A patient at /);
    expect(await target.innerText()).not.toContain('Erin');
    await target.getByRole('button', { name: /^Events about this patient/ }).click();
    await page.getByText(/Showing events about A patient at .+ \(Patient\)\./).waitFor();
    await events.getByRole('cell', { name: 'patient.read', exact: true }).first().waitFor();
    expect(await events.getByText(grantId).count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await expect
      .poll(() => page.getByTestId('chain-status').textContent())
      .toMatch(/^The chain is intact: \d+ events checked\./);

    await expectFitsNarrowScreen(page, ['/break-glass', '/admin/audit', '/admin/organizations']);
  });

  it('Z4: switching the active organization re-loads the clinical pages; org-admin pages follow the role', async () => {
    const s = requireServer();
    const { db } = s.app.database;
    const user = await seedUser(s, {
      email: uniqueEmail('two-orgs'),
      password: PASSWORD,
      roles: ['clinician'],
      displayName: 'Sam Switcher',
      withTotp: true,
    });
    const stamp = Date.now();
    const north = await createOrganization(db, {
      name: `North Clinic ${stamp}`,
      members: [{ userId: user.id, role: 'org_admin' }],
    });
    const south = await createOrganization(db, {
      name: `South Clinic ${stamp}`,
      members: [{ userId: user.id, role: 'clinician' }],
    });
    await createPatientRow(db, north, { givenName: 'Nora', familyName: 'Northern', mrn: 'N-1' });
    await createPatientRow(db, south, { givenName: 'Sol', familyName: 'Southern', mrn: 'S-1' });

    const { page } = await open('/');
    await signIn(page, user);
    await goto(page, '/patients');
    // Two memberships and none chosen: the server's 409 is shown, with what to do.
    await page.getByRole('alert').getByText('Choose the organization to work in first.').waitFor();
    await page.getByText('Choose an organization with the switcher').waitFor();

    const switcher = page.getByRole('form', { name: 'Active organization' });
    const results = page.getByRole('region', { name: 'Search results' });
    await switcher.getByLabel('Organization').selectOption({ label: `North Clinic ${stamp}` });
    await switcher.getByRole('button', { name: 'Switch' }).click();
    await results.getByRole('link', { name: 'Northern, Nora' }).waitFor();
    expect(await page.getByRole('link', { name: 'Consent documents' }).count()).toBe(1);

    await switcher.getByLabel('Organization').selectOption({ label: `South Clinic ${stamp}` });
    await switcher.getByRole('button', { name: 'Switch' }).click();
    await results.getByRole('link', { name: 'Southern, Sol' }).waitFor();
    expect(await results.getByText('Northern').count()).toBe(0);
    // A plain clinician of South: no consent-document administration, no member management.
    expect(await page.getByRole('link', { name: 'Consent documents' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Members', exact: true }).click();
    await page
      .getByRole('heading', { level: 1, name: `Members of South Clinic ${stamp}` })
      .waitFor();
    await page.getByRole('list', { name: 'Members' }).getByText('Sam Switcher').waitFor();
    expect(await page.getByRole('region', { name: 'Invite a member' }).count()).toBe(0);

    // Back in North as its administrator: publish a consent document.
    await switcher.getByLabel('Organization').selectOption({ label: `North Clinic ${stamp}` });
    await switcher.getByRole('button', { name: 'Switch' }).click();
    await page
      .getByRole('heading', { level: 1, name: `Members of North Clinic ${stamp}` })
      .waitFor();
    await page.getByRole('region', { name: 'Invite a member' }).waitFor();
    await page.getByRole('link', { name: 'Consent documents' }).click();
    await page.getByText('No consent documents are published yet.').waitFor();
    const publish = page.getByRole('region', { name: 'Publish a new version' });
    await publish.getByLabel('Title').fill('Notice of privacy practices');
    await publish.getByLabel('Text', { exact: true }).fill('We protect your health information.');
    // Publishing cannot be undone: it asks for confirmation over a preview of the version.
    await publish.getByRole('button', { name: 'Preview before publishing' }).click();
    const preview = publish.getByRole('group', { name: 'Preview: Notice of privacy practices' });
    await preview.getByText('We protect your health information.').waitFor();
    expect(await page.getByText('No consent documents are published yet.').count()).toBe(1);
    await expectAccessible(page, 'consent document preview');
    await preview.getByRole('button', { name: 'Publish this version' }).click();
    await publish.getByText('Version 1 of HIPAA notice was published.').waitFor();
    await page
      .getByRole('list', { name: 'Consent documents' })
      .getByText('Notice of privacy practices')
      .waitFor();
  });
});
