// The lifecycle and page helpers the SPA test files share: one Haven server and one Chromium
// per file, every opened page checked after each test for CSP violations, page errors and
// JavaScript dialogs (T3, V3), and sign-in through the real form.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, type OpenedPage } from './browser.js';
import {
  nextTotpCode,
  startHavenServer,
  type HavenServer,
  type ServerOptions,
  type TotpDevice,
} from './haven-server.js';

export interface BrowserSuite {
  /** The running server; throws before `beforeAll` has started it. */
  server(): HavenServer;
  /** Opens a page on the server; it is checked after the test. */
  open(path: string): Promise<OpenedPage>;
  goto(page: Page, path: string): Promise<void>;
  expectPath(page: Page, pathname: string | RegExp): Promise<void>;
  /** Email + password, then the authenticator code when given. Ends on the home page. */
  signIn(page: Page, email: string, password: string, totp: TotpDevice | null): Promise<void>;
  /** A unique address for this run. */
  uniqueEmail(who: string): string;
}

/** Lets queued CSP events reach the test through the exposed binding. */
export async function settle(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
}

/** Registers the file's hooks (call at module level) and returns its helpers. */
export function useBrowserSuite(
  env: Record<string, string> = {},
  serverOptions: ServerOptions = {},
): BrowserSuite {
  let server: HavenServer | undefined;
  let browser: Browser | undefined;
  /** Every page a test opened: each must end with zero CSP violations and zero page errors. */
  let opened: OpenedPage[] = [];
  /** JavaScript dialogs (alert/confirm) any page raised: stored XSS would show up here. */
  let dialogs: string[] = [];
  let counter = 0;

  beforeAll(async () => {
    server = await startHavenServer(env, serverOptions);
    browser = await launchChromium();
  });

  afterEach(async () => {
    for (const { page, cspViolations, pageErrors } of opened) {
      if (!page.isClosed()) await settle(page).catch(() => undefined);
      expect(cspViolations).toEqual([]);
      expect(pageErrors).toEqual([]);
    }
    expect(dialogs).toEqual([]);
    await Promise.all(opened.map((o) => o.close().catch(() => undefined)));
    opened = [];
    dialogs = [];
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const requireServer = (): HavenServer => {
    if (!server) throw new Error('test server did not start');
    return server;
  };

  const goto = async (page: Page, path: string): Promise<void> => {
    await page.goto(new URL(path, requireServer().baseUrl).href, { waitUntil: 'load' });
  };

  const expectPath = async (page: Page, pathname: string | RegExp): Promise<void> => {
    const current = () => new URL(page.url()).pathname;
    if (typeof pathname === 'string') {
      await expect.poll(current, { timeout: 15_000 }).toBe(pathname);
    } else {
      await expect.poll(current, { timeout: 15_000 }).toMatch(pathname);
    }
  };

  return {
    server: requireServer,
    async open(path) {
      if (!browser) throw new Error('browser did not start');
      const result = await openPage(browser, new URL(path, requireServer().baseUrl).href);
      result.page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      opened.push(result);
      return result;
    },
    goto,
    expectPath,
    async signIn(page, email, password, totp) {
      await goto(page, '/sign-in');
      await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      if (totp) {
        await page.getByLabel('Authentication code').fill(await nextTotpCode(totp));
        await page.getByRole('button', { name: 'Verify' }).click();
      }
      await expectPath(page, '/');
      await page.getByText('Welcome,').waitFor();
    },
    uniqueEmail(who) {
      counter += 1;
      return `${who}.${Date.now()}.${counter}@example.test`;
    },
  };
}
