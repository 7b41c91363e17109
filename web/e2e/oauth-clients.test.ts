// Connected systems in Chromium (A12, issue 12 item 4; Z5): a platform administrator registers
// a machine integration whose secret is shown once (with a copy button and the sentence that it
// will not be shown again) and then authenticates at the token endpoint, makes it a new secret
// after confirming and re-entering an authenticator code (step-up), and disables it; an
// organization administrator registers an app for patients without a secret for their
// organization, from their own page. Every page is checked for accessibility, CSP violations and
// page errors (suite.ts).
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrganization } from '../../server/test/actors.js';
import { expectAccessible, expectAccessibleAtBothWidths } from './accessibility.js';
import { nextTotpCode, seedUser, type SeededUser, type TotpDevice } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const suite = useBrowserSuite();
const { open, goto } = suite;
const PASSWORD = 'systems that connect to the clinic';

async function seed(roles: Parameters<typeof seedUser>[1]['roles'], name: string) {
  return seedUser(suite.server(), {
    email: suite.uniqueEmail(name.toLowerCase().replace(/\W+/g, '-')),
    password: PASSWORD,
    roles,
    displayName: name,
    withTotp: true,
  });
}

async function confirmWithCode(page: Page, user: SeededUser): Promise<void> {
  const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
  await dialog.waitFor();
  await dialog.getByLabel('Authentication code').fill(await nextTotpCode(user.totp as TotpDevice));
  await dialog.getByRole('button', { name: 'Confirm' }).click();
}

/** A client-credentials request with this secret: whether the token endpoint accepts it. */
async function tokenStatus(clientId: string, secret: string): Promise<number> {
  const response = await suite.server().app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
    },
    payload: 'grant_type=client_credentials&scope=audit%3Aread',
  });
  return response.statusCode;
}

/** The client id and secret the once-only panel shows. */
async function shownSecret(page: Page): Promise<{ clientId: string; secret: string }> {
  const panel = page.getByRole('region', { name: /^The secret of / });
  await panel.getByText('it will not be shown again').waitFor();
  const clientId = (await panel.locator('dd code').first().textContent()) ?? '';
  const secret = (await panel.getByLabel('Client secret').textContent()) ?? '';
  return { clientId, secret };
}

describe('connected systems', () => {
  it('A12/Z5: an administrator registers a machine integration, sees its secret once, renews it under step-up and disables it', async () => {
    const admin = await seed(['admin'], 'Ada Admin');
    const { page } = await open('/sign-in');
    await suite.signIn(page, admin.email, admin.password, admin.totp);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Connected systems' })
      .click();
    await page.getByRole('heading', { level: 1, name: 'Connected systems' }).waitFor();
    await page.getByText('No system is connected yet.').waitFor();
    await expectAccessible(page, 'connected systems, empty');

    await page.getByRole('button', { name: 'Register a system' }).click();
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await expect
      .poll(() => page.getByText('Choose at least one thing the system may do.').count())
      .toBe(1);
    await page.getByLabel('Name').fill('Lab results feed');
    await page.getByLabel('Kind').selectOption({ label: 'Machine integration' });
    await page.getByLabel('Read the audit log of every organization').check();
    await expectAccessible(page, 'connected systems, register form');
    await page.getByRole('button', { name: 'Register', exact: true }).click();

    const first = await shownSecret(page);
    expect(first.secret.length).toBeGreaterThanOrEqual(43);
    await page.getByRole('button', { name: 'Copy the secret' }).click();
    await page.getByText(/The secret is copied|copy it by hand/).waitFor();
    await expectAccessibleAtBothWidths(page, 'connected systems, secret shown once');
    expect(await tokenStatus(first.clientId, first.secret)).toBe(200);
    await page.getByRole('button', { name: 'I have stored the secret' }).click();
    await expect.poll(() => page.content()).not.toContain(first.secret);

    const card = page
      .getByRole('list', { name: 'Connected systems' })
      .getByRole('listitem')
      .filter({ hasText: 'Lab results feed' });
    await card.getByText('Machine integration').waitFor();
    await card.getByText('Read the audit log of every organization').waitFor();
    await card.getByText('Active').waitFor();
    // Reloaded, the page knows no secret at all.
    await goto(page, '/admin/oauth-clients');
    await card.waitFor();
    expect(await page.content()).not.toContain(first.secret);

    // A new secret, after the confirmation and a fresh authenticator code (the last is stale).
    suite.server().stepUpClock.offsetMs = 6 * 60_000;
    await card.getByRole('button', { name: 'New secret for Lab results feed' }).click();
    await card.getByRole('button', { name: 'Yes, make a new secret' }).click();
    await confirmWithCode(page, admin);
    const second = await shownSecret(page);
    expect(second.clientId).toBe(first.clientId);
    expect(second.secret).not.toBe(first.secret);
    expect(await tokenStatus(first.clientId, first.secret)).toBe(401);
    expect(await tokenStatus(second.clientId, second.secret)).toBe(200);
    await page.getByRole('button', { name: 'I have stored the secret' }).click();

    await card.getByRole('button', { name: 'Disable Lab results feed' }).click();
    await card.getByText('cannot be turned back on').waitFor();
    await card.getByRole('button', { name: 'Yes, disable' }).click();
    await card.getByText('Disabled: it can no longer connect').waitFor();
    expect(await tokenStatus(second.clientId, second.secret)).toBe(401);
    await expectAccessibleAtBothWidths(page, 'connected systems, disabled client');
  });

  it('A12/Z4: an organization administrator registers an app for patients without a secret for their organization', async () => {
    const orgAdmin = await seed(['clinician'], 'Otto Orgadmin');
    const { db } = suite.server().app.database;
    const organizationId = await createOrganization(db, {
      name: `Harbour Clinic ${Date.now()}`,
      members: [{ userId: orgAdmin.id, role: 'org_admin' }],
    });
    const { page } = await open('/sign-in');
    await suite.signIn(page, orgAdmin.email, orgAdmin.password, orgAdmin.totp);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Connected systems' })
      .click();
    await page
      .getByRole('heading', { level: 1, name: /^Connected systems of Harbour Clinic/ })
      .waitFor();
    await page.getByText('a platform administrator registers them').waitFor();

    await page.getByRole('button', { name: 'Register a system' }).click();
    await page.getByText('Kind: App for patients.').waitFor();
    await page.getByLabel('Name').fill('Harbour companion');
    await page.getByLabel('Read a patient’s own record, when the patient allows it').check();
    await page.getByLabel('Return addresses').fill('http://example.org/callback');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByText('must start with https://').waitFor();
    await page.getByLabel('Return addresses').fill('http://127.0.0.1:8123/callback');
    await page.getByLabel(/App without a secret/).check();
    await expectAccessible(page, 'organization connected systems, register form');
    await page.getByRole('button', { name: 'Register', exact: true }).click();

    await page.getByRole('heading', { name: 'Harbour companion is registered' }).waitFor();
    await page.getByText('This app has no secret').waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    const card = page
      .getByRole('list', { name: 'Connected systems' })
      .getByRole('listitem')
      .filter({ hasText: 'Harbour companion' });
    await card.getByText('App for patients, without a secret').waitFor();
    await card.getByText('http://127.0.0.1:8123/callback').waitFor();
    // No secret to renew: only disabling is offered.
    expect(await card.getByRole('button', { name: /New secret/ }).count()).toBe(0);
    await expectAccessibleAtBothWidths(page, 'organization connected systems, list');

    const [row] = await db
      .selectFrom('oauth_clients')
      .select(['owner_organization_id', 'public_client', 'secret_sha256'])
      .where('name', '=', 'Harbour companion')
      .execute();
    expect(row).toEqual({
      owner_organization_id: organizationId,
      public_client: true,
      secret_sha256: null,
    });
  });
});
