// R1 and A7 in Chromium: reloading the app never signs anyone out. The server runs with the
// default sign-in limit (10 a minute per address); refresh has its own class counted per
// session, the SPA does not refresh while its access cookie is valid, and a 429 (or 503, or no
// answer) from refresh means "try again after Retry-After", never "Your session has ended".
import { describe, expect, it } from 'vitest';
import type { Page, Route } from 'playwright-core';
import { seedUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const ACCESS_COOKIE = '__Host-haven_at';
const ENDED = 'Your session has ended';

const suite = useBrowserSuite({ HAVEN_RATE_AUTH: '10/60' });
const { open, signIn, expectPath, uniqueEmail } = suite;

/** Every document load records whether the page ever showed ENDED or went to /sign-in. */
async function watchForSignOut(page: Page): Promise<void> {
  await page.addInitScript((ended: string) => {
    const seen: string[] = [];
    (window as unknown as { havenSignOutSeen: string[] }).havenSignOutSeen = seen;
    const check = (): void => {
      if (location.pathname === '/sign-in') seen.push('path /sign-in');
      if (document.body?.textContent?.includes(ended)) seen.push(`text "${ended}"`);
    };
    new MutationObserver(check).observe(document, {
      childList: true,
      subtree: true,
      characterData: true,
    });
  }, ENDED);
}

const signOutSeen = (page: Page): Promise<string[]> =>
  page.evaluate(() => (window as unknown as { havenSignOutSeen: string[] }).havenSignOutSeen);

async function signedInOnAccount(page: Page): Promise<void> {
  const user = await seedUser(suite.server(), {
    email: uniqueEmail('reload'),
    password: 'reloading all day long here',
    roles: ['patient'],
  });
  await signIn(page, user.email, user.password, null);
  await page.getByRole('link', { name: 'Account', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
}

/** Reloads and waits for the signed-in page; fails if it takes longer than `timeout` ms. */
async function reloadSignedIn(page: Page, timeout = 10_000): Promise<void> {
  await page.reload({ waitUntil: 'load' });
  await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor({ timeout });
  expect(await signOutSeen(page)).toEqual([]);
  await expectPath(page, '/account');
}

/** Answers refresh with 429 + Retry-After while `refuse()` says so, else passes it on. */
function refuseRefresh(refuse: () => boolean, counts: { refused: number; passed: number }) {
  return async (route: Route): Promise<void> => {
    if (!refuse()) {
      counts.passed += 1;
      await route.continue();
      return;
    }
    counts.refused += 1;
    await route.fulfill({
      status: 429,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
      body: JSON.stringify({
        type: 'about:blank',
        title: 'Too many requests.',
        status: 429,
        code: 'RATE_LIMITED',
        detail: 'Too many requests; retry in 1 second.',
      }),
    });
  };
}

describe('reloading the SPA', () => {
  it('R1/A7: twelve quick reloads keep the user signed in, without a refresh while the access token is valid', async () => {
    const { page } = await open('/');
    await signedInOnAccount(page);
    await watchForSignOut(page);
    const refreshes: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/auth/refresh') refreshes.push(request.url());
    });
    const started = Date.now();
    for (let i = 0; i < 12; i++) await reloadSignedIn(page);
    expect(Date.now() - started).toBeLessThan(40_000);
    expect(refreshes).toEqual([]);
  });

  it('R1: twelve quick reloads after the access token expired refresh once each, per session, and stay signed in', async () => {
    const { page } = await open('/');
    await signedInOnAccount(page);
    await watchForSignOut(page);
    const statuses: number[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname === '/api/auth/refresh') {
        statuses.push(response.status());
      }
    });
    const started = Date.now();
    for (let i = 0; i < 12; i++) {
      // What a reload after five idle minutes looks like: the access cookie has expired.
      await page.context().clearCookies({ name: ACCESS_COOKIE });
      await reloadSignedIn(page);
    }
    expect(Date.now() - started).toBeLessThan(40_000);
    // One refresh per reload, each accepted: the sign-in class (10 a minute) is not involved.
    expect(statuses).toEqual(Array(12).fill(200));
  });

  it('R1: a 429 from refresh does not end the session: the SPA waits for Retry-After and tries again', async () => {
    const { page } = await open('/');
    await signedInOnAccount(page);
    await watchForSignOut(page);
    const counts = { refused: 0, passed: 0 };
    await page.route(
      '**/api/auth/refresh',
      refuseRefresh(() => counts.refused < 2, counts),
    );
    await page.context().clearCookies({ name: ACCESS_COOKIE });
    await reloadSignedIn(page, 15_000);
    expect(counts).toEqual({ refused: 2, passed: 1 });
    await page.unroute('**/api/auth/refresh');
  });

  it('R1: while refresh keeps answering 429 the page waits (no sign-in page) and recovers once it is allowed', async () => {
    const { page } = await open('/');
    await signedInOnAccount(page);
    await watchForSignOut(page);
    let refusing = true;
    const counts = { refused: 0, passed: 0 };
    await page.route(
      '**/api/auth/refresh',
      refuseRefresh(() => refusing, counts),
    );
    await page.context().clearCookies({ name: ACCESS_COOKIE });
    await page.reload({ waitUntil: 'load' });
    await expect.poll(() => counts.refused, { timeout: 15_000 }).toBeGreaterThanOrEqual(5);
    expect(await signOutSeen(page)).toEqual([]);
    await expectPath(page, '/account');
    expect(await page.getByRole('heading', { level: 1, name: 'Your account' }).count()).toBe(0);
    await page.getByText('Loading…').waitFor();
    refusing = false;
    await page
      .getByRole('heading', { level: 1, name: 'Your account' })
      .waitFor({ timeout: 15_000 });
    expect(await signOutSeen(page)).toEqual([]);
    expect(counts.passed).toBe(1);
    await page.unroute('**/api/auth/refresh');
  });
});
