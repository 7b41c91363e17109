// Every page of the SPA, as each role sees it, at 1280 and at 320 px (issue 14, "axe-core reports
// zero violations on every page at 1280 and 320 px"): one <h1>, labelled controls, accessible
// names that hold the visible words, axe-core's WCAG 2 A/AA rules, and no sideways scrolling.
// The flows themselves are walked in the other files; this one only opens each page as a person
// would land on it, with real data behind it.
import { beforeAll, describe, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrganization, createPatientRow } from '../../server/test/actors.js';
import { expectAccessibleAtBothWidths } from './accessibility.js';
import { seedUser, type SeededUser } from './haven-server.js';
import { useBrowserSuite } from './suite.js';

const suite = useBrowserSuite();
const { open, goto, uniqueEmail } = suite;
const PASSWORD = 'every page checked at two widths';

async function seed(
  roles: Parameters<typeof seedUser>[1]['roles'],
  displayName: string,
  withTotp: boolean,
): Promise<SeededUser> {
  return seedUser(suite.server(), {
    email: uniqueEmail(displayName.toLowerCase().replace(/\W+/g, '-')),
    password: PASSWORD,
    roles,
    displayName,
    withTotp,
  });
}

/** Opens each path in turn, waits for its heading and content, and checks it at both widths. */
async function checkPages(page: Page, who: string, paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    await goto(page, path);
    await page.locator('h1').first().waitFor();
    await expectAccessibleAtBothWidths(page, `${who}: ${path}`);
  }
}

interface Seeded {
  admin: SeededUser;
  orgAdmin: SeededUser;
  patientUser: SeededUser;
  researcher: SeededUser;
  participant: SeededUser;
  patientId: string;
  grantId: string;
  studyId: string;
}

/** One clinic with a person in every role, a patient record, a live grant and a study. */
async function seedEveryRole(): Promise<Seeded> {
  const { db } = suite.server().app.database;
  const orgAdmin = await seed(['clinician'], 'Olive Orgadmin', true);
  const researcher = await seed(['researcher'], 'Rae Researcher', true);
  const organizationId = await createOrganization(db, {
    name: `Every Page Clinic ${Date.now()}`,
    members: [
      { userId: orgAdmin.id, role: 'org_admin' },
      { userId: researcher.id, role: 'researcher' },
    ],
  });
  const patientUser = await seed(['patient'], 'Pia Patient', false);
  const patientId = await createPatientRow(db, organizationId, {
    givenName: 'Pia',
    familyName: 'Patient',
    mrn: `EP-${Date.now()}`,
    birthDate: '1984-03-09',
    portalUserId: patientUser.id,
  });
  const admin = await seed(['admin'], 'Ari Admin', true);
  const grant = await db
    .insertInto('break_glass_grants')
    .values({
      admin_id: admin.id,
      patient_id: patientId,
      organization_id: organizationId,
      reason: 'Unconscious patient in the emergency department, every-page check',
      expires_at: new Date(Date.now() + 30 * 60_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const participant = await seed(['participant'], 'Parker Participant', false);
  const study = await db
    .insertInto('studies')
    .values({
      organization_id: organizationId,
      title: 'Display of risk scores',
      created_by: researcher.id,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('study_members')
    .values([
      { study_id: study.id, user_id: researcher.id, role: 'owner', added_by: researcher.id },
      { study_id: study.id, user_id: participant.id, role: 'participant', added_by: researcher.id },
    ])
    .execute();
  return {
    admin,
    orgAdmin,
    patientUser,
    researcher,
    participant,
    patientId,
    grantId: grant.id,
    studyId: study.id,
  };
}

async function signedIn(user: SeededUser): Promise<Page> {
  const opened = await open('/');
  await suite.signIn(opened.page, user.email, user.password, user.totp);
  return opened.page;
}

describe('every page, every role, two widths', () => {
  let seeded: Seeded;
  beforeAll(async () => {
    seeded = await seedEveryRole();
  });

  it('issue 14/T3: the signed-out pages pass axe at 1280 and 320 px', async () => {
    const { page } = await open('/');
    await checkPages(page, 'signed out', [
      '/',
      '/sign-in',
      '/forgot-password',
      '/reset-password',
      '/verify-email',
      '/setup',
      '/invite',
    ]);
  });

  it('issue 14/T3: the admin pages pass axe at 1280 and 320 px', async () => {
    await checkPages(await signedIn(seeded.admin), 'admin', [
      '/',
      '/account',
      '/admin/users',
      '/admin/organizations',
      '/admin/audit',
      '/admin/oauth-clients',
      '/break-glass',
      `/break-glass/${seeded.grantId}`,
    ]);
  });

  it('issue 14/T3: the organization administrator’s pages pass axe at 1280 and 320 px', async () => {
    await checkPages(await signedIn(seeded.orgAdmin), 'organization administrator', [
      '/',
      '/patients',
      `/patients/${seeded.patientId}`,
      '/organization/members',
      '/organization/consent-documents',
      '/organization/connected-systems',
      '/files',
      '/files/buckets',
      '/account',
    ]);
  });

  it('issue 14/T3: the patient, researcher and participant pages pass axe at 1280 and 320 px', async () => {
    await checkPages(await signedIn(seeded.patientUser), 'patient', [
      '/',
      '/portal',
      '/files',
      '/account',
    ]);
    await checkPages(await signedIn(seeded.researcher), 'researcher', [
      '/',
      '/studies',
      `/studies/${seeded.studyId}`,
    ]);
    await checkPages(await signedIn(seeded.participant), 'participant', [
      '/',
      '/reviews',
      `/reviews/${seeded.studyId}`,
    ]);
  });
});
