// The first session of each role that had none walked in Chromium (issue 14, "Done means"): a
// patient, a researcher and a study participant each start from the invitation mail they really
// receive, do what the invitation page asks of them (a password; MFA enrolment and recovery
// codes where the role requires MFA), and land on a home page that shows what that role should
// see, by name and never by UUID, with a sentence where a list is empty, axe-clean at 1280 and
// 320 px. The clinician's and the organization administrator's first sessions are walked in
// identity.test.ts and roles.test.ts.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createNoteRow, createOrganization, createPatientRow } from '../../server/test/actors.js';
import {
  insertCase,
  insertPublishedQuestionnaire,
  insertStudy,
} from '../../server/test/review-actors.js';
import { expectAccessible, expectAccessibleAtBothWidths } from './accessibility.js';
import {
  nextTotpCode,
  seedUser,
  tokenFromMail,
  waitForMail,
  type SeededUser,
  type TotpDevice,
} from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const STAFF_PASSWORD = 'harbour lighthouse kelp anchor 17';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

const suite = useBrowserSuite();
const { open, goto, expectPath, signIn, uniqueEmail } = suite;

/** A person already at work, signed in through the real form in a page of their own. */
async function seedStaff(
  displayName: string,
  roles: Parameters<typeof seedUser>[1]['roles'],
): Promise<SeededUser> {
  return seedUser(suite.server(), {
    email: uniqueEmail(displayName.toLowerCase().replace(/\W+/g, '.')),
    password: STAFF_PASSWORD,
    roles,
    displayName,
    withTotp: true,
  });
}

async function signedIn(user: SeededUser): Promise<Page> {
  const { page } = await open('/');
  await signIn(page, user.email, user.password, user.totp);
  return page;
}

/**
 * Opens the invitation link of the newest mail to `email` in a fresh page, as the invitee
 * would; checks the page names the address and the role in words, and is axe-clean.
 */
async function openInvitation(email: string, subject: RegExp, role: string): Promise<Page> {
  const mail = await waitForMail(suite.server(), email, subject);
  const token = tokenFromMail(mail);
  const { page } = await open(`/invite#token=${token}`);
  await page.getByText(`with the email ${email}`).waitFor();
  // The one-time token leaves the address bar (and so the history) once read.
  expect(page.url()).not.toContain(token);
  expect(await page.getByTestId('invitation-role').textContent()).toBe(role);
  await expectAccessible(page, `/invite for a ${role.toLowerCase()}`);
  return page;
}

/** The home page after the first sign-in: the person by name, in their role. */
async function expectWelcomeHome(page: Page, name: string, role: string): Promise<void> {
  await expectPath(page, '/');
  await page.getByText('Welcome,').waitFor();
  expect(await page.getByTestId('home-display-name').textContent()).toBe(name);
  await expect.poll(() => page.getByTestId('home-role').textContent()).toBe(role);
}

/** No UUID where people read, and axe-clean at 1280 and 320 px without sideways scrolling. */
async function expectHomeReadable(page: Page, where: string): Promise<void> {
  await expectAccessibleAtBothWidths(page, where);
  expect(await page.locator('main').textContent(), where).not.toMatch(UUID);
}

/** The panel of a home page with this test id. */
const panel = (page: Page, id: string) => page.getByTestId(`home-${id}`);

describe('the first session of each role', () => {
  it('a patient invited to the portal from their record accepts with their name filled in and sees their record, consents, notes and who opened it', async () => {
    const server = suite.server();
    const db = server.app.database.db;
    const clinician = await seedStaff('Casey Clinician', ['clinician']);
    const organizationName = 'Harbour Clinic';
    const orgId = await createOrganization(db, {
      name: organizationName,
      members: [{ userId: clinician.id, role: 'clinician' }],
    });
    const patientId = await createPatientRow(db, orgId, {
      givenName: 'Ada',
      familyName: 'Lovelace',
      mrn: 'HC-1815',
      birthDate: '1815-12-10',
    });
    await createNoteRow(db, patientId, orgId, clinician.id, [
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
        published_by: clinician.id,
      })
      .execute();

    // The clinician invites the patient from the record's portal tab.
    const staff = await signedIn(clinician);
    await goto(staff, `/patients/${patientId}`);
    await staff.getByRole('tab', { name: 'Portal invitation' }).click();
    const portal = staff.getByRole('region', { name: 'Patient portal' });
    await portal.getByText('No portal account is linked to this record yet.').waitFor();
    const patientEmail = uniqueEmail('ada.lovelace');
    await portal.getByLabel("Patient's email").fill(patientEmail);
    await portal.getByRole('button', { name: 'Invite to the portal' }).click();
    await staff.getByText('An invitation to the patient portal was sent.').waitFor();
    await portal
      .getByText(
        'The patient was invited to the portal, or their account is linked to this record.',
      )
      .waitFor();

    // The mail is about their record at the clinic; the page knows their name already.
    const mail = await waitForMail(server, patientEmail, /on Haven$/);
    expect(mail.subject).toBe(`${organizationName} invites you to see your record on Haven`);
    expect(mail.text).toContain('You have been invited to Haven as: Patient.');
    expect(mail.text).toContain('Casey Clinician sent you this invitation.');
    const page = await openInvitation(patientEmail, /on Haven$/, 'Patient');
    expect(await page.getByLabel('Your name').inputValue()).toBe('Ada Lovelace');
    await page.getByLabel('Choose a password').fill('velvet compass orchard 1843');
    await page.getByRole('button', { name: 'Accept invitation' }).click();

    // No MFA for a patient: straight home, signed in.
    await expectWelcomeHome(page, 'Ada Lovelace', 'Patient');
    await panel(page, 'patient-record').getByText(`Ada Lovelace, born`, { exact: false }).waitFor();
    expect(await panel(page, 'patient-record').textContent()).toContain(
      `is a patient of ${organizationName} (MRN HC-1815).`,
    );
    await panel(page, 'patient-consents').getByText('Consent to treatment').waitFor();
    await panel(page, 'patient-notes').getByText('Casey Clinician', { exact: false }).waitFor();
    expect(await panel(page, 'patient-notes').textContent()).toContain(
      'Your blood pressure is back to normal.',
    );
    // The clinician opened the record to send the invitation: the patient sees who, by name.
    const access = panel(page, 'patient-access');
    await access.getByText('Casey Clinician', { exact: false }).waitFor();
    expect(await access.textContent()).toContain('viewed your record');
    // None of the staff panels.
    expect(await panel(page, 'recent-patients').count()).toBe(0);
    expect(await panel(page, 'quick-actions').count()).toBe(0);
    await expectHomeReadable(page, 'home of a new patient');
  });

  it('a researcher added to an organization by an administrator accepts, enrols MFA, saves recovery codes, sees no studies, then creates one and sees it on home', async () => {
    const server = suite.server();
    const organizationName = 'Harbour Research Unit';
    await createOrganization(server.app.database.db, { name: organizationName });
    const admin = await seedStaff('Ada Admin', ['admin']);

    // The administrator adds a new person to the organization with the researcher role.
    const adminPage = await signedIn(admin);
    await goto(adminPage, '/admin/organizations');
    await adminPage
      .getByRole('button', { name: `Add a member to ${organizationName}`, exact: true })
      .click();
    const researcherEmail = uniqueEmail('rhea.researcher');
    await adminPage.getByLabel('Email').fill(researcherEmail);
    await adminPage.getByLabel('Organization role').selectOption({ label: 'Researcher' });
    await adminPage.getByRole('button', { name: 'Add member' }).click();
    await adminPage.getByText(`${researcherEmail} was invited`, { exact: false }).waitFor();

    const mail = await waitForMail(server, researcherEmail, /on Haven$/);
    expect(mail.subject).toBe(`Join ${organizationName} on Haven`);
    expect(mail.text).toContain('You have been invited to Haven as: Researcher.');
    const page = await openInvitation(researcherEmail, /on Haven$/, 'Researcher');
    expect(await page.getByLabel('Your name').inputValue()).toBe('');
    await page.getByLabel('Your name').fill('Rhea Researcher');
    await page.getByLabel('Choose a password').fill('tidal almanac quartz heron 58');
    await page.getByRole('button', { name: 'Accept invitation' }).click();

    // A researcher must use MFA: enrol an authenticator from the setup key, then the codes.
    const secret = (await page.locator('code.totp-secret').textContent()) ?? '';
    const device: TotpDevice = { secret: secret.replace(/\s+/g, ''), lastStep: 0 };
    expect(device.secret).toMatch(/^[A-Z2-7]{16,}$/);
    await expectAccessible(page, 'MFA enrolment of a new researcher');
    await page.getByLabel('Code from your authenticator app').fill(await nextTotpCode(device));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Your recovery codes' }).waitFor();
    expect(
      await page.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count(),
    ).toBe(10);
    await expectAccessible(page, 'recovery codes of a new researcher');
    await page.getByLabel('I have saved my recovery codes').check();
    await page.getByRole('button', { name: 'Continue to Haven' }).click();

    await expectWelcomeHome(page, 'Rhea Researcher', 'Researcher');
    const studies = page.getByRole('region', { name: 'Your studies' });
    await studies.getByText('You have no studies yet.').waitFor();
    // Only the researcher's panel: no clinical, administrative or participant panels.
    expect(await panel(page, 'quick-actions').count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Next case' }).count()).toBe(0);
    await expectHomeReadable(page, 'home of a new researcher');

    // From home to the studies page, where the organization is already chosen for a new study.
    await studies.getByRole('link', { name: 'Studies', exact: true }).click();
    await expectPath(page, '/studies');
    await page.getByRole('heading', { level: 1, name: 'Studies' }).waitFor();
    await page.getByText('You are not on the team of any study yet.').waitFor();
    const organization = page.getByLabel('Organization');
    expect(await organization.locator('option:checked').textContent()).toBe(organizationName);
    await expectAccessible(page, 'studies of a new researcher');
    const title = 'Sepsis triage with and without AI';
    await page.getByLabel('Title').fill(title);
    await page.getByRole('button', { name: 'Create study' }).click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    await expectPath(page, /^\/studies\/[0-9a-f-]{36}$/);
    const studyPath = new URL(page.url()).pathname;

    // Home now lists the study by its title, linked to it, with its status in words.
    await page.getByRole('link', { name: 'Haven', exact: true }).first().click();
    await expectPath(page, '/');
    const link = studies.getByRole('link', { name: title });
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe(studyPath);
    expect(await studies.getByRole('listitem').textContent()).toContain('Draft');
    expect(await studies.getByText('You have no studies yet.').count()).toBe(0);
    await expectHomeReadable(page, 'home of a researcher with a study');
  });

  it('a participant invited by email to a study accepts, lands on home with the study and its next case, and opens it', async () => {
    const server = suite.server();
    const db = server.app.database.db;
    const researcher = await seedStaff('Robin Reyes', ['researcher']);
    const orgId = await createOrganization(db, {
      name: 'Harbour Reading Room',
      members: [{ userId: researcher.id, role: 'researcher' }],
    });
    const studyTitle = 'Pneumonia triage study';
    const studyId = await insertStudy(db, orgId, researcher.id, {
      title: studyTitle,
      status: 'active',
    });
    await insertCase(db, studyId, 'CASE-1');
    await insertCase(db, studyId, 'CASE-2');
    await insertPublishedQuestionnaire(db, studyId);

    // The researcher invites a new participant from the study's team, then assigns them both
    // cases with an assignment sheet: an invited participant can be given cases at once.
    const staff = await signedIn(researcher);
    await goto(staff, `/studies/${studyId}`);
    await staff.getByRole('heading', { level: 1, name: studyTitle }).waitFor();
    const participantEmail = uniqueEmail('pat.participant');
    await staff.getByLabel('Participant email').fill(participantEmail);
    await staff.getByLabel('Participant name').fill('Pat Participant');
    await staff.getByRole('button', { name: 'Add participant' }).click();
    await staff.getByText(`An invitation was sent to ${participantEmail}.`).waitFor();
    const member = staff.getByRole('row').filter({ hasText: participantEmail });
    await member.getByRole('rowheader', { name: 'Pat Participant' }).waitFor();
    expect(await member.textContent()).toContain('Invited');
    await staff
      .getByRole('navigation', { name: 'Study sections' })
      .getByRole('link', { name: 'Assignments' })
      .click();
    await staff.getByLabel('Assignment sheet (CSV)').setInputFiles({
      name: 'sheet.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        [
          'participant_email,case_id,path,collapse,highlight,top',
          `${participantEmail},CASE-1,,,,`,
          `${participantEmail},CASE-2,,,,`,
        ].join('\r\n') + '\r\n',
      ),
    });
    await staff.getByRole('button', { name: 'Upload assignments' }).click();
    await staff
      .getByText('2 assignments were created for 1 participant and 2 cases.', { exact: false })
      .waitFor();

    const mail = await waitForMail(server, participantEmail, /Haven/);
    expect(mail.text).toContain('You have been invited to Haven as: Participant.');
    expect(mail.text).toContain('Robin Reyes has invited you to Haven.');
    const page = await openInvitation(participantEmail, /Haven/, 'Participant');
    expect(await page.getByLabel('Your name').inputValue()).toBe('Pat Participant');
    await page.getByLabel('Choose a password').fill('meadow lantern cobalt finch 29');
    await page.getByRole('button', { name: 'Accept invitation' }).click();

    // No MFA for a participant: straight home, with the study and where the next case is.
    await expectWelcomeHome(page, 'Pat Participant', 'Participant');
    const next = page.getByRole('region', { name: 'Next case' });
    await next.getByText(`${studyTitle}: 0 of 2 cases reviewed.`).waitFor();
    const start = next.getByRole('link', { name: 'Start reviewing' });
    expect(await start.getAttribute('href')).toBe(`/reviews/${studyId}`);
    expect(await page.getByRole('region', { name: 'Your studies' }).count()).toBe(0);
    expect(await panel(page, 'quick-actions').count()).toBe(0);
    await expectHomeReadable(page, 'home of a new participant');

    await start.click();
    await expectPath(page, `/reviews/${studyId}`);
    await page.getByRole('heading', { level: 1, name: studyTitle }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Case 1 of 2' }).waitFor();
    const theCase = page.getByRole('region', { name: 'The case' });
    await theCase.getByText('Heart rate').waitFor();
    await page.getByRole('radiogroup', { name: /Most likely diagnosis\?/ }).waitFor();
    expect(await page.locator('main').textContent()).not.toMatch(UUID);
    await expectAccessibleAtBothWidths(page, 'first case of a new participant');
  });
});
