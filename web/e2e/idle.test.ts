// A6 idle timeout in the SPA: with a 1-minute idle timeout the warning appears half-way,
// "Stay signed in" refreshes the session, and doing nothing signs the tab out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, openPage } from './browser.js';
import { seedUser, startHavenServer, type HavenServer } from './haven-server.js';

describe('A6: idle warning and idle sign-out', () => {
  let server: HavenServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    server = await startHavenServer({ HAVEN_SESSION_IDLE_MINUTES: '1' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it(
    'warns before the idle timeout, "Stay signed in" refreshes, and inactivity signs out',
    { timeout: 180_000 },
    async () => {
      if (!server || !browser) throw new Error('test server or browser did not start');
      const user = await seedUser(server, {
        email: 'idle.patient@example.test',
        password: 'idle sessions end by themselves',
        roles: ['patient'],
      });
      const { page, cspViolations, pageErrors, close } = await openPage(
        browser,
        new URL('/sign-in', server.baseUrl).href,
      );
      try {
        await page.getByLabel('Email').fill(user.email);
        await page.getByLabel('Password', { exact: true }).fill(user.password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.getByText('Welcome,').waitFor();

        const warning = page.getByRole('alertdialog', { name: 'Are you still there?' });
        await warning.waitFor({ timeout: 45_000 });
        const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/auth/refresh'));
        await warning.getByRole('button', { name: 'Stay signed in' }).click();
        expect((await refreshed).status()).toBe(200);
        await warning.waitFor({ state: 'hidden' });

        // No activity now: the warning comes back, then the session ends.
        await warning.waitFor({ timeout: 45_000 });
        await expect.poll(() => new URL(page.url()).pathname, { timeout: 45_000 }).toBe('/sign-in');
        await page.getByText('You were signed out after a period of inactivity.').waitFor();
        expect(cspViolations).toEqual([]);
        expect(pageErrors).toEqual([]);
      } finally {
        await close();
      }
    },
  );
});
