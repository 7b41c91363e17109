// Phone numbers and addresses as people write them (issue 14, details), in Chromium against the
// real server: staff type phone numbers in the national form of their organization's country and
// read them back that way (other countries' numbers internationally), the server stores E.164;
// an address form and an address on the record follow the order of the address's own country;
// a platform administrator sets an organization's country, and every page stays axe-clean.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrganization } from '../../server/test/actors.js';
import { expectAccessible } from './accessibility.js';
import { seedUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const PASSWORD = 'numbers as people dial them';

const suite = useBrowserSuite();
const { open, goto, expectPath, signIn, uniqueEmail } = suite;

/** The labels of the address form's inputs, in the order a person tabs through them. */
async function addressLabels(page: Page): Promise<string[]> {
  const fieldset = page.getByRole('group', { name: 'Address' });
  return fieldset
    .locator('label')
    .evaluateAll((labels) =>
      labels.map((label) => label.textContent?.trim() ?? '').filter((text) => text !== ''),
    );
}

describe('phones and addresses in the way of the country', () => {
  it('a clinic in the UK types 020 7946 0958, reads it back so, and the server stores +442079460958', async () => {
    const server = suite.server();
    const db = server.app.database.db;
    const clinician = await seedUser(server, {
      email: uniqueEmail('clinician'),
      password: PASSWORD,
      roles: ['clinician'],
      displayName: 'Priya Patel',
      withTotp: true,
    });
    await createOrganization(db, {
      name: `Thames Surgery ${Date.now()}`,
      country: 'GB',
      members: [{ userId: clinician.id, role: 'org_admin' }],
    });

    const { page } = await open('/');
    await signIn(page, clinician.email, clinician.password, clinician.totp);
    await goto(page, '/patients');
    await page.getByRole('button', { name: 'New patient' }).click();
    const form = page.locator('#patient-create-form');
    await form.getByLabel('MRN').fill('TS-0001');
    await form.getByLabel('Given name').fill('Oliver');
    await form.getByLabel('Family name').fill('Hughes');
    await form.getByLabel('Birth date').fill('1961-03-14');

    // A new address starts in the organization's country, laid out as the UK writes one.
    await form.getByLabel('Record an address').check();
    expect(await form.getByLabel('Country', { exact: true }).inputValue()).toBe('GB');
    expect(await addressLabels(page)).toEqual([
      'Record an address',
      'Country',
      'Address line 1',
      'Address line 2 (optional)',
      'City',
      'Postal code',
      'Region (optional)',
    ]);
    // A German address: the postal code comes before the city, on the form and on the record.
    await form.getByLabel('Country', { exact: true }).selectOption({ label: 'Germany' });
    expect((await addressLabels(page)).slice(2, 6)).toEqual([
      'Address line 1',
      'Address line 2 (optional)',
      'Postal code',
      'City',
    ]);
    await form.getByLabel('Address line 1').fill('Invalidenstraße 117');
    await form.getByLabel('Postal code').fill('10115');
    await form.getByLabel('City').fill('Berlin');

    // Phone numbers: a hint in the national form; a number too short is refused in a sentence.
    await form.getByRole('button', { name: 'Add a contact method' }).click();
    const phone = form.getByLabel('Contact 1 phone number');
    await phone.fill('020 7946');
    await form.getByRole('button', { name: 'Register patient' }).click();
    await form
      .getByText(/^Enter a phone number, e\.g\. 07\d{3} \d{6}, or an international/)
      .waitFor();
    await expectAccessible(page, 'the patient form with a phone number refused');
    await phone.fill('020 7946 0958');
    await form.getByRole('button', { name: 'Add a contact method' }).click();
    await form.getByLabel('Contact 2 phone number').fill('+1 201 555 0123');
    await form.getByRole('button', { name: 'Register patient' }).click();
    await expectPath(page, /^\/patients\/[0-9a-f-]{36}$/);

    const stored = await db
      .selectFrom('patients')
      .select(['contact_methods', 'address'])
      .where('mrn', '=', 'TS-0001')
      .executeTakeFirstOrThrow();
    expect(stored.contact_methods).toEqual([
      { type: 'phone', value: '+442079460958', verified: false },
      { type: 'phone', value: '+12015550123', verified: false },
    ]);
    expect(stored.address).toMatchObject({ postalCode: '10115', city: 'Berlin', country: 'DE' });

    // Read back: the UK number nationally, the US one internationally, the address as Germans write it.
    await page
      .getByRole('tabpanel', { name: 'Summary' })
      .getByText('020 7946 0958', { exact: true })
      .waitFor();
    await goto(page, `${new URL(page.url()).pathname}?tab=demographics`);
    const facts = page.getByTestId('patient-facts');
    await facts.getByText('Phone: 020 7946 0958 (not verified)').waitFor();
    await facts.getByText('Phone: +1 201 555 0123 (not verified)').waitFor();
    expect(
      await facts.locator('.address-line').evaluateAll((lines) => lines.map((l) => l.textContent)),
    ).toEqual(['Invalidenstraße 117', '10115 Berlin', 'Germany']);
    await expectAccessible(page, 'demographics with national phone numbers');

    // Editing shows the numbers as they are read, and saving unchanged changes nothing.
    await page.getByRole('button', { name: 'Edit demographics' }).click();
    expect(await page.getByLabel('Contact 1 phone number').inputValue()).toBe('020 7946 0958');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Nothing changed.').waitFor();
  });

  it('a platform administrator creates an organization in a country and changes it later', async () => {
    const server = suite.server();
    const admin = await seedUser(server, {
      email: uniqueEmail('admin'),
      password: PASSWORD,
      roles: ['admin'],
      displayName: 'Ada Admin',
      withTotp: true,
    });
    const name = `Liffey Clinic ${Date.now()}`;
    const { page } = await open('/');
    await signIn(page, admin.email, admin.password, admin.totp);
    await goto(page, '/admin/organizations');
    const create = page.getByRole('region', { name: 'Create an organization' });
    await create.getByLabel('Organization name').fill(name);
    await create.getByLabel('Country').selectOption({ label: 'United Kingdom' });
    await create.getByRole('button', { name: 'Create organization' }).click();
    await create.getByText(`${name} was created.`).waitFor();

    const card = page.getByRole('listitem').filter({ hasText: name });
    await card.getByText('United Kingdom', { exact: true }).waitFor();
    await card.getByRole('button', { name: `Change the country of ${name}` }).click();
    await card.getByLabel(`Country of ${name}`).selectOption({ label: 'Ireland' });
    await expectAccessible(page, 'changing an organization’s country');
    await card.getByRole('button', { name: 'Save the country' }).click();
    await page.getByText(`${name} now works in Ireland.`).waitFor();
    await card.getByText('Ireland', { exact: true }).waitFor();

    const row = await server.app.database.db
      .selectFrom('organizations')
      .select('country')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    expect(row.country).toBe('IE');
  });
});
