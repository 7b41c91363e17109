// A home page per role (issue 14) in Chromium against the real server: each role's first view
// shows its own panels (by name, never by UUID, with a sentence when a list is empty), and
// axe-core finds nothing at 1280 px and at 320 px. With HAVEN_SCREENSHOTS=1 it also saves each
// home page at 1280 px to docs/screenshots/home-<role>.png (CI leaves them alone).
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createNoteRow, createOrganization, createPatientRow } from '../../server/test/actors.js';
import { recordAudit } from '../../server/src/platform/audit/audit.js';
import { expectAccessible } from './accessibility.js';
import { seedUser, type SeededUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const PASSWORD = 'harbour lighthouse kelp anchor 17';
const SCREENSHOTS = process.env.HAVEN_SCREENSHOTS === '1';
const SCREENSHOT_DIR = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

const suite = useBrowserSuite();
const { open, goto, signIn } = suite;

/** The panel a home page shows under this test id. */
const panel = (page: Page, id: string) => page.getByTestId(`home-${id}`);

/** No UUID where people read, axe-clean at 1280 and 320 px, nothing wider than a phone. */
async function expectHomeReadable(page: Page, role: string): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 900 });
  await expectAccessible(page, `home of the ${role} at 1280 px`);
  expect(await page.locator('main').textContent()).not.toMatch(UUID);
  if (SCREENSHOTS) {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOT_DIR}home-${role}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 320, height: 640 });
  await expectAccessible(page, `home of the ${role} at 320 px`);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, `home of the ${role} scrolls sideways at 320 px`).toBeLessThanOrEqual(0);
}

async function person(
  displayName: string,
  roles: Parameters<typeof seedUser>[1]['roles'],
  withTotp = true,
): Promise<SeededUser> {
  return seedUser(suite.server(), {
    // One server per file and a fresh database: readable addresses are unique here.
    email: `${displayName.toLowerCase().replace(/\W+/g, '.')}@harbour.example`,
    password: PASSWORD,
    roles,
    displayName,
    withTotp,
  });
}

async function home(user: SeededUser): Promise<Page> {
  const { page } = await open('/');
  await page.setViewportSize({ width: 1280, height: 900 });
  await signIn(page, user.email, user.password, user.totp);
  return page;
}

describe('a home page per role', () => {
  it('welcomes a visitor with a way to sign in', async () => {
    const { page } = await open('/');
    await panel(page, 'welcome').getByRole('heading', { name: 'Welcome to Haven' }).waitFor();
    expect(await panel(page, 'welcome').getByRole('link', { name: 'Sign in' }).count()).toBe(1);
    await expectHomeReadable(page, 'visitor');
  });

  it('shows each role its own panels, by name, axe-clean at 1280 and 320 px', async () => {
    const server = suite.server();
    const db = server.app.database.db;
    const clinician = await person('Casey Clinician', ['clinician']);
    const orgAdmin = await person('Olga Orgadmin', ['clinician']);
    const invitee = await person('Ivan Invitee', ['clinician'], false);
    await db.updateTable('users').set({ status: 'invited' }).where('id', '=', invitee.id).execute();
    const patientUser = await person('Ada Lovelace', ['patient'], false);
    const orgId = await createOrganization(db, {
      name: 'Harbour Clinic',
      members: [
        { userId: clinician.id, role: 'clinician' },
        { userId: orgAdmin.id, role: 'org_admin' },
        { userId: invitee.id, role: 'clinician' },
      ],
    });
    const ada = await createPatientRow(db, orgId, {
      givenName: 'Ada',
      familyName: 'Lovelace',
      mrn: 'HC-1815',
      portalUserId: patientUser.id,
    });
    await createPatientRow(db, orgId, { givenName: 'Grace', familyName: 'Hopper', mrn: 'HC-1906' });
    await createNoteRow(db, ada, orgId, clinician.id, [
      { body: 'Your blood pressure is back to normal. See you in six months.', shareable: true },
    ]);
    await db
      .insertInto('consent_documents')
      .values({
        organization_id: orgId,
        kind: 'treatment',
        version: 1,
        title: 'Consent to treatment',
        body: 'I agree to be treated at Harbour Clinic.',
        required: true,
        published_by: orgAdmin.id,
      })
      .execute();

    // Clinician: nothing viewed yet, then the patient they open is their recent patient.
    const staff = await home(clinician);
    const recent = panel(staff, 'recent-patients');
    await recent.getByText('No patients viewed yet.', { exact: false }).waitFor();
    const opened = staff.waitForResponse(
      (r) => r.url().endsWith(`/api/patients/${ada}`) && r.status() === 200,
    );
    await goto(staff, `/patients/${ada}`);
    await opened;
    await goto(staff, '/');
    await recent.getByRole('link', { name: 'Lovelace, Ada' }).waitFor();
    expect(await recent.getByRole('link', { name: 'Lovelace, Ada' }).getAttribute('href')).toBe(
      `/patients/${ada}`,
    );
    expect(await recent.textContent()).toContain('MRN HC-1815');
    expect(await recent.textContent()).not.toContain('Hopper');
    const actions = panel(staff, 'quick-actions');
    for (const name of ['Register a patient', 'Find a patient', 'Upload a file']) {
      expect(await actions.getByRole('link', { name }).count(), name).toBe(1);
    }
    await panel(staff, 'unfinished-uploads').getByText('No uploads are waiting').waitFor();
    expect(await panel(staff, 'members').count()).toBe(0);
    expect(await panel(staff, 'users').count()).toBe(0);
    await expectHomeReadable(staff, 'clinician');

    // Organization administrator: members, the pending invitation, the consent documents.
    const admin = await home(orgAdmin);
    await panel(admin, 'members').getByText('2 active members').waitFor();
    await panel(admin, 'pending-invitations').getByText('Ivan Invitee').waitFor();
    await panel(admin, 'consent-documents').getByText('Consent to treatment').waitFor();
    await panel(admin, 'recent-patients').getByText('No patients viewed yet.').waitFor();
    await expectHomeReadable(admin, 'org-admin');

    // Patient: their record, the consent to review, the shared note, who opened the record.
    const patient = await home(patientUser);
    await panel(patient, 'patient-record').getByText('Ada Lovelace, born').waitFor();
    await panel(patient, 'patient-consents').getByText('Consent to treatment').waitFor();
    await panel(patient, 'patient-notes').getByText('Casey Clinician').waitFor();
    await panel(patient, 'patient-access')
      .getByText('viewed your record', { exact: false })
      .waitFor();
    expect(await panel(patient, 'patient-access').textContent()).toContain('Casey Clinician');
    expect(await panel(patient, 'recent-patients').count()).toBe(0);
    await expectHomeReadable(patient, 'patient');

    // Administrator: users, organizations, the refresh-token reuse as a security event, health.
    const root = await person('Ada Admin', ['admin']);
    await recordAudit(db, {
      actor: { type: 'user', id: clinician.id },
      action: 'auth.refresh_reuse',
      outcome: 'failure',
    });
    await recordAudit(db, {
      // As the sign-in records a lockout: nobody is signed in, the account is not named.
      actor: { type: 'anonymous' },
      action: 'auth.login',
      outcome: 'denied',
      details: { reason: 'backoff' },
    });
    const platform = await home(root);
    await panel(platform, 'users').getByText('Ada Admin').waitFor();
    await panel(platform, 'users').getByText('1 invitation is waiting to be accepted.').waitFor();
    await panel(platform, 'organizations').getByText('Harbour Clinic').waitFor();
    await panel(platform, 'security-events')
      .getByText('Casey Clinician had a session ended', { exact: false })
      .waitFor();
    await panel(platform, 'security-events')
      .getByText('Someone was locked out after repeated failed sign-ins', { exact: false })
      .waitFor();
    await panel(platform, 'open-grants').getByText('No emergency access is open.').waitFor();
    await platform.getByRole('heading', { name: 'System health' }).waitFor();
    await expectHomeReadable(platform, 'admin');

    // Researcher and participant keep their studies and next case.
    const researcher = await home(await person('Rhea Researcher', ['researcher']));
    await researcher.getByRole('heading', { name: 'Your studies' }).waitFor();
    await researcher.getByText('You have no studies yet.').waitFor();
    await expectHomeReadable(researcher, 'researcher');
    const participant = await home(await person('Paul Participant', ['participant'], false));
    await participant.getByRole('heading', { name: 'Next case' }).waitFor();
    await participant.getByText('You are not taking part in a study yet.').waitFor();
    await expectHomeReadable(participant, 'participant');
  });

  it('A11: an org admin invites someone who has an account, learns nothing of it, and the person joins from their home page', async () => {
    const db = suite.server().app.database.db;
    const lead = await person('Lena Lead', ['clinician']);
    const joiner = await person('Jonas Joiner', ['clinician']);
    await createOrganization(db, {
      name: 'Quay Practice',
      members: [{ userId: lead.id, role: 'org_admin' }],
    });

    const admin = await home(lead);
    await goto(admin, '/organization/members');
    const form = admin.getByRole('region', { name: 'Invite a member' });
    await form.getByLabel('Email').fill(joiner.email);
    await form.getByRole('button', { name: 'Invite member' }).click();
    await form
      .getByText(`${joiner.email} was invited; they become a member once they accept.`)
      .waitFor();
    const members = admin.getByRole('list', { name: 'Members' });
    await members.getByText('Invited, not joined yet').waitFor();
    // The account's own name is not shown to the org admin: only the address they typed.
    expect(await members.textContent()).not.toContain('Jonas Joiner');

    const invitee = await home(joiner);
    const invitations = panel(invitee, 'organization-invitations');
    await invitations.getByText('Quay Practice').waitFor();
    await expectAccessible(invitee, 'home with an invitation to join');
    await invitations
      .getByRole('button', { name: 'Accept the invitation from Quay Practice' })
      .click();
    await invitations.getByText('You joined Quay Practice as clinician.').waitFor();
    await panel(invitee, 'quick-actions')
      .getByRole('heading', { name: 'Quick actions in Quay Practice' })
      .waitFor();
  });

  it('A11: a patient with an account accepts a clinic’s invitation to see their record from their home page', async () => {
    const db = suite.server().app.database.db;
    const nurse = await person('Nia Nurse', ['clinician']);
    const organizationId = await createOrganization(db, {
      name: 'Pier Clinic',
      members: [{ userId: nurse.id, role: 'clinician' }],
    });
    const patientId = await createPatientRow(db, organizationId, {
      givenName: 'Mara',
      familyName: 'Marsh',
      mrn: 'PC-7',
    });
    const mara = await person('Mara Marsh', ['patient'], false);

    const staff = await home(nurse);
    await goto(staff, `/patients/${patientId}`);
    await staff.getByRole('tab', { name: 'Portal invitation' }).click();
    const portal = staff.getByRole('region', { name: 'Patient portal' });
    await portal.getByLabel("Patient's email").fill(mara.email);
    await portal.getByRole('button', { name: 'Invite to the portal' }).click();
    await staff.getByText('An invitation to the patient portal was sent.').waitFor();
    await portal
      .getByText(
        'The patient was invited to the portal, or their account is linked to this record.',
      )
      .waitFor();

    const patientPage = await home(mara);
    await panel(patientPage, 'patient-record')
      .getByText('No patient record is linked to your account yet.', { exact: false })
      .waitFor();
    const invitations = panel(patientPage, 'portal-invitations');
    await invitations
      .getByText('Pier Clinic invites you to see the record', { exact: false })
      .waitFor();
    await expectAccessible(patientPage, 'home with an invitation to see a record');
    await invitations
      .getByRole('button', { name: 'Accept the invitation from Pier Clinic' })
      .click();
    await invitations
      .getByText('Your record at Pier Clinic is now linked to your account.')
      .waitFor();
    await panel(patientPage, 'patient-record')
      .getByText('is a patient of Pier Clinic (MRN PC-7)', { exact: false })
      .waitFor();
  });
});
