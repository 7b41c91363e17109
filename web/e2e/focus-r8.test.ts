// Where keyboard focus goes after a confirmed action in Chromium (issue 14, WCAG 2.4.3): the
// "Yes, …" button disappears as it is pressed, so focus must be put somewhere on purpose: back
// on the action's own button once it is over, or, when the action took that button away (a
// deleted file, a withdrawn consent), on the heading of its section, never on the page's start.
// The outcome is said in words (a toast), not in a card that is about to vanish. Every page is
// checked for CSP violations and page errors (suite.ts) and for accessibility.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrganization, createPatientRow } from '../../server/test/actors.js';
import { expectAccessible } from './accessibility.js';
import { seedUser, type SeededUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const PASSWORD = 'focus stays where the work is';

const suite = useBrowserSuite();
const { open, goto } = suite;

async function seedClinic(tag: string): Promise<{ user: SeededUser; orgId: string }> {
  const s = suite.server();
  const user = await seedUser(s, {
    email: suite.uniqueEmail(`focus-${tag}`),
    password: PASSWORD,
    roles: ['clinician'],
    displayName: `Dr Focus ${tag}`,
    withTotp: true,
  });
  const orgId = await createOrganization(s.app.database.db, {
    name: `Focus Clinic ${tag} ${Date.now()}`,
    members: [{ userId: user.id, role: 'org_admin' }],
  });
  return { user, orgId };
}

/** What has keyboard focus: its tag and its text. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    return element ? `${element.tagName.toLowerCase()}: ${element.textContent ?? ''}` : 'none';
  });
}

describe('focus after confirmed actions (issue 14)', () => {
  it('issue 14: deleting a file says so and leaves focus on its section, not on the page start', async () => {
    const { user } = await seedClinic('file');
    const { page } = await open('/');
    await suite.signIn(page, user.email, user.password, user.totp);
    await goto(page, '/files');
    await page.getByText('No files yet.').waitFor();
    await page.getByLabel('Files to upload').setInputFiles({
      name: 'Old letter.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.4\n%%EOF\n'),
    });
    const file = page.getByTestId('file').filter({ hasText: 'Old letter.pdf' });
    await file.waitFor();

    await file.getByRole('button', { name: 'Delete Old letter.pdf' }).click();
    expect(await focused(page)).toBe('button: Yes, delete');
    await page.keyboard.press('Enter');
    await page.getByText('No files yet.').waitFor();
    await page.getByTestId('toast').filter({ hasText: '"Old letter.pdf" was deleted.' }).waitFor();
    await expect.poll(() => focused(page)).toBe('h2: Uploads');
    await expectAccessible(page, '/files after a deletion');
  });

  it('issue 14: withdrawing a consent leaves focus on the Consents section, and a cancelled question on its button', async () => {
    const { user, orgId } = await seedClinic('consent');
    const { db } = suite.server().app.database;
    const patientId = await createPatientRow(db, orgId, {
      givenName: 'Willa',
      familyName: 'Withdraw',
      mrn: `FW-${Date.now()}`,
    });
    await db
      .insertInto('consent_documents')
      .values({
        organization_id: orgId,
        kind: 'treatment',
        version: 1,
        title: 'Consent to treatment',
        body: 'I agree to be treated here.',
        required: true,
        published_by: user.id,
      })
      .execute();
    const { page } = await open('/');
    await suite.signIn(page, user.email, user.password, user.totp);
    await goto(page, `/patients/${patientId}?tab=consents`);
    await page.getByRole('button', { name: 'Record consent' }).click();
    await page.getByTestId('toast').filter({ hasText: 'The consent was recorded.' }).waitFor();
    const withdraw = page.getByRole('button', {
      name: 'Withdraw consent to Consent to treatment, version 1',
    });

    // Cancel: back on the button that asked.
    await withdraw.click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => focused(page)).toBe('button: Withdraw');

    // Confirmed: the button is gone with the live consent; focus is on the section heading.
    await withdraw.click();
    await page.getByRole('button', { name: 'Yes, withdraw' }).press('Enter');
    await page.getByTestId('toast').filter({ hasText: 'The consent was withdrawn.' }).waitFor();
    await expect.poll(() => withdraw.count()).toBe(0);
    await expect.poll(() => focused(page)).toBe('h2: Consents');
    await expectAccessible(page, 'consents after a withdrawal');
  });

  it('A9: signing in, focus follows each step: the code input after the password, the setup heading for enrolment', async () => {
    const { user } = await seedClinic('steps');
    const { page } = await open('/sign-in');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(user.password);
    await page.getByLabel('Password', { exact: true }).press('Enter');
    const code = page.getByLabel('Authentication code');
    await code.waitFor();
    await expect.poll(() => code.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    const recovery = page.getByLabel('Recovery code');
    await expect.poll(() => recovery.evaluate((el) => el === document.activeElement)).toBe(true);
    await expectAccessible(page, 'sign-in, recovery code step');

    // Without an authenticator yet (a fresh account): the setup step takes focus at its heading.
    const fresh = await seedUser(suite.server(), {
      email: suite.uniqueEmail('focus-enrol'),
      password: PASSWORD,
      roles: ['clinician'],
      displayName: 'Dr Fresh',
    });
    const second = await open('/sign-in');
    await second.page.getByLabel('Email').fill(fresh.email);
    await second.page.getByLabel('Password', { exact: true }).fill(fresh.password);
    await second.page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => focused(second.page)).toBe('h2: Set up two-factor authentication');
    await expectAccessible(second.page, 'sign-in, enrolment step');
  });

  it('A10: a sent reset request puts focus on what happened', async () => {
    const { user } = await seedClinic('reset');
    const { page } = await open('/forgot-password');
    await page.getByLabel('Email').fill(user.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expect.poll(() => focused(page)).toMatch(/^div: If an account uses that email/);
    await expectAccessible(page, 'forgot password, sent');
  });

  it('issue 14: a form that stays after sending keeps focus on its button, during the request and after it', async () => {
    const { user, orgId } = await seedClinic('submit');
    const { db } = suite.server().app.database;
    const patientId = await createPatientRow(db, orgId, {
      givenName: 'Kai',
      familyName: 'Keyboard',
      mrn: `FK-${Date.now()}`,
    });
    const signedIn = await open('/');
    await suite.signIn(signedIn.page, user.email, user.password, user.totp);
    await goto(signedIn.page, `/patients/${patientId}?tab=notes`);
    const notes = signedIn.page.getByRole('region', { name: 'Notes' });
    await notes.getByLabel('New note').fill('Reviewed by keyboard only.');
    // The save is held a moment in the network, so the test can look while it runs.
    let posts = 0;
    await signedIn.page.route('**/api/patients/*/notes', async (route) => {
      if (route.request().method() === 'POST') {
        posts += 1;
        await new Promise((resolve) => setTimeout(resolve, 800));
      }
      await route.continue();
    });
    const save = notes.getByRole('button', { name: 'Save note' });
    await save.focus();
    await signedIn.page.keyboard.press('Enter');
    await expect.poll(() => save.getAttribute('aria-busy')).toBe('true');
    expect(await focused(signedIn.page)).toBe('button: Save note');
    // A second press while it runs sends nothing more.
    await signedIn.page.keyboard.press('Enter');
    await signedIn.page.getByTestId('toast').filter({ hasText: 'The note was saved.' }).waitFor();
    expect(await focused(signedIn.page)).toBe('button: Save note');
    expect(posts).toBe(1);
    await expect.poll(() => notes.getByTestId('note').count()).toBe(1);
    await expectAccessible(signedIn.page, 'notes after a keyboard save');
  });
});
