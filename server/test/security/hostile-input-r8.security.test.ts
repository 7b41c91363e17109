// Hostile input an outside tester tried (probe 'inject', round 8), where it got through:
// - V3, CSV injection through a separator: a cell was quoted only for a comma, a quote or a line
//   break, so `x;=1+1` or `x<TAB>@SUM(…)` left the server bare, and a spreadsheet splitting on
//   semicolons or tabs (the list separator of many European locales, an import dialog's ticked
//   boxes) read a second cell starting with the formula, which neutralizeCell never saw.
// - V1, impersonation on screen: display names set through setup, invitations (admin,
//   organization, study), accepting one, sign-up and the profile, organization names and OAuth
//   app names skipped platform/text.ts, so a bidirectional override, a zero-width space or a name
//   of one Hangul filler reached other people's screens (a note's author line, the audit log's
//   person filter, the consent page) and could make one person or app pass for another.
// - F3, a file name with a soft hyphen or a zero-width space inside "exe" read as "x.exe.pdf" yet
//   passed the hidden-executable check, and "report<ZWSP>.pdf" looked like another "report.pdf".
// - V1, a JSON body labelled with another charset (UTF-16, Latin-1) was read as UTF-8 all the
//   same: a proxy or firewall honouring the label reads another request than Haven acts on.
// - F1/V1, an owned bucket's endpoint host may hold `;`: modules/files/buckets/validation.security.test.ts.
import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { checkFileName, FileNameError } from '../../src/platform/file-checks/names.js';
import { listDevMailbox } from '../../src/platform/mail.js';
import { describeClinic, type Actor } from '../clinical-actors.js';
import {
  addParticipant,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  type StudyWorld,
} from '../review-actors.js';

/** Semicolons and tabs before formula characters, in a name, an answer and an arm name. */
const SEMICOLON_NAME = 'Dr Semi;=1+1';
const TAB_ANSWER = 'fine\t@SUM(1+1);-2+3';
const SEMICOLON_ARM = 'Arm;+1+1';

/**
 * The cells a spreadsheet sees when it splits on commas, semicolons and tabs alike (LibreOffice
 * with those boxes ticked; Excel in a locale whose list separator is `;`, for a field that
 * starts at such a separator): quoted fields are one cell, everything else splits.
 */
function spreadsheetCells(csvText: string): string[] {
  const rows: string[][] = parse(csvText, {
    delimiter: [',', ';', '\t'],
    relax_quotes: true,
    relax_column_count: true,
  });
  return rows.flat();
}

/** Cells a spreadsheet would evaluate: starting with = + - @ (numbers aside). */
const liveFormulas = (cells: readonly string[]) =>
  cells.filter((cell) => /^[=+\-@]/.test(cell) && !/^-?\d+(\.\d+)?$/.test(cell));

/** Text a person reads as something else: overrides, isolates, marks, zero-width, fillers. */
const DECEPTIVE = [
  'Dr Smith\u202E', // right-to-left override: reverses what follows it on the line
  'Mallory\u2067x', // right-to-left isolate
  'Dr\u200BSmith', // zero-width space: reads as "DrSmith", compares as another name
  'Dr\u00ADSmith', // soft hyphen, invisible mid-word
  '\u3164', // a Hangul filler alone: a name that shows as blank
  'Ada\u2060Lovelace', // word joiner
  'Eve\u{E0041}\u{E0064}', // tag characters: invisible text riding along
  'Al\uFEFFice', // a zero-width no-break space (byte order mark) mid-word
];

describeClinic('hostile input (probe inject, round 8)', (clinic) => {
  let world: StudyWorld;
  let admin: Actor;
  let orgAdmin: Actor;
  let organizationId: string;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
    orgAdmin = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({ members: [[orgAdmin, 'org_admin']] });
    world = await createStudyWorld(clinic.app);
    const versionId = await insertPublishedQuestionnaire(clinic.db, world.studyId);
    const participant = await addParticipant(clinic.app, world.studyId, SEMICOLON_NAME);
    const experiment = await sql<{ id: string }>`
      insert into experiments (study_id, name) values (${world.studyId}, 'Separators')
      returning id`.execute(clinic.db);
    const arm = await sql<{ id: string }>`
      insert into experiment_arms (experiment_id, study_id, name, display)
      values (${experiment.rows[0]!.id}, ${world.studyId}, ${SEMICOLON_ARM}, '{}'::jsonb)
      returning id`.execute(clinic.db);
    const caseId = await insertCase(clinic.db, world.studyId, 'case;=2+2');
    const assignmentId = await insertAssignment(
      clinic.db,
      world.studyId,
      participant.userId,
      caseId,
      { armId: arm.rows[0]!.id },
    );
    const answered = await clinic.call(
      participant,
      'POST',
      `/api/reviews/assignments/${assignmentId}/answer`,
      {
        questionnaireVersionId: versionId,
        answers: { diagnosis: 'pneumonia', confidence: 2, comment: TAB_ANSWER },
      },
    );
    expect(answered.statusCode, answered.body).toBe(201);
  });

  it('V3/CSV injection through a separator: a ; or a tab inside an exported cell never starts a formula cell for a spreadsheet that splits on them (reviews exports: answers written by the database and by format.ts, participants)', async () => {
    for (const kind of ['answers', 'participants', 'assignments']) {
      const response = await clinic.call(
        world.owner,
        'GET',
        `/api/studies/${world.studyId}/exports/${kind}?format=csv`,
      );
      expect(response.statusCode, response.body).toBe(200);
      const cells = spreadsheetCells(response.body);
      expect(liveFormulas(cells), kind).toEqual([]);
    }
    // Read as RFC 4180 (commas only), the text is exactly what was written.
    const answers = await clinic.call(
      world.owner,
      'GET',
      `/api/studies/${world.studyId}/exports/answers?format=csv`,
    );
    const [row] = parse<Record<string, string>>(answers.body, { columns: true });
    expect(row).toMatchObject({
      q_comment: TAB_ANSWER,
      arm_name: SEMICOLON_ARM,
      case_external_id: 'case;=2+2',
    });
  });

  it('V3/CSV injection through a separator: the audit export quotes an actor name holding a ; (an auditor opening it splits on it)', async () => {
    const response = await clinic.call(
      admin,
      'GET',
      '/api/admin/audit-events/export.csv?action=review.',
    );
    expect(response.statusCode, response.body).toBe(200);
    expect(response.body).toContain(SEMICOLON_NAME);
    expect(liveFormulas(spreadsheetCells(response.body))).toEqual([]);
  });

  it('V1/impersonation: a display name with a direction override, a zero-width or another invisible character is refused on every way a name is set (admin, organization and study invitations, profile)', async () => {
    for (const [index, displayName] of DECEPTIVE.entries()) {
      const label = JSON.stringify(displayName);
      const byAdmin = await clinic.call(admin, 'POST', '/api/admin/invitations', {
        email: `deceptive-admin-${index}@example.org`,
        role: 'patient',
        displayName,
      });
      expect(byAdmin.statusCode, label).toBe(400);
      const byOrganization = await clinic.call(
        orgAdmin,
        'POST',
        `/api/organizations/${organizationId}/members`,
        { email: `deceptive-org-${index}@example.org`, role: 'clinician', displayName },
      );
      expect(byOrganization.statusCode, label).toBe(400);
      const byStudy = await clinic.call(
        world.owner,
        'POST',
        `/api/studies/${world.studyId}/participants`,
        { email: `deceptive-study-${index}@example.org`, displayName },
      );
      expect(byStudy.statusCode, label).toBe(400);
      const profile = await clinic.call(orgAdmin, 'PATCH', '/api/account/profile', {
        displayName,
      });
      expect(profile.statusCode, label).toBe(400);
      expect(profile.json<{ errors: Array<{ field: string }> }>().errors[0]?.field).toBe(
        'body.displayName',
      );
    }
    // Scripts that need a joiner keep it (Persian spells with ZWNJ), and emoji sequences too.
    for (const displayName of ['مهسا\u200Cزاده', 'Ada 👩\u200D💻', 'Zoë Ørsted']) {
      const profile = await clinic.call(orgAdmin, 'PATCH', '/api/account/profile', {
        displayName,
      });
      expect(profile.statusCode, displayName).toBe(200);
      expect(profile.json<{ user: { displayName: string } }>().user.displayName).toBe(
        displayName.normalize('NFC'),
      );
    }
  });

  it('V1/impersonation: accepting an invitation refuses a display name with a direction override or an invisible character, and the link still works for a plain one', async () => {
    const email = 'deceptive-accept@example.org';
    const invited = await clinic.call(admin, 'POST', '/api/admin/invitations', {
      email,
      role: 'patient',
    });
    expect(invited.statusCode, invited.body).toBe(201);
    const mail = (await listDevMailbox(clinic.harness.config.dataDir)).find((m) => m.to === email);
    const token = /#token=([A-Za-z0-9_-]+)/.exec(mail?.text ?? '')?.[1];
    expect(token).toBeDefined();
    const accept = (displayName: string) =>
      clinic.app.inject({
        method: 'POST',
        url: '/api/onboarding/invitations/accept',
        headers: { origin: clinic.harness.config.publicOrigin },
        payload: { token, displayName, password: 'quiet-harbour-lantern-4817' },
      });
    for (const displayName of ['Alice\u202Eecila', '\u200B', 'A\u0007b', 'Eve\u0085']) {
      const refused = await accept(displayName);
      expect(refused.statusCode, JSON.stringify(displayName)).toBe(400);
    }
    const accepted = await accept('  Alice Example ');
    expect(accepted.statusCode, accepted.body).toBe(200);
    const [row] = await clinic.rows('users', { email });
    expect(row?.display_name).toBe('Alice Example');
  });

  it('V1/impersonation: an organization name and an OAuth app name (shown on the consent page) refuse direction overrides and invisible characters', async () => {
    for (const [index, name] of DECEPTIVE.entries()) {
      const label = JSON.stringify(name);
      const organization = await clinic.call(admin, 'POST', '/api/admin/organizations', {
        name: `${name} Clinic ${index}`,
      });
      expect(organization.statusCode, label).toBe(400);
      const app = await clinic.call(
        orgAdmin,
        'POST',
        `/api/organizations/${organizationId}/oauth-clients`,
        {
          name: `Haven ${name}`,
          kind: 'app',
          scopes: ['portal:read'],
          redirectUris: ['https://app.example.org/callback'],
        },
      );
      expect(app.statusCode, `${label}: ${app.body}`).toBe(400);
    }
  });

  it('F3/look-alike file names: an invisible character (soft hyphen, zero-width space, word joiner) is refused, so "a.ex<SHY>e.pdf" cannot read as a program before its type', () => {
    for (const name of [
      'a.ex\u00ADe.pdf',
      'a.e\u200Bxe.pdf',
      'report\u200B.pdf',
      'scan\u2060.dcm',
    ]) {
      let problem: string | undefined;
      try {
        checkFileName(name);
      } catch (error) {
        if (error instanceof FileNameError) problem = error.problem;
      }
      expect(problem, JSON.stringify(name)).toBe('INVISIBLE_CHARACTER');
    }
    // Joiners shape visible letters and stay allowed.
    expect(checkFileName('گزارش\u200Cنهایی.pdf').type).toBe('pdf');
  });

  it('V1/charset confusion: a JSON body labelled with a charset other than UTF-8 is refused with 415, a UTF-8 label is fine', async () => {
    const patch = (contentType: string) =>
      clinic.app.inject({
        method: 'PATCH',
        url: '/api/account/profile',
        headers: { authorization: orgAdmin.authorization, 'content-type': contentType },
        payload: JSON.stringify({ displayName: 'Charset Probe' }),
      });
    for (const label of [
      'application/json; charset=utf-16',
      'application/json;charset=ISO-8859-1',
      'application/json; charset="utf-7"',
      'application/merge-patch+json; charset=latin1',
    ]) {
      const refused = await patch(label);
      expect(refused.statusCode, label).toBe(415);
      expect(refused.json<{ code: string }>().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    for (const label of [
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset="UTF-8"',
    ]) {
      expect((await patch(label)).statusCode, label).toBe(200);
    }
  });
});
