// Unsaved work in Chromium (issue 14: "nothing lost"): a half-written note, a correction and a
// patient registration survive another tab of the record, another page and a session that ends
// by itself, and come back to their author after signing in again in the same tab (A6). They
// live in the tab's memory only and a deliberate sign-out, or another person signing in,
// forgets them (A7). Every page is checked for CSP violations and page errors (suite.ts) and
// for accessibility.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrganization, createPatientRow } from '../../server/test/actors.js';
import { expectAccessible } from './accessibility.js';
import { nextTotpCode, seedUser, type SeededUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const PASSWORD = 'half-written notes are kept for their author';
const NOTE =
  'Seen in clinic. Chest pain on exertion for two weeks, no pain at rest. Plan: exercise ECG.';
const UNSAVED = 'Not saved yet: this is what you had written before you left it.';

const suite = useBrowserSuite();
const { open, goto, expectPath } = suite;

/** Two clinicians of one clinic (MFA enrolled) and a patient of it. */
async function seedClinic(tag: string) {
  const s = suite.server();
  const [author, colleague] = await Promise.all(
    ['Dr. Nora Author', 'Dr. Colin Colleague'].map((displayName) =>
      seedUser(s, {
        email: suite.uniqueEmail(`${tag}-${displayName.split(' ')[1]?.toLowerCase()}`),
        password: PASSWORD,
        roles: ['clinician'],
        displayName,
        withTotp: true,
      }),
    ),
  );
  const orgId = await createOrganization(s.app.database.db, {
    name: `Drafts Clinic ${tag} ${Date.now()}`,
    members: [
      { userId: author!.id, role: 'org_admin' },
      { userId: colleague!.id, role: 'clinician' },
    ],
  });
  const patientId = await createPatientRow(s.app.database.db, orgId, {
    givenName: 'Dana',
    familyName: 'Drafts',
    mrn: `DR-${tag}-${Date.now()}`,
  });
  return { author: author!, colleague: colleague!, patientId };
}

/**
 * Signs in on the sign-in page the tab is on, without loading a new document (a new document
 * would start with an empty memory, as a reload does).
 */
async function signInHere(page: Page, user: SeededUser): Promise<void> {
  await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  if (user.totp) {
    await page.getByLabel('Authentication code').fill(await nextTotpCode(user.totp));
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await expect.poll(() => new URL(page.url()).pathname).not.toBe('/sign-in');
}

/** The session ends by itself (its cookies are gone, as after the idle timeout). */
async function endSessionQuietly(page: Page): Promise<void> {
  await page.context().clearCookies();
}

function recordTabs(page: Page) {
  const tabs = page.getByRole('tablist', { name: 'Patient record' });
  return (name: string) => tabs.getByRole('tab', { name, exact: true });
}

describe('unsaved work (issue 14)', () => {
  it('A6: a half-written note survives another tab and a session that ended by itself, and comes back to its author', async () => {
    const { author, patientId } = await seedClinic('a6');
    const { page } = await open('/');
    await suite.signIn(page, author.email, author.password, author.totp);
    await goto(page, `/patients/${patientId}?tab=notes`);
    const tab = recordTabs(page);
    const notes = page.getByRole('region', { name: 'Notes' });
    await notes.getByLabel('New note').fill(NOTE);

    // Another tab of the record, then back: the words are still there, and say they are unsaved.
    await tab('Consents').click();
    await page.getByRole('heading', { name: 'Consents' }).waitFor();
    await tab('Notes').click();
    expect(await notes.getByLabel('New note').inputValue()).toBe(NOTE);
    await notes.getByText(UNSAVED).waitFor();
    await expectAccessible(page, 'notes tab with a kept note');

    // The session ends while the note waits; the next request finds it over.
    await endSessionQuietly(page);
    await tab('Summary').click();
    await expectPath(page, '/sign-in');
    await page.getByText('Your session has ended. Please sign in again.').waitFor();
    // Back to the record after signing in again, with the note where it was left.
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/patients/${patientId}`);
    await signInHere(page, author);
    await expectPath(page, `/patients/${patientId}`);
    await tab('Notes').click();
    expect(await notes.getByLabel('New note').inputValue()).toBe(NOTE);
    await notes.getByText(UNSAVED).waitFor();

    // Saved, it is no longer kept: the form is empty after another tab.
    await notes.getByRole('button', { name: 'Save note' }).click();
    await page.getByTestId('toast').filter({ hasText: 'The note was saved.' }).waitFor();
    await notes.getByTestId('note').filter({ hasText: NOTE }).waitFor();
    expect(await notes.getByText(UNSAVED).count()).toBe(0);
    await tab('Summary').click();
    await tab('Notes').click();
    expect(await notes.getByLabel('New note').inputValue()).toBe('');
    expect(await notes.getByText(UNSAVED).count()).toBe(0);
  });

  it('A6: the sign-in page brings the person back to the tab they were on', async () => {
    const { author, patientId } = await seedClinic('tab');
    const { page } = await open('/');
    await suite.signIn(page, author.email, author.password, author.totp);
    await goto(page, `/patients/${patientId}?tab=notes`);
    const notes = page.getByRole('region', { name: 'Notes' });
    await notes.getByLabel('New note').fill(NOTE);
    await endSessionQuietly(page);
    // A request from the notes tab (the save) finds the session over.
    await notes.getByRole('button', { name: 'Save note' }).click();
    await expectPath(page, '/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/patients/${patientId}?tab=notes`);
    await signInHere(page, author);
    await expectPath(page, `/patients/${patientId}`);
    expect(new URL(page.url()).search).toBe('?tab=notes');
    expect(await notes.getByLabel('New note').inputValue()).toBe(NOTE);
  });

  it('A7: a deliberate sign-out forgets unsaved work, and another person signing in never sees it', async () => {
    const { author, colleague, patientId } = await seedClinic('a7');
    const { page } = await open('/');
    const notes = page.getByRole('region', { name: 'Notes' });
    const tab = recordTabs(page);

    // The author's note is kept while the session ends by itself; the colleague signs in next.
    await suite.signIn(page, author.email, author.password, author.totp);
    await goto(page, `/patients/${patientId}?tab=notes`);
    await notes.getByLabel('New note').fill(NOTE);
    await endSessionQuietly(page);
    await tab('Summary').click();
    await expectPath(page, '/sign-in');
    await signInHere(page, colleague);
    await expectPath(page, `/patients/${patientId}`);
    await tab('Notes').click();
    expect(await notes.getByLabel('New note').inputValue()).toBe('');
    expect(await notes.getByText(UNSAVED).count()).toBe(0);

    // The colleague's own draft, then "Sign out": signing in again finds nothing.
    await notes.getByLabel('New note').fill('Colleague draft that must not outlive the sign-out');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectPath(page, '/sign-in');
    await signInHere(page, colleague);
    // Through the app's own links: a new document would forget everything anyway.
    await page.getByText('Welcome,').waitFor();
    await page.getByRole('link', { name: 'Patients', exact: true }).click();
    await page.getByRole('link', { name: /Drafts, Dana/ }).click();
    await tab('Notes').click();
    expect(await notes.getByLabel('New note').inputValue()).toBe('');
  });

  it('A6: a patient registration left for another page opens again with its details; Cancel forgets it', async () => {
    const { author } = await seedClinic('reg');
    const { page } = await open('/');
    await suite.signIn(page, author.email, author.password, author.totp);
    await page.getByRole('link', { name: 'Patients', exact: true }).click();
    await page.getByRole('button', { name: 'New patient' }).click();
    const form = page.locator('#patient-create-form');
    await form.getByLabel('MRN').fill('KEPT-0001');
    await form.getByLabel('Given name').fill('Kit');
    await form.getByLabel('Family name').fill('Kept');

    // Away through the navigation (no reload) and back: the form is open with the details.
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
    await page.getByRole('link', { name: 'Patients', exact: true }).click();
    await form.getByText('Not saved yet: these are the details you had entered').waitFor();
    expect(await form.getByLabel('MRN').inputValue()).toBe('KEPT-0001');
    expect(await form.getByLabel('Family name').inputValue()).toBe('Kept');
    await expectAccessible(page, 'patients with a kept registration');

    // Cancel is the person's choice to drop it.
    await form.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
    await page.getByRole('link', { name: 'Patients', exact: true }).click();
    await page.getByRole('button', { name: 'New patient' }).waitFor();
    expect(await page.locator('#patient-create-form').count()).toBe(0);
    await page.getByRole('button', { name: 'New patient' }).click();
    expect(await form.getByLabel('MRN').inputValue()).toBe('');
  });
});
