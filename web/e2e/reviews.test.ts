// Research case reviews in Chromium against the real server (embedded DB), issue 10 item 10:
// a researcher builds and starts a study through the SPA, a participant reviews their cases,
// and the dashboard counts them. Every page visited is checked for CSP violations and page
// errors (suite.ts) and for its accessibility structure (expectAccessible).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createOrganization } from '../../server/test/actors.js';
import { expectAccessible } from './accessibility.js';
import { useBrowserSuite } from './suite.js';
import { seedUser, type SeededUser } from './haven-server.js';

const PASSWORD = 'reviews are read with care';

const suite = useBrowserSuite();
const { open, goto } = suite;

async function signIn(page: Page, user: SeededUser): Promise<void> {
  await suite.signIn(page, user.email, user.password, user.totp);
}

async function expectFitsNarrowScreen(page: Page, paths: string[]): Promise<void> {
  await page.setViewportSize({ width: 320, height: 640 });
  for (const path of paths) {
    await goto(page, path);
    await page.locator('h1').first().waitFor();
    await expectAccessible(page, `${path} at 320 px`);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
}

const GOOD_CASES = {
  cases: [
    {
      externalId: 'CASE-A',
      aiScore: 0.72,
      aiExplanation: 'High lactate and low blood pressure.',
      tree: [
        {
          key: 'vitals',
          label: 'Vital signs',
          children: [
            { key: 'heart_rate', label: 'Heart rate', value: 118, unit: 'bpm' },
            { key: 'systolic', label: 'Systolic pressure', value: 92, unit: 'mmHg' },
          ],
        },
        {
          key: 'labs',
          label: 'Laboratory',
          children: [{ key: 'lactate', label: 'Lactate', value: 3.9, unit: 'mmol/L' }],
        },
      ],
    },
    {
      externalId: 'CASE-B',
      aiScore: 0.18,
      aiExplanation: 'Normal vital signs.',
      tree: [
        {
          key: 'vitals',
          label: 'Vital signs',
          children: [
            { key: 'heart_rate', label: 'Heart rate', value: 76, unit: 'bpm' },
            { key: 'systolic', label: 'Systolic pressure', value: 128, unit: 'mmHg' },
          ],
        },
        {
          key: 'labs',
          label: 'Laboratory',
          children: [{ key: 'lactate', label: 'Lactate', value: 1.1, unit: 'mmol/L' }],
        },
      ],
    },
  ],
};

/** A case whose history carries an email address: refused with its path, nothing imported. */
const IDENTIFYING_CASES = {
  cases: [
    {
      externalId: 'BAD-1',
      tree: [
        {
          key: 'history',
          label: 'History',
          children: [
            { key: 'note', label: 'Referral note', value: 'Sent by jane.doe@example.org today' },
          ],
        },
      ],
    },
  ],
};

function jsonFile(name: string, content: unknown) {
  return { name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(content)) };
}

function csvFile(name: string, lines: string[]) {
  return { name, mimeType: 'text/csv', buffer: Buffer.from(`${lines.join('\r\n')}\r\n`) };
}

const CASE_CSV_HEADER = 'case_id,path,label,value,unit,ai_score,ai_explanation';

/** Two chest-pain cases in the CSV case format, one row per feature value. */
const GOOD_CASE_CSV = [
  CASE_CSV_HEADER,
  'CP-1,vitals/heart_rate,Heart rate,104,bpm,0.64,Raised troponin and tachycardia',
  'CP-1,labs/troponin,Troponin,0.09,ng/mL,,',
  'CP-2,vitals/heart_rate,Heart rate,72,bpm,0.12,Normal findings',
  'CP-2,labs/troponin,Troponin,0.01,ng/mL,,',
];

/** The same file with an AI score out of range on its third line: nothing is imported. */
const BAD_CASE_CSV = [
  CASE_CSV_HEADER,
  'CP-1,vitals/heart_rate,Heart rate,104,bpm,0.64,Raised troponin and tachycardia',
  'CP-2,vitals/heart_rate,Heart rate,72,bpm,1.7,Normal findings',
];

/** Seeds a researcher of a fresh organization and two participants with accounts. */
async function seedTeam(tag: string) {
  const s = suite.server();
  const researcher = await seedUser(s, {
    email: suite.uniqueEmail(`researcher-${tag}`),
    password: PASSWORD,
    roles: ['researcher'],
    displayName: `Dr. Robin ${tag}`,
    withTotp: true,
  });
  const participants = await Promise.all(
    ['Ada Reviewer', 'Ben Reviewer'].map((displayName) =>
      seedUser(s, {
        email: suite.uniqueEmail(`${displayName.split(' ')[0]?.toLowerCase()}-${tag}`),
        password: PASSWORD,
        roles: ['participant'],
        displayName,
      }),
    ),
  );
  await createOrganization(s.app.database.db, {
    name: `Research Unit ${tag} ${Date.now()}`,
    members: [{ userId: researcher.id, role: 'researcher' }],
  });
  return { researcher, participants };
}

/** Signs the researcher in and creates a study through the SPA; answers the study's path. */
async function createStudy(page: Page, researcher: SeededUser, title: string): Promise<string> {
  await signIn(page, researcher);
  await goto(page, '/studies');
  await page.getByRole('heading', { level: 1, name: 'Studies' }).waitFor();
  await page.getByLabel('Title').fill(title);
  await page.getByRole('button', { name: 'Create study' }).click();
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  await suite.expectPath(page, /^\/studies\/[0-9a-f-]{36}$/);
  return new URL(page.url()).pathname;
}

/** Clicks a download link and answers the downloaded file's lines (the header included). */
async function downloadLines(page: Page, link: ReturnType<Page['getByRole']>): Promise<string[]> {
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const path = await download.path();
  const text = await readFile(path, 'utf8');
  return text.split(/\r?\n/).filter((line) => line.length > 0);
}

describe('reviews SPA', () => {
  it('a researcher builds and starts a study, a participant reviews two cases, and the dashboard counts them', async () => {
    const s = suite.server();
    const { db } = s.app.database;
    const researcher = await seedUser(s, {
      email: suite.uniqueEmail('researcher'),
      password: PASSWORD,
      roles: ['researcher'],
      displayName: 'Dr. Riley Researcher',
      withTotp: true,
    });
    const participant = await seedUser(s, {
      email: suite.uniqueEmail('participant'),
      password: PASSWORD,
      roles: ['participant'],
      displayName: 'Dr. Pat Participant',
    });
    await createOrganization(db, {
      name: `Research Clinic ${Date.now()}`,
      members: [{ userId: researcher.id, role: 'researcher' }],
    });

    // --- The researcher: a study, its cases, questionnaire, experiment, team and assignments.
    const r = await open('/');
    const page = r.page;
    await signIn(page, researcher);
    await page.getByRole('heading', { name: 'Your studies' }).waitFor();
    await page.getByRole('link', { name: 'Studies', exact: true }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Studies' }).waitFor();
    await page.getByText('You are not on the team of any study yet.').waitFor();
    await expectAccessible(page, 'studies');
    await page.getByLabel('Title').fill('Sepsis triage with and without AI');
    await page.getByLabel('Description').fill('Do clinicians admit more often when shown a score?');
    await page.getByRole('button', { name: 'Create study' }).click();
    await page
      .getByRole('heading', { level: 1, name: 'Sepsis triage with and without AI' })
      .waitFor();
    await suite.expectPath(page, /^\/studies\/[0-9a-f-]{36}$/);
    const studyPath = new URL(page.url()).pathname;
    await expectAccessible(page, 'study overview');

    // Cases: a file with an email address is refused with a readable path; a good one imports.
    const sections = page.getByRole('navigation', { name: 'Study sections' });
    await sections.getByRole('link', { name: 'Cases' }).click();
    await page.getByRole('heading', { name: 'Import cases' }).waitFor();
    const caseFile = page.getByLabel('Case file (JSON or CSV)');
    await caseFile.setInputFiles(jsonFile('identifying.json', IDENTIFYING_CASES));
    await page.getByRole('button', { name: 'Import cases' }).click();
    const report = page.getByRole('list', { name: 'Problems in the file' });
    await report.getByText(/^Case 1 \(BAD-1\), History › Referral note: .*de-identified/).waitFor();
    await expectAccessible(page, 'cases with an error report');
    await caseFile.setInputFiles(jsonFile('cases.json', GOOD_CASES));
    await page.getByRole('button', { name: 'Import cases' }).click();
    await page.getByText('2 cases were imported.').waitFor();
    const cases = page.getByRole('table').filter({ hasText: 'CASE-A' });
    await cases.getByRole('rowheader', { name: 'CASE-B' }).waitFor();
    await page.getByRole('button', { name: 'View case CASE-A' }).click();
    await page.getByRole('heading', { name: 'Case CASE-A' }).waitFor();
    await page.getByText('AI risk score 72%: High lactate and low blood pressure.').waitFor();
    await expectAccessible(page, 'cases');

    // Questionnaire: one required single-choice question and an optional paragraph, published.
    await sections.getByRole('link', { name: 'Questionnaire' }).click();
    await page.getByRole('button', { name: 'Create the questionnaire' }).click();
    await page.getByRole('heading', { name: 'Draft version 1' }).waitFor();
    const questions = page.getByRole('list', { name: 'Questions' });
    await questions.getByLabel('Question', { exact: true }).fill('Would you admit this patient?');
    // Renaming an option moves its stored value along (exports say what the participant saw).
    const first = questions.getByRole('listitem').nth(0);
    await first.getByLabel('Option 2 label').fill('Not yet');
    expect(await first.getByLabel('Option 2 stored value').inputValue()).toBe('not_yet');
    await first.getByLabel('Option 2 label').fill('No');
    expect(await first.getByLabel('Option 2 stored value').inputValue()).toBe('no');
    await page.getByRole('button', { name: 'Add a question' }).click();
    const second = questions.getByRole('listitem').nth(1);
    await second.getByLabel('Question', { exact: true }).fill('Why?');
    await second.getByLabel('Type').selectOption('paragraph');
    await second.getByLabel('An answer is required').uncheck();
    const preview = page.getByLabel('Preview');
    await preview.getByRole('radiogroup', { name: /Would you admit this patient\?/ }).waitFor();
    await preview.getByLabel('Why?').waitFor();
    // A scale from 1 to 5 with labelled ends, and an attention check with every 2nd case.
    await page.getByRole('button', { name: 'Add a question' }).click();
    const third = questions.getByRole('listitem').nth(2);
    await third.getByLabel('Question', { exact: true }).fill('How confident are you?');
    await third.getByLabel('Type').selectOption('scale');
    await third.getByLabel('Label of the lowest value').fill('Not at all');
    await third.getByLabel('Label of the highest value').fill('Very confident');
    await preview.getByRole('radio', { name: '5 (Very confident)' }).waitFor();
    await page.getByLabel('Ask an attention check').check();
    await page.getByLabel('Ask it with every Nth case').fill('2');
    await preview.getByRole('radio', { name: 'Blue' }).waitFor();
    await expectAccessible(page, 'questionnaire builder');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.getByText('Published versions cannot be changed').waitFor();
    await page.getByRole('button', { name: 'Yes, publish' }).click();
    await page.getByRole('heading', { name: /^Version 1: / }).waitFor();
    await page.getByRole('button', { name: 'Start a new version' }).waitFor();

    // Experiment: arm 2 shows the AI score and highlights and pins the heart rate.
    await sections.getByRole('link', { name: 'Experiments' }).click();
    await page.getByLabel('Experiment name').fill('AI score shown or not');
    await page.getByRole('button', { name: 'Add a feature setting to arm 2' }).click();
    await page.getByLabel('Feature path, arm 2, row 1').fill('vitals/heart_rate');
    await page.getByLabel('Highlighted, arm 2, row 1').check();
    await page.getByLabel('Pin order, arm 2, row 1').fill('1');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page
      .getByText(/The experiment “AI score shown or not” was created with 2 arms\./)
      .waitFor();
    await page.getByText('vitals/heart_rate: highlighted, pinned #1').waitFor();
    await expectAccessible(page, 'experiments');

    // Team: the participant's existing account is invited under the name typed here (A11: the
    // team never learns whether the address had an account); it takes part once it accepts.
    await sections.getByRole('link', { name: 'Overview' }).click();
    await page.getByLabel('Participant email').fill(participant.email);
    await page.getByLabel('Participant name').fill('Pat from Ward 4');
    await page.getByRole('button', { name: 'Add participant' }).click();
    await page.getByText(`An invitation was sent to ${participant.email}.`).waitFor();
    await page.getByRole('rowheader', { name: 'Pat from Ward 4' }).waitFor();
    // Not the account's own name, which the team learns only once Pat accepts.
    expect(await page.getByText('Dr. Pat Participant').count()).toBe(0);

    // Assignments: a sheet naming a stranger is refused by line; the randomizer assigns both.
    await sections.getByRole('link', { name: 'Assignments' }).click();
    await page.getByLabel('Assignment sheet (CSV)').setInputFiles({
      name: 'sheet.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'participant_email,case_id,path,collapse,highlight,top\nstranger@example.test,CASE-A,,,,\n',
      ),
    });
    await page.getByRole('button', { name: 'Upload assignments' }).click();
    await page
      .getByRole('list', { name: 'Problems in the file' })
      .getByText(/^Line 2\b/)
      .waitFor();
    await page.getByLabel('Experiment').selectOption({ label: 'AI score shown or not (2 arms)' });
    await page.getByLabel('Cases per participant').fill('2');
    await page.getByLabel('Seed').fill('e2e-seed-42');
    await page.getByRole('button', { name: 'Randomize assignments' }).click();
    await page.getByText(/2 assignments were made\. Seed: e2e-seed-42/).waitFor();
    const assignments = page.getByRole('table').filter({ hasText: 'Pat from Ward 4' });
    await expect.poll(() => assignments.getByRole('row').count()).toBe(3);
    await expectAccessible(page, 'assignments');

    // Activate, after the confirmation.
    await sections.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('button', { name: 'Activate study' }).click();
    await page.getByRole('button', { name: 'Yes, activate' }).click();
    await page.getByText('The study is active: participants can review their cases.').waitFor();

    // --- The participant: home card, two cases, the thank-you state.
    const p = await open('/');
    const review = p.page;
    /** Timing events the review screen sends, as "type" per assignment. */
    const timingEvents: string[] = [];
    review.on('request', (request) => {
      const match = /\/api\/reviews\/assignments\/([0-9a-f-]{36})\/events$/.exec(request.url());
      if (match && request.method() === 'POST') {
        const body = JSON.parse(request.postData() ?? '{}') as { type?: string };
        timingEvents.push(`${match[1]} ${body.type}`);
      }
    });
    await signIn(review, participant);
    const invitations = review.getByTestId('home-study-invitations');
    await invitations.getByText(/invites you to take part in the study “Sepsis triage/).waitFor();
    await expectAccessible(review, 'home with an invitation to take part');
    await invitations
      .getByRole('button', {
        name: /^Accept the invitation from Sepsis triage with and without AI/,
      })
      .click();
    await invitations
      .getByText('You now take part in “Sepsis triage with and without AI”.')
      .waitFor();
    const next = review.getByRole('region', { name: 'Next case' });
    await next.getByText('Sepsis triage with and without AI: 0 of 2 cases reviewed.').waitFor();
    await expectAccessible(review, 'participant home');
    await next.getByRole('link', { name: 'Start reviewing' }).click();
    let sawAiBadge = false;
    let sawHighlight = false;
    for (const position of [1, 2]) {
      await review.getByRole('heading', { level: 2, name: `Case ${position} of 2` }).waitFor();
      const theCase = review.getByRole('region', { name: 'The case' });
      // The tree is made of native disclosures: a section can be closed and opened again.
      const vitals = theCase.locator('summary').filter({ hasText: 'Vital signs' });
      await vitals.click();
      expect(await theCase.getByText('Heart rate').isVisible()).toBe(false);
      await vitals.press('Enter');
      await theCase.getByText('Heart rate').waitFor();
      if ((await theCase.getByRole('note', { name: 'AI risk score' }).count()) > 0) {
        sawAiBadge = true;
        await theCase.getByText(/AI risk score: (72|18)%/).waitFor();
        // The arm that shows the score also highlights and pins the heart rate, in words.
        await theCase.getByText('Highlighted').waitFor();
        await theCase.getByText('Pinned').waitFor();
        sawHighlight = true;
      }
      await expectAccessible(review, `case ${position}`);
      const form = review.getByRole('region', { name: 'Case review' });
      if (position === 1) {
        // The team publishes version 2 while the participant reads: the answer to version 1
        // is refused (409) and the case comes back with the new questions and a message.
        await sections.getByRole('link', { name: 'Questionnaire' }).click();
        await page.getByRole('button', { name: 'Start a new version' }).click();
        await page.getByRole('heading', { name: 'Draft version 2' }).waitFor();
        await page.getByRole('button', { name: 'Publish' }).click();
        await page.getByRole('button', { name: 'Yes, publish' }).click();
        await page.getByRole('heading', { name: /^Version 2: / }).waitFor();
        await form.getByRole('radio', { name: 'Yes', exact: true }).check();
        await form.getByRole('radio', { name: '4', exact: true }).check();
        await form.getByRole('button', { name: /next case/ }).click();
        await review.getByText('The questionnaire was updated by the research team.').waitFor();
        await review.getByRole('heading', { level: 2, name: 'Case 1 of 2' }).waitFor();
        expect(await form.getByRole('radio', { name: 'Yes', exact: true }).isChecked()).toBe(false);
      }
      await form.getByRole('radio', { name: position === 1 ? 'Yes' : 'No', exact: true }).check();
      await form.getByLabel('Why?').fill(`Reasoning for case ${position}.`);
      await form.getByRole('radio', { name: '4', exact: true }).check();
      // The attention check comes with the 2nd case, shown like any other question.
      const attention = form.getByRole('radiogroup', { name: /choose "Blue"/ });
      expect(await attention.count()).toBe(position === 2 ? 1 : 0);
      if (position === 2) await attention.getByRole('radio', { name: 'Blue' }).check();
      if (position === 1) {
        await form.getByRole('button', { name: /next case/ }).click();
      } else {
        // Keyboard: Enter on a chosen answer submits the form.
        await form.getByRole('button', { name: 'Submit and finish' }).waitFor();
        await form.getByRole('radio', { name: 'No', exact: true }).press('Enter');
      }
    }
    expect(sawAiBadge).toBe(true);
    // Each case sent case_opened when shown and form_opened on the first touch of the form,
    // once each (case 1 was shown twice: before and after the questionnaire changed).
    const assignmentIds = new Set(timingEvents.map((event) => event.split(' ')[0]));
    expect(assignmentIds.size).toBe(2);
    for (const id of assignmentIds) {
      expect(timingEvents.filter((e) => e === `${id} case_opened`)).toHaveLength(1);
      expect(timingEvents.filter((e) => e === `${id} form_opened`)).toHaveLength(1);
    }
    expect(sawHighlight).toBe(true);
    await review.getByRole('heading', { name: 'Thank you' }).waitFor();
    await review
      .getByRole('heading', { level: 1, name: 'Sepsis triage with and without AI' })
      .waitFor();
    await review.getByText('All 2 cases reviewed. There is nothing left').waitFor();
    await expectAccessible(review, 'done');
    await goto(review, '/reviews');
    await review.getByText('All 2 cases reviewed', { exact: true }).waitFor();
    await expectAccessible(review, 'my studies');

    // --- The researcher's dashboard counts the answers.
    await goto(page, `${studyPath}?tab=dashboard`);
    const perParticipant = page.getByRole('region', { name: 'Progress per participant' });
    const row = perParticipant.getByRole('row').filter({ hasText: 'Dr. Pat Participant' });
    await expect.poll(() => row.textContent()).toContain('100%');
    expect(await row.getByRole('cell').nth(0).textContent()).toBe('2');
    expect(await row.getByRole('cell').nth(1).textContent()).toBe('2');
    await page
      .getByRole('region', { name: 'Attention checks' })
      .getByText('passed: 1 of 1 checks were answered as expected.')
      .waitFor();
    // The review screen sent case_opened and form_opened: every stage of both reviews is timed.
    const timing = page.getByRole('region', { name: 'Time per case' });
    for (const stage of ['Reading the case', 'Answering', 'Whole review']) {
      const stageRow = timing.getByRole('row').filter({ hasText: stage });
      expect(await stageRow.getByRole('cell').first().textContent(), stage).toBe('2');
    }
    await page.getByRole('region', { name: 'Agreement between reviewers' }).waitFor();
    await expectAccessible(page, 'dashboard');
    await goto(page, `${studyPath}?tab=exports`);
    await page.getByRole('link', { name: 'Answers as CSV' }).waitFor();
    await expectAccessible(page, 'exports');

    // At 320 px nothing scrolls sideways (tables scroll inside their own frame).
    await expectFitsNarrowScreen(page, [
      '/studies',
      studyPath,
      `${studyPath}?tab=cases`,
      `${studyPath}?tab=questionnaire`,
      `${studyPath}?tab=experiments`,
      `${studyPath}?tab=assignments`,
      `${studyPath}?tab=dashboard`,
    ]);
    await expectFitsNarrowScreen(review, ['/reviews']);
  });
  it('a researcher imports cases from CSV, edits the study, adds an arm, filters assignments by participant and exports only what changed', async () => {
    const { researcher, participants } = await seedTeam('csv');
    const [ada, ben] = participants;
    if (!ada || !ben) throw new Error('two participants were seeded');
    const { page } = await open('/');
    const studyPath = await createStudy(page, researcher, 'Chest pain (working title)');
    const sections = page.getByRole('navigation', { name: 'Study sections' });

    // Title and description: an empty title is refused in the browser, then both are saved.
    await page.getByRole('button', { name: 'Edit title and description' }).click();
    const title = page.getByLabel('Study title');
    await expect.poll(() => title.evaluate((el) => el === document.activeElement)).toBe(true);
    await title.fill('   ');
    await page.getByRole('button', { name: 'Save title and description' }).click();
    await page.getByText('Give the study a title.').waitFor();
    expect(await title.getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'study title refused');
    await title.fill('Chest pain triage with a risk score');
    await page.getByLabel('Study description').fill('Do reviewers order more tests with a score?');
    await page.getByRole('button', { name: 'Save title and description' }).click();
    await page.getByText('The title and the description were saved.').waitFor();
    await page
      .getByRole('heading', { level: 1, name: 'Chest pain triage with a risk score' })
      .waitFor();
    await page.getByText('Do reviewers order more tests with a score?').waitFor();
    await expectAccessible(page, 'study title saved');

    // Cases from CSV: a bad line is named by its number and nothing is saved; the good file
    // imports both cases (a CSV import goes through the session's CSRF token and refresh).
    await sections.getByRole('link', { name: 'Cases' }).click();
    const caseFile = page.getByLabel('Case file (JSON or CSV)');
    await caseFile.setInputFiles(csvFile('bad-cases.csv', BAD_CASE_CSV));
    await page.getByRole('button', { name: 'Import cases' }).click();
    await page
      .getByRole('list', { name: 'Problems in the file' })
      .getByText(/^Line 3 \(ai_score\): Must be a number from 0 to 1/)
      .waitFor();
    await page.getByText('Nothing was saved: one problem was found').waitFor();
    await page.getByText('No cases yet. Import a file above.').waitFor();
    await expectAccessible(page, 'case CSV refused');
    await caseFile.setInputFiles(csvFile('cases.csv', GOOD_CASE_CSV));
    await page.getByRole('button', { name: 'Import cases' }).click();
    await page.getByText('2 cases were imported.').waitFor();
    await page.getByRole('rowheader', { name: 'CP-2' }).waitFor();
    await page.getByRole('button', { name: 'View case CP-1' }).click();
    await page.getByText('AI risk score 64%: Raised troponin and tachycardia').waitFor();
    await expectAccessible(page, 'cases from CSV');

    // An experiment, then a third arm added to it on its card.
    await sections.getByRole('link', { name: 'Experiments' }).click();
    await page.getByLabel('Experiment name').fill('Risk score display');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.getByText(/The experiment “Risk score display” was created with 2 arms\./).waitFor();
    await page.getByRole('button', { name: 'Add an arm to Risk score display' }).click();
    const newArm = page.getByRole('form', { name: 'New arm of Risk score display' });
    const armName = newArm.getByLabel('New arm name');
    await expect.poll(() => armName.evaluate((el) => el === document.activeElement)).toBe(true);
    // The name of an existing arm is refused before anything is sent.
    await armName.fill('with ai score');
    await newArm.getByRole('button', { name: 'Add the arm' }).click();
    await newArm
      .getByText('Risk score display already has an arm with that name.')
      .first()
      .waitFor();
    await expectAccessible(page, 'new arm refused');
    await armName.fill('Score with highlighted troponin');
    await newArm.getByLabel('Show the AI risk score in the new arm').check();
    await newArm.getByRole('button', { name: 'Add a feature setting to the new arm' }).click();
    await newArm.getByLabel('Feature path, new arm, row 1').fill('labs/troponin');
    await newArm.getByLabel('Highlighted, new arm, row 1').check();
    await expectAccessible(page, 'new arm form');
    await newArm.getByRole('button', { name: 'Add the arm' }).click();
    await page
      .getByText('The arm “Score with highlighted troponin” was added to Risk score display.')
      .waitFor();
    const arms = page.getByRole('table', { name: 'Arms of Risk score display' });
    await arms.getByRole('rowheader', { name: 'Score with highlighted troponin' }).waitFor();
    await arms.getByText('labs/troponin: highlighted').waitFor();
    expect(await arms.getByRole('row').count()).toBe(4);
    await expectAccessible(page, 'arm added');

    // Two participants, each given both cases by the randomizer across the three arms.
    await sections.getByRole('link', { name: 'Overview' }).click();
    for (const participant of [ada, ben]) {
      await page.getByLabel('Participant email').fill(participant.email);
      // Invited (A11): the team sees the name typed here until they accept.
      await page
        .getByLabel('Participant name')
        .fill(participant === ada ? 'Ada Reviewer' : 'Ben Reviewer');
      await page.getByRole('button', { name: 'Add participant' }).click();
      await page
        .getByRole('rowheader', { name: participant === ada ? 'Ada Reviewer' : 'Ben Reviewer' })
        .waitFor();
    }
    await sections.getByRole('link', { name: 'Assignments' }).click();
    await page.getByLabel('Experiment').selectOption({ label: 'Risk score display (3 arms)' });
    await page.getByLabel('Cases per participant').fill('2');
    await page.getByRole('button', { name: 'Randomize assignments' }).click();
    await page.getByText(/4 assignments were made\./).waitFor();
    const table = page.getByRole('table', { name: /^Assignments/ });
    await expect.poll(() => table.getByRole('row').count()).toBe(5);

    // The participant filter: chosen by name and email, never typed as an id (Ben has not
    // accepted his invitation yet, which the choice says).
    const picker = page.getByLabel('Participant', { exact: true });
    await picker.selectOption({ label: `Ben Reviewer (${ben.email}), invited` });
    await page
      .getByRole('search', { name: 'Assignments by participant' })
      .getByRole('button', { name: 'Search' })
      .click();
    await page.getByText(`Showing the cases of Ben Reviewer (${ben.email}).`).waitFor();
    await expect.poll(() => table.getByRole('row').count()).toBe(3);
    expect(await table.getByRole('rowheader', { name: 'Ada Reviewer' }).count()).toBe(0);
    expect(await table.getByRole('rowheader', { name: 'Ben Reviewer' }).count()).toBe(2);
    await expectAccessible(page, 'assignments of one participant');
    await picker.selectOption({ label: 'Every participant' });
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('Showing the cases of every participant.').waitFor();
    await expect.poll(() => table.getByRole('row').count()).toBe(5);

    // Exports: everything, then only what changed since a time (entered in local time, sent
    // to the API as a UTC instant).
    await goto(page, `${studyPath}?tab=exports`);
    await page.getByRole('heading', { level: 2, name: 'Exports' }).waitFor();
    const everything = await downloadLines(
      page,
      page.getByRole('link', { name: 'Assignments as CSV' }),
    );
    expect(everything).toHaveLength(5);
    await page.getByRole('button', { name: 'Apply to the downloads' }).click();
    await page.getByText('Choose a date and time, or download everything').waitFor();
    await expectAccessible(page, 'exports without a time');
    await page.getByLabel('Changed since').fill('2099-01-01T00:00');
    await page.getByRole('button', { name: 'Apply to the downloads' }).click();
    await page.getByText(/^The downloads below hold only rows changed at or after /).waitFor();
    const later = page.getByRole('link', { name: 'Assignments as CSV (changes only)' });
    const href = new URL((await later.getAttribute('href')) ?? '', suite.server().baseUrl);
    expect(href.searchParams.get('since')).toMatch(
      /^(2098-12-31|2099-01-01)T\d{2}:\d{2}:00\.000Z$/,
    );
    expect(await downloadLines(page, later)).toEqual([everything[0]]);
    await expectAccessible(page, 'exports since a time');
    await page.getByLabel('Changed since').fill('2000-01-01T00:00');
    await page.getByRole('button', { name: 'Apply to the downloads' }).click();
    await page
      .getByText(/at or after .*2000/)
      .first()
      .waitFor();
    expect(await downloadLines(page, later)).toHaveLength(5);
    await page.getByRole('button', { name: 'Download everything again' }).click();
    await page.getByText('The downloads below hold every row.').waitFor();
    await page.getByRole('link', { name: 'Assignments as CSV', exact: true }).waitFor();
    await expectFitsNarrowScreen(page, [`${studyPath}?tab=exports`, studyPath]);
  });

  it('A4/A8: a CSV upload answered 401 (the access token ran out) refreshes the session once and is sent again with the CSRF token', async () => {
    const { researcher } = await seedTeam('refresh');
    const { page } = await open('/');
    await createStudy(page, researcher, 'Uploads survive an expired access token');
    await page
      .getByRole('navigation', { name: 'Study sections' })
      .getByRole('link', { name: 'Cases' })
      .click();
    const uploads: Array<{ csrf: string | undefined }> = [];
    let refreshes = 0;
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/api/auth/refresh')) {
        refreshes += 1;
      }
    });
    // The first upload meets an access token that expired on its way: the server's 401.
    await page.route('**/cases/import', async (route) => {
      uploads.push({ csrf: route.request().headers()['x-csrf-token'] });
      if (uploads.length === 1) {
        await route.fulfill({
          status: 401,
          contentType: 'application/problem+json',
          body: JSON.stringify({
            type: 'about:blank',
            title: 'Unauthorized',
            status: 401,
            code: 'UNAUTHENTICATED',
            detail: 'The access token has expired.',
          }),
        });
        return;
      }
      await route.continue();
    });
    await page
      .getByLabel('Case file (JSON or CSV)')
      .setInputFiles(csvFile('cases.csv', GOOD_CASE_CSV));
    await page.getByRole('button', { name: 'Import cases' }).click();
    await page.getByText('2 cases were imported.').waitFor();
    expect(uploads).toHaveLength(2);
    expect(refreshes).toBe(1);
    for (const upload of uploads) expect(upload.csrf).toMatch(/.{16,}/);
    // The token is bound to the session, which the refresh kept: both carried the same one.
    expect(uploads[1]?.csrf).toBe(uploads[0]?.csrf);
    await expectAccessible(page, 'cases after a refreshed upload');
  });
});
