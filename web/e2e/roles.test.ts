// One role story (issue 14) in Chromium against the real server: a person invited as an
// organization administrator is named "Organization administrator" in the invitation mail, on
// the invitation page, on their home page, in the header and in the administrators' users list,
// though their account role is only 'clinician'. Every page shown is checked with axe-core.
import { describe, expect, it } from 'vitest';
import { createOrganization } from '../../server/test/actors.js';
import { expectAccessible } from './accessibility.js';
import {
  nextTotpCode,
  seedUser,
  tokenFromMail,
  waitForMail,
  type TotpDevice,
} from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const ORG_ADMIN = 'Organization administrator';

const suite = useBrowserSuite();
const { open, goto, expectPath, signIn, uniqueEmail } = suite;

describe('one role story', () => {
  it('an invited org admin is "Organization administrator" in the mail, the invitation, home, header and users list', async () => {
    const server = suite.server();
    const organizationName = `Harbour Clinic ${Date.now()}`;
    await createOrganization(server.app.database.db, { name: organizationName });
    const admin = await seedUser(server, {
      email: uniqueEmail('admin'),
      password: 'correct horse battery staple admin',
      roles: ['admin'],
      displayName: 'Ada Admin',
      withTotp: true,
    });

    // The platform administrator adds a new person to the organization as its administrator.
    const { page: adminPage } = await open('/');
    await signIn(adminPage, admin.email, admin.password, admin.totp);
    await expect.poll(() => adminPage.getByTestId('home-role').textContent()).toBe('Administrator');
    await goto(adminPage, '/admin/organizations');
    await adminPage
      .getByRole('button', { name: `Add a member to ${organizationName}`, exact: true })
      .click();
    const orgAdminEmail = uniqueEmail('org-admin');
    await adminPage.getByLabel('Email').fill(orgAdminEmail);
    await adminPage.getByLabel('Organization role').selectOption({ label: ORG_ADMIN });
    await adminPage.getByRole('button', { name: 'Add member' }).click();
    await adminPage.getByText(`${orgAdminEmail} was invited`).waitFor();

    // The mail names the clinic (issue 14 item 7): "Join <organization> on Haven".
    const mail = await waitForMail(server, orgAdminEmail, /on Haven$/);
    expect(mail.subject).toBe(`Join ${organizationName} on Haven`);
    expect(mail.text).toContain(`You have been invited to Haven as: ${ORG_ADMIN}.`);
    expect(mail.text.toLowerCase()).not.toContain('clinician');

    // The invitation page names the same role.
    const { page } = await open(`/invite#token=${tokenFromMail(mail)}`);
    await page.getByText(`with the email ${orgAdminEmail}`).waitFor();
    expect(await page.getByTestId('invitation-role').textContent()).toBe(ORG_ADMIN);
    await expectAccessible(page, '/invite for an org admin');
    await page.getByLabel('Your name').fill('Olga Orgadmin');
    await page.getByLabel('Choose a password').fill('harbour lighthouse kelp anchor 17');
    await page.getByRole('button', { name: 'Accept invitation' }).click();
    const secret = (await page.locator('code.totp-secret').textContent()) ?? '';
    const device: TotpDevice = { secret: secret.replace(/\s+/g, ''), lastStep: 0 };
    await page.getByLabel('Code from your authenticator app').fill(await nextTotpCode(device));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByLabel('I have saved my recovery codes').check();
    await page.getByRole('button', { name: 'Continue to Haven' }).click();
    await expectPath(page, '/');

    // Home and header: the one organization is active, and it names them its administrator.
    await expect.poll(() => page.getByTestId('home-role').textContent()).toBe(ORG_ADMIN);
    expect(await page.getByTestId('header-role').textContent()).toBe(ORG_ADMIN);
    expect(await page.getByTestId('active-organization').textContent()).toBe(
      `Working in ${organizationName} (${ORG_ADMIN})`,
    );
    expect(await page.locator('body').textContent()).not.toMatch(/\bclinician\b/);
    await expectAccessible(page, '/ for an org admin');
    await goto(page, '/account');
    await expect.poll(() => page.getByTestId('profile-role').textContent()).toBe(ORG_ADMIN);
    await expectAccessible(page, '/account for an org admin');

    // The administrators' users list: the same words, not the account role.
    await goto(adminPage, '/admin/users');
    const users = adminPage.getByRole('list', { name: 'Users' });
    const card = users.getByRole('listitem').filter({ hasText: orgAdminEmail });
    await expect.poll(() => card.getByTestId('user-role').textContent()).toBe(ORG_ADMIN);
    await expectAccessible(adminPage, '/admin/users with an org admin');
  });
});
