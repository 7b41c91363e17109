// A9/A11 first start: the one-time setup link creates the first admin in the SPA, who must
// enrol MFA before the first session, and then administers users.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ensureSetupLink } from '../../server/src/modules/identity/index.js';
import { launchChromium, openPage } from './browser.js';
import {
  nextTotpCode,
  startHavenServer,
  type HavenServer,
  type TotpDevice,
} from './haven-server.js';

describe('A9/A11: first-admin setup in the SPA', () => {
  let server: HavenServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    server = await startHavenServer();
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('setup link → admin details → MFA enrolment → recovery codes → signed in with the Users page', async () => {
    if (!server || !browser) throw new Error('test server or browser did not start');
    const identity = server.app.identity;
    if (!identity) throw new Error('identity module missing');
    const link = await ensureSetupLink(identity);
    expect(link).toMatch(/\/setup#token=/);
    const token = new URL(link ?? '').hash.replace('#token=', '');

    const { page, cspViolations, pageErrors, close } = await openPage(
      browser,
      new URL(`/setup#token=${token}`, server.baseUrl).href,
    );
    try {
      await page.getByRole('heading', { level: 1, name: 'Set up Haven' }).waitFor();
      expect(page.url()).not.toContain(token);
      await page.getByLabel('Email').fill('first.admin@example.test');
      await page.getByLabel('Your name').fill('First Admin');
      await page.getByLabel('Password', { exact: true }).fill('quartz meadow lighthouse ninety');
      const main = page.getByRole('navigation', { name: 'Main' });
      // Issue 14: no "Sign in" link leads away from setup or from the MFA enrolment after it.
      expect(await main.getByRole('link', { name: 'Sign in' }).count()).toBe(0);
      await page.getByRole('button', { name: 'Create administrator' }).click();

      const secret = (await page.locator('code.totp-secret').textContent()) ?? '';
      expect(await main.getByRole('link', { name: 'Sign in' }).count()).toBe(0);
      const device: TotpDevice = { secret, lastStep: 0 };
      await page.getByLabel('Code from your authenticator app').fill(await nextTotpCode(device));
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
      await page.getByLabel('I have saved my recovery codes').check();
      await page.getByRole('button', { name: 'Continue to Haven' }).click();

      await page.getByText('Welcome,').waitFor();
      await page.getByRole('link', { name: 'Users', exact: true }).click();
      await page
        .getByRole('list', { name: 'Users' })
        .getByText('first.admin@example.test')
        .waitFor();
      expect(cspViolations).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });
});
