// A page whose data could not load for now (503 while the database restarts, 429) says "try
// again in N seconds"; it then does so itself, keeping the message up meanwhile, instead of
// leaving the person to find the reload button (probe ux). A refusal for good (403, 404) is not
// retried. Every page is checked for CSP violations and page errors (suite.ts).
import { describe, expect, it } from 'vitest';
import { createOrganization, createPatientRow } from '../../server/test/actors.js';
import { expectAccessible } from './accessibility.js';
import { seedUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const PASSWORD = 'pages try again when told to wait';

const suite = useBrowserSuite();
const { open, goto } = suite;

const unavailable = {
  status: 503,
  contentType: 'application/problem+json',
  headers: { 'retry-after': '1' },
  body: JSON.stringify({
    type: 'about:blank',
    title: 'Service Unavailable',
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    detail: 'The service is briefly unavailable.',
  }),
};

describe('a page that could not load tries again by itself', () => {
  it('R1/V4: the patient list refused twice with 503 + Retry-After shows the wait, then the patients, without a reload', async () => {
    const s = suite.server();
    const user = await seedUser(s, {
      email: suite.uniqueEmail('retry'),
      password: PASSWORD,
      roles: ['clinician'],
      displayName: 'Dr Retry',
      withTotp: true,
    });
    const orgId = await createOrganization(s.app.database.db, {
      name: `Retry Clinic ${Date.now()}`,
      members: [{ userId: user.id, role: 'clinician' }],
    });
    await createPatientRow(s.app.database.db, orgId, {
      givenName: 'Rita',
      familyName: 'Retry',
      mrn: `RT-${Date.now()}`,
    });
    const { page } = await open('/');
    await suite.signIn(page, user.email, user.password, user.totp);

    let refusals = 0;
    await page.route('**/api/patients/search', async (route) => {
      if (refusals < 2) {
        refusals += 1;
        await route.fulfill(unavailable);
        return;
      }
      await route.continue();
    });
    await goto(page, '/patients');
    await page.getByText('Haven is briefly unavailable. Try again in a second.').first().waitFor();
    await expectAccessible(page, '/patients while the list is refused');
    await page.getByText(/Rita/).first().waitFor({ timeout: 15_000 });
    expect(refusals).toBe(2);
    await expect.poll(() => page.getByRole('alert').count()).toBe(0);
  });

  it('R1: a refusal for good (403) is not retried', async () => {
    const s = suite.server();
    const user = await seedUser(s, {
      email: suite.uniqueEmail('no-retry'),
      password: PASSWORD,
      roles: ['clinician'],
      displayName: 'Dr No Retry',
      withTotp: true,
    });
    await createOrganization(s.app.database.db, {
      name: `No Retry Clinic ${Date.now()}`,
      members: [{ userId: user.id, role: 'clinician' }],
    });
    const { page } = await open('/');
    await suite.signIn(page, user.email, user.password, user.totp);
    let calls = 0;
    await page.route('**/api/patients/search', async (route) => {
      calls += 1;
      await route.fulfill({
        status: 403,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: 'about:blank',
          title: 'Forbidden',
          status: 403,
          code: 'FORBIDDEN',
        }),
      });
    });
    await goto(page, '/patients');
    await page.getByRole('alert').first().waitFor();
    await page.waitForTimeout(3_000);
    expect(calls).toBe(1);
  });
});
