// Identity SPA in Chromium against the real server (embedded DB, dev mailbox). Named by the
// control each test proves: A7, A9, A10, A11, T3, V3. Every page opened is checked after each
// test for CSP violations, page errors and JavaScript dialogs (suite.ts).
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useBrowserSuite } from './suite.js';
import {
  nextTotpCode,
  seedUser,
  tokenFromMail,
  waitForMail,
  type SeededUser,
  type TotpDevice,
} from './haven-server.js';

const ADMIN_PASSWORD = 'correct horse battery staple admin';
const XSS_NAME = '<img src=x onerror=alert(1)>';

const suite = useBrowserSuite();
const { open, goto, expectPath, signIn, uniqueEmail } = suite;

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expectPath(page, '/sign-in');
  await page.getByText('You have signed out.').waitFor();
  // A deliberate sign-out forgets the page: the next person signing in here starts at home.
  expect(new URL(page.url()).searchParams.has('next')).toBe(false);
}

async function seedAdmin(): Promise<SeededUser> {
  return seedUser(suite.server(), {
    email: uniqueEmail('admin'),
    password: ADMIN_PASSWORD,
    roles: ['admin'],
    displayName: 'Ada Admin',
    withTotp: true,
  });
}

describe('identity SPA', () => {
  it('T3: every identity page renders under the strict CSP with one <h1>, labelled inputs and no overflow at 320 px', async () => {
    const { page } = await open('/');
    await page.setViewportSize({ width: 320, height: 640 });
    const paths = [
      '/',
      '/sign-in',
      '/setup',
      '/invite',
      '/forgot-password',
      '/reset-password',
      '/verify-email',
      '/nowhere',
    ];
    for (const path of paths) {
      await goto(page, path);
      await page.locator('h1').first().waitFor();
      expect(await page.locator('h1').count()).toBe(1);
      // Every visible input has a label (A11y): its accessible name is not empty.
      for (const input of await page.locator('main input').all()) {
        expect(
          await input.evaluate((el) => (el as HTMLInputElement).labels?.length ?? 0),
        ).toBeGreaterThan(0);
      }
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    // Private pages send a signed-out visitor to sign in.
    await goto(page, '/account');
    await expectPath(page, '/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/account');
  });

  it('T3/A2: the password-strength meter (zxcvbn chunk) loads under the CSP; the #token leaves the address bar', async () => {
    const { page } = await open('/reset-password#token=not-a-real-token-but-long-enough');
    await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    expect(page.url()).not.toContain('#token');
    expect(page.url()).not.toContain('not-a-real-token');
    await page.getByLabel('New password', { exact: true }).fill('password123');
    await page.getByText(/Strength: (Very weak|Weak)/).waitFor();
    await page
      .getByLabel('New password', { exact: true })
      .fill('violet tractor umbrella quietly 93');
    await page.getByText(/Strength: (Strong|Very strong)/).waitFor();
    // A client-side problem is announced, linked to its input, and focused.
    await page.getByLabel('Repeat the new password').fill('something else');
    await page.getByRole('button', { name: 'Change password' }).click();
    const repeat = page.getByLabel('Repeat the new password');
    await expect.poll(() => repeat.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await repeat.getAttribute('aria-describedby')) ?? '';
    const alert = page.locator(`[id="${describedBy.split(' ').pop() ?? ''}"]`);
    expect(await alert.getAttribute('role')).toBe('alert');
    expect(await alert.textContent()).toBe('The two passwords differ.');
    expect(await repeat.evaluate((el) => el === document.activeElement)).toBe(true);
  });

  it('A3/V4: a wrong password shows the problem in a sentence, with no request id (it is no fault)', async () => {
    const admin = await seedAdmin();
    const { page } = await open('/sign-in');
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password', { exact: true }).fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.getByText('The email or password is incorrect.').waitFor();
    expect(await alert.textContent()).not.toMatch(/Request ID|HTTP \d/);
  });

  it('issue 14: the browser refuses what the server refuses (a@b), in the server’s words, before sending', async () => {
    const { page } = await open('/sign-in');
    let sent = 0;
    page.on('request', (request) => {
      if (request.url().endsWith('/api/auth/session')) sent += 1;
    });
    await page.getByLabel('Email').fill('a@b');
    await page.getByLabel('Password', { exact: true }).fill('whatever it is');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const email = page.getByLabel('Email');
    await page.getByText('Enter an email address like name@example.org.').waitFor();
    expect(await email.getAttribute('aria-invalid')).toBe('true');
    expect(sent).toBe(0);
  });

  it('issue 14/V4: server refusals read as sentences: field errors by their field, a rate limit once, a request id only for a fault', async () => {
    const { page } = await open('/sign-in');
    const answers: Array<{ status: number; headers: Record<string, string>; body: object }> = [
      {
        status: 400,
        headers: {},
        body: {
          type: 'https://haven.invalid/problems/validation-failed',
          title: 'Validation failed',
          status: 400,
          code: 'VALIDATION_FAILED',
          detail: 'body.email: Enter an email address like name@example.org.',
          errors: [
            {
              field: 'body.email',
              code: 'format',
              format: 'email',
              message: 'Enter an email address like name@example.org.',
            },
          ],
        },
      },
      {
        status: 429,
        headers: { 'retry-after': '30' },
        body: {
          type: 'https://haven.invalid/problems/rate-limited',
          title: 'Too many requests',
          status: 429,
          code: 'RATE_LIMITED',
          detail: 'Too many requests; retry in 30 seconds.',
        },
      },
      {
        status: 500,
        headers: { 'x-request-id': 'req-fault-1' },
        body: {
          type: 'https://haven.invalid/problems/internal-error',
          title: 'Internal error',
          status: 500,
          code: 'INTERNAL_ERROR',
          requestId: 'req-fault-1',
        },
      },
    ];
    await page.route('**/api/auth/session', (route) => {
      const answer = answers.shift()!;
      return route.fulfill({
        status: answer.status,
        headers: { ...answer.headers, 'content-type': 'application/problem+json' },
        body: JSON.stringify(answer.body),
      });
    });
    await page.getByLabel('Email').fill('someone@example.org');
    await page.getByLabel('Password', { exact: true }).fill('whatever it is');
    const signIn = page.getByRole('button', { name: 'Sign in', exact: true });
    // The form's own alert (a field's problem is an alert of its own beside the field).
    const alert = page.locator('div.error[role="alert"]');

    await signIn.click();
    await alert
      .getByText('Please check what you entered: Enter an email address like name@example.org.')
      .waitFor();
    expect(await page.getByLabel('Email').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('main').textContent()).not.toMatch(/body\.|must match|Request ID/);

    await signIn.click();
    await alert.getByText('Too many attempts in a short time. Try again in 30 seconds.').waitFor();
    expect((await alert.textContent())?.match(/try again|retry/gi)).toHaveLength(1);

    await signIn.click();
    await alert.getByText(/Something went wrong on our side/).waitFor();
    const details = alert.locator('details');
    expect(await details.isVisible()).toBe(true);
    expect(await alert.getByText('Request ID: req-fault-1').isVisible()).toBe(false);
    await details.locator('summary').click();
    await alert.getByText('Request ID: req-fault-1').waitFor();
  });

  it('A11/A9: admin invites a clinician, who accepts, enrols MFA, sees recovery codes, signs out and signs in with TOTP', async () => {
    const server = suite.server();
    const admin = await seedAdmin();
    const { page: adminPage } = await open('/');
    await signIn(adminPage, admin.email, admin.password, admin.totp);

    await adminPage.getByRole('link', { name: 'Users' }).click();
    await adminPage.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    const clinicianEmail = uniqueEmail('clinician');
    const invite = adminPage.getByRole('region', { name: 'Invite a user' });
    await invite.getByLabel('Email').fill(clinicianEmail);
    await invite.getByLabel('Role').selectOption('clinician');
    await invite.getByRole('button', { name: 'Send invitation' }).click();
    await invite.getByText(`Invitation sent to ${clinicianEmail}`).waitFor();

    const token = tokenFromMail(await waitForMail(server, clinicianEmail, /.*/));
    const { page } = await open(`/invite#token=${token}`);
    await page.getByText(`with the email ${clinicianEmail}`).waitFor();
    expect(page.url()).not.toContain(token);
    const password = 'lantern orchard pebble cinnamon 42';
    await page.getByLabel('Your name').fill('Chris Clinician');
    await page.getByLabel('Choose a password').fill(password);
    await page.getByRole('button', { name: 'Accept invitation' }).click();

    // Scan-less enrolment: read the setup key shown beside the QR code.
    const secret = (await page.locator('code.totp-secret').textContent()) ?? '';
    expect(secret.replace(/\s+/g, '')).toMatch(/^[A-Z2-7]{16,}$/);
    expect(await page.getByRole('img', { name: /QR code/ }).getAttribute('src')).toMatch(
      /^data:image\/svg\+xml;base64,/,
    );
    const device: TotpDevice = { secret, lastStep: 0 };
    await page.getByLabel('Code from your authenticator app').fill(await nextTotpCode(device));
    await page.getByRole('button', { name: 'Confirm' }).click();

    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    expect(
      await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count(),
    ).toBe(10);
    await page.getByLabel('I have saved my recovery codes').check();
    await page.getByRole('button', { name: 'Continue to Haven' }).click();
    await expectPath(page, '/');
    await page.getByText('Welcome,').waitFor();
    expect(await page.getByTestId('home-display-name').textContent()).toBe('Chris Clinician');

    await signOut(page);
    await signIn(page, clinicianEmail, password, device);
    await signOut(page);
    await signOut(adminPage);
  });

  it('V4: a link an email program cut short asks for the whole link instead of naming a field', async () => {
    const { page } = await open('/');
    const cases = [
      ['/invite#token=bogus', 'This page needs the whole invitation link from your email.'],
      ['/reset-password#token=short', 'This page needs the whole reset link from your email'],
      ['/setup#token=short', 'This page needs the whole one-time setup link'],
    ] as const;
    for (const [path, sentence] of cases) {
      await goto(page, path);
      await page.getByRole('alert').filter({ hasText: sentence }).waitFor();
      expect(await page.getByText(/characters|must match/).count()).toBe(0);
    }
  });

  it('A10: forgot password → mailed link → new password → sign in with MFA', async () => {
    const server = suite.server();
    const user = await seedUser(server, {
      email: uniqueEmail('reset'),
      password: 'an old password nobody remembers',
      roles: ['clinician'],
      withTotp: true,
    });
    const { page } = await open('/sign-in');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await expectPath(page, '/forgot-password');
    await page.getByLabel('Email').fill(user.email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await page.getByText(/If an account uses that email/).waitFor();

    const token = tokenFromMail(await waitForMail(server, user.email, /.*/));
    await goto(page, `/reset-password#token=${token}`);
    await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    expect(page.url()).not.toContain(token);
    const newPassword = 'marble giraffe seventy sunrise';
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Repeat the new password').fill(newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password has been changed').waitFor();

    await signIn(page, user.email, newPassword, user.totp);
    await signOut(page);
  });

  it('A7: revoking a session from /account in one browser signs the other browser out', async () => {
    const server = suite.server();
    const user = await seedUser(server, {
      email: uniqueEmail('two-tabs'),
      password: 'two browsers one person here',
      roles: ['patient'],
    });
    const first = await open('/');
    const second = await open('/');
    await signIn(first.page, user.email, user.password, null);
    await signIn(second.page, user.email, user.password, null);

    await first.page.getByRole('link', { name: 'Account', exact: true }).click();
    const sessions = first.page.getByRole('region', { name: 'Sessions' });
    await expect.poll(() => sessions.getByRole('listitem').count()).toBe(2);
    // Issue 14: a session reads as its browser and system, not as a raw User-Agent.
    expect(await sessions.locator('.card-title').allTextContents()).toEqual([
      expect.stringMatching(/^Chrome on Linux/),
      expect.stringMatching(/^Chrome on Linux/),
    ]);
    // Times carry their zone (the machine's, here UTC unless TZ says otherwise).
    expect(await sessions.locator('dd').first().textContent()).toMatch(
      /\d{1,2}:\d{2}.*[A-Z]{2,5}|GMT/,
    );
    await sessions
      .getByRole('button', { name: /^Sign out this session: Chrome on Linux, signed in / })
      .click();
    await sessions.getByText('The session was signed out.').waitFor();
    await expect.poll(() => sessions.getByRole('listitem').count()).toBe(1);

    // The second browser's next action finds its session gone and lands on sign-in.
    await second.page.getByRole('link', { name: 'Account', exact: true }).click();
    await expectPath(second.page, '/sign-in');
    await second.page.getByText('Your session has ended. Please sign in again.').waitFor();

    // The first browser is still signed in.
    await goto(first.page, '/account');
    await first.page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
  });

  it('A7: signing out in one tab signs out the other tabs of the same browser', async () => {
    const server = suite.server();
    const user = await seedUser(server, {
      email: uniqueEmail('tabs'),
      password: 'same browser two tabs here',
      roles: ['patient'],
    });
    const first = await open('/');
    await signIn(first.page, user.email, user.password, null);
    const secondTab = await first.page.context().newPage();
    await secondTab.goto(new URL('/account', server.baseUrl).href);
    await secondTab.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();

    await signOut(first.page);
    await expectPath(secondTab, '/sign-in');
    await secondTab.getByText('You signed out in another tab.').waitFor();
  });

  it('A9/Z5: a role change needs step-up MFA: the SPA asks for a code, steps up and retries', async () => {
    const server = suite.server();
    const target = await seedUser(server, {
      email: uniqueEmail('promoted'),
      password: 'roles change with step up',
      roles: ['patient'],
      displayName: 'Pat Patient',
    });
    const admin = await seedAdmin();
    const { page } = await open('/');
    await signIn(page, admin.email, admin.password, admin.totp);
    await goto(page, '/admin/users');
    await page.getByRole('search').getByLabel('Search by name or email').fill(target.email);
    await page.getByRole('search').getByRole('button', { name: 'Search' }).click();
    const card = page.getByRole('listitem').filter({ hasText: target.email });
    await card.getByRole('button', { name: /Manage/ }).click();

    server.stepUpClock.offsetMs = 6 * 60_000; // the sign-in MFA is now "older" than 5 minutes
    await card.getByLabel('participant').check();
    await card.getByRole('button', { name: 'Save roles' }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.waitFor();
    await dialog.getByLabel('Authentication code').fill(await nextTotpCode(admin.totp!));
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await card.getByText("Roles saved; the user's sessions were signed out.").waitFor();
    await dialog.waitFor({ state: 'hidden' });
    const row = await server.app.database.db
      .selectFrom('users')
      .select('roles')
      .where('id', '=', target.id)
      .executeTakeFirstOrThrow();
    expect([...row.roles].sort()).toEqual(['participant', 'patient']);
  });

  it('V3: a display name full of markup renders as text on /account', async () => {
    const server = suite.server();
    const user = await seedUser(server, {
      email: uniqueEmail('xss'),
      password: 'markup is only text here',
      roles: ['patient'],
      displayName: XSS_NAME,
    });
    const { page } = await open('/');
    await signIn(page, user.email, user.password, null);
    expect(await page.getByTestId('home-display-name').textContent()).toBe(XSS_NAME);
    await page.getByRole('link', { name: 'Account', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Your account' }).waitFor();
    expect(await page.getByTestId('profile-display-name').textContent()).toBe(XSS_NAME);
    expect(await page.getByLabel('Display name').inputValue()).toBe(XSS_NAME);
    expect(await page.locator('main img').count()).toBe(0);
  });

  it('V3: a display name full of markup renders as text on /admin/users', async () => {
    const server = suite.server();
    const target = await seedUser(server, {
      email: uniqueEmail('xss-listed'),
      password: 'markup is only text here',
      roles: ['patient'],
      displayName: XSS_NAME,
    });
    const admin = await seedAdmin();
    const { page } = await open('/');
    await signIn(page, admin.email, admin.password, admin.totp);
    await goto(page, '/admin/users');
    const search = page.getByRole('search');
    await search.getByLabel('Search by name or email').fill(target.email);
    await search.getByRole('button', { name: 'Search' }).click();
    const list = page.getByRole('list', { name: 'Users' });
    await list.locator('dd').getByText(target.email).waitFor();
    expect(await list.locator('.card-title').first().textContent()).toBe(XSS_NAME);
    expect(await page.locator('main img').count()).toBe(0);
  });
});
