// Cases over HTTP against the real app (docs/api/reviews.md "Cases"): JSON and CSV uploads end to
// end, the list and one case; and the threats — identifiers in a de-identified case set
// (V1/de-identification), malformed or hostile uploads (V1: bad CSV, huge lines, deep or huge
// trees, NUL bytes, duplicates), a partly written upload (all or nothing), another study's
// researcher or case (Z4), and the audit of every import (L3).
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import {
  SAMPLE_TREE,
  addParticipant,
  createStudyWorld,
  insertCase,
  insertStudy,
  type StudyWorld,
} from '../../../../test/review-actors.js';
import type { CaseNode } from '../shared/schemas.js';

interface Problem {
  code: string;
  detail: string;
  errors?: Array<{ field: string; message: string }>;
}

const HEADER = 'case_id,path,label,value,unit,ai_score,ai_explanation';

describeClinic('reviews: cases', (clinic) => {
  const call = clinic.call;
  let world: StudyWorld;
  let owner: Actor;

  const caseCount = async (studyId: string) =>
    Number(
      (
        await clinic.db
          .selectFrom('review_cases')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('study_id', '=', studyId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const upload = (actor: Actor, studyId: string, cases: unknown[]) =>
    call(actor, 'POST', `/api/studies/${studyId}/cases`, { cases });
  const uploadCsv = (
    actor: Actor,
    studyId: string,
    csv: string | Buffer,
  ): Promise<LightMyRequestResponse> =>
    clinic.app.inject({
      method: 'POST',
      url: `/api/studies/${studyId}/cases/import`,
      headers: { authorization: actor.authorization, 'content-type': 'text/csv' },
      payload: csv,
    });
  const problem = (res: LightMyRequestResponse) => res.json<Problem>();

  /** A fresh draft study of the same owner, so each test counts its own cases. */
  async function freshStudy(): Promise<string> {
    return insertStudy(clinic.db, world.organizationId, owner.userId, { status: 'draft' });
  }

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app);
    owner = world.owner;
  });

  describe('uploads end to end', () => {
    it('L3: imports JSON cases in one go, answers their ids in order and audits the count', async () => {
      const studyId = await freshStudy();
      const res = await upload(owner, studyId, [
        {
          externalId: 'case-b',
          tree: SAMPLE_TREE,
          aiScore: 0.72,
          aiExplanation: 'Fever and low SpO2',
        },
        { externalId: 'case-a', tree: [{ key: 'vitals', label: 'Vitals', value: null }] },
      ]);
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json<{
        imported: number;
        cases: Array<{ id: string; externalId: string }>;
      }>();
      expect(body.imported).toBe(2);
      expect(body.cases.map((c) => c.externalId)).toEqual(['case-b', 'case-a']);
      const one = await call(owner, 'GET', `/api/studies/${studyId}/cases/${body.cases[0]?.id}`);
      expect(one.statusCode).toBe(200);
      expect(one.json()).toEqual({
        case: {
          id: body.cases[0]?.id,
          externalId: 'case-b',
          tree: SAMPLE_TREE,
          aiScore: 0.72,
          aiExplanation: 'Fever and low SpO2',
          nodeCount: 7,
          createdAt: expect.any(String),
        },
      });
      const audits = await clinic.db
        .selectFrom('audit_events')
        .select(['actor_id', 'target_id', 'details'])
        .where('action', '=', 'review.cases_imported')
        .where('target_id', '=', studyId)
        .execute();
      expect(audits).toEqual([
        {
          actor_id: owner.userId,
          target_id: studyId,
          details: { studyId, count: 2, source: 'json' },
        },
      ]);
    });

    it('lists cases a page at a time in external-id order, with their assignment counts', async () => {
      const studyId = await freshStudy();
      for (const id of ['c-03', 'c-01', 'c-05', 'c-02', 'c-04']) {
        await insertCase(clinic.db, studyId, id);
      }
      const seen: string[] = [];
      let next: string | null = null;
      let pages = 0;
      do {
        const query: string = next ? `?limit=2&after=${next}` : '?limit=2';
        const res = await call(owner, 'GET', `/api/studies/${studyId}/cases${query}`);
        expect(res.statusCode, res.body).toBe(200);
        const page = res.json<{
          cases: Array<{ externalId: string; assignments: number; nodeCount: number }>;
          next: string | null;
        }>();
        seen.push(...page.cases.map((c) => c.externalId));
        expect(page.cases.every((c) => c.assignments === 0 && c.nodeCount === 7)).toBe(true);
        next = page.next;
        pages++;
      } while (next && pages < 10);
      expect(seen).toEqual(['c-01', 'c-02', 'c-03', 'c-04', 'c-05']);
      expect(pages).toBe(3);
      const big = await call(owner, 'GET', `/api/studies/${studyId}/cases?limit=201`);
      expect(big.statusCode).toBe(400);
      const foreignCursor = await insertCase(clinic.db, world.studyId, `w-${randomUUID()}`);
      const cursor = await call(
        owner,
        'GET',
        `/api/studies/${studyId}/cases?after=${foreignCursor}`,
      );
      expect(cursor.statusCode).toBe(400);
    });

    it('imports a CSV file: tree from paths, labels from keys, typed values, BOM and CRLF', async () => {
      const studyId = await freshStudy();
      const csv =
        '\ufeff' +
        [
          HEADER,
          'p-1,vitals/heart_rate,Heart rate,112,bpm,0.8,"Tachycardia, fever"',
          'p-1,vitals/temperature,,38.9,°C,,',
          'p-1,history/smoker,Smoker,true,,,',
          'p-1,history/complaint,Presenting complaint,"Cough, three days",,,',
          'p-1,history/code,Code,007,,,',
          'p-1,vitals,Vital signs,,,,',
          'p-2,labs/wbc,WBC,14.2,x10^9/L,,',
        ].join('\r\n') +
        '\r\n';
      const res = await uploadCsv(owner, studyId, csv);
      expect(res.statusCode, res.body).toBe(201);
      const { cases } = res.json<{ cases: Array<{ id: string; externalId: string }> }>();
      expect(cases.map((c) => c.externalId)).toEqual(['p-1', 'p-2']);
      const one = await call(owner, 'GET', `/api/studies/${studyId}/cases/${cases[0]?.id}`);
      expect(one.json<{ case: { tree: CaseNode[]; aiScore: number } }>().case).toMatchObject({
        aiScore: 0.8,
        aiExplanation: 'Tachycardia, fever',
        nodeCount: 7,
        tree: [
          {
            key: 'vitals',
            label: 'Vital signs',
            children: [
              { key: 'heart_rate', label: 'Heart rate', value: 112, unit: 'bpm' },
              { key: 'temperature', label: 'Temperature', value: 38.9, unit: '°C' },
            ],
          },
          {
            key: 'history',
            label: 'History',
            children: [
              { key: 'smoker', label: 'Smoker', value: true },
              { key: 'complaint', label: 'Presenting complaint', value: 'Cough, three days' },
              { key: 'code', label: 'Code', value: '007' },
            ],
          },
        ],
      });
    });
  });

  describe('V1/de-identification: identifiers are refused with their path, nothing written', () => {
    const node = (extra: Partial<CaseNode>): CaseNode[] => [
      { key: 'history', label: 'History', children: [{ key: 'note', label: 'Note', ...extra }] },
    ];
    it.each([
      ['an email', node({ value: 'write to jane.doe@example.org' }), 'value', 'email address'],
      ['a phone number', node({ value: 'Call 555-123-4567' }), 'value', 'phone number'],
      ['an SSN', node({ value: '123-45-6789' }), 'value', 'social security number'],
      ['an MRN', node({ value: 'MRN: 99812' }), 'value', 'medical record number'],
      ['a birth date', node({ value: 'DOB 04/12/1961' }), 'value', 'exact birth date'],
      ['a street address', node({ value: '221 Baker Street' }), 'value', 'street address'],
      [
        'a name in a name field',
        node({ key: 'patient_name', value: 'Jane Doe' }),
        'value',
        'patient_name',
      ],
      [
        'a name in a field labelled "Full name"',
        node({ label: 'Full name', value: 'Jane Doe' }),
        'value',
        'field',
      ],
      [
        'an email in a label',
        node({ label: 'Ask jane@example.org', value: 1 }),
        'label',
        'email address',
      ],
      [
        'a phone number in a unit',
        node({ value: 1, unit: '+1 555 123 4567' }),
        'unit',
        'phone number',
      ],
    ])('refuses %s', async (_kind, tree, part, message) => {
      const studyId = await freshStudy();
      const res = await upload(owner, studyId, [
        { externalId: 'ok-1', tree: SAMPLE_TREE },
        { externalId: 'bad-1', tree },
      ]);
      expect(res.statusCode, res.body).toBe(400);
      expect(problem(res).code).toBe('VALIDATION_FAILED');
      expect(problem(res).errors).toEqual([
        { field: `cases.1.tree.0.children.0.${part}`, message: expect.stringContaining(message) },
      ]);
      expect(res.body).not.toContain('Jane');
      expect(res.body).not.toContain('jane');
      expect(await caseCount(studyId)).toBe(0);
    });

    it('refuses an identifier in the AI explanation and in the external id', async () => {
      const studyId = await freshStudy();
      const res = await upload(owner, studyId, [
        {
          externalId: 'MRN 4471-A',
          tree: SAMPLE_TREE,
          aiExplanation: 'Risk is high; phone 555-123-4567',
        },
      ]);
      expect(res.statusCode).toBe(400);
      expect(problem(res).errors?.map((e) => e.field)).toEqual([
        'cases.0.externalId',
        'cases.0.aiExplanation',
      ]);
    });

    it('V4: a JSON upload names every problem at once, an out-of-range AI score with the identifiers', async () => {
      const studyId = await freshStudy();
      const res = await upload(owner, studyId, [
        { externalId: 'MRN 4471-A', tree: SAMPLE_TREE, aiScore: 1.7, aiExplanation: 'Calm' },
      ]);
      expect(res.statusCode).toBe(400);
      expect(problem(res).errors?.map((e) => e.field)).toEqual([
        'cases.0.externalId',
        'cases.0.aiScore',
      ]);
    });

    it('refuses identifiers in a CSV file with their line and column', async () => {
      const studyId = await freshStudy();
      const res = await uploadCsv(
        owner,
        studyId,
        [
          HEADER,
          'p-1,vitals/heart_rate,Heart rate,112,bpm,,',
          'p-1,demographics/patient_name,,Jane Doe,,,',
        ].join('\n'),
      );
      expect(res.statusCode).toBe(400);
      expect(problem(res).errors).toEqual([
        { field: 'line 3: value', message: expect.stringContaining('patient_name') },
      ]);
      expect(await caseCount(studyId)).toBe(0);
    });

    it('accepts ordinary clinical values: numbers with units, ages, birth years, admission dates', async () => {
      const studyId = await freshStudy();
      const res = await upload(owner, studyId, [
        {
          externalId: 'clean-1',
          tree: [
            {
              key: 'demographics',
              label: 'Demographics',
              children: [
                { key: 'age', label: 'Age', value: 64, unit: 'years' },
                { key: 'birth_year', label: 'Year of birth', value: '1961' },
                { key: 'sex', label: 'Sex', value: 'female' },
                { key: 'admitted', label: 'Admission date', value: '2024-03-01' },
              ],
            },
            {
              key: 'vitals',
              label: 'Vitals',
              children: [
                { key: 'temperature', label: 'Temperature', value: '38.9', unit: '°C' },
                { key: 'bp', label: 'Blood pressure', value: '142/88', unit: 'mmHg' },
                { key: 'complaint', label: 'Complaint', value: 'Cough for three days' },
              ],
            },
          ],
          aiExplanation: 'Elevated temperature and heart rate over 24 hours.',
        },
      ]);
      expect(res.statusCode, res.body).toBe(201);
    });
  });

  describe('V1: bad input answers 4xx naming the row or path, and writes nothing', () => {
    let studyId: string;
    beforeAll(async () => {
      studyId = await freshStudy();
    });
    const refusedCsv = async (csv: string | Buffer, field: string | RegExp) => {
      const res = await uploadCsv(owner, studyId, csv);
      expect(res.statusCode, res.body).toBe(400);
      const fields = problem(res).errors?.map((e) => e.field) ?? [];
      const matches =
        typeof field === 'string' ? fields.includes(field) : fields.some((f) => field.test(f));
      expect(matches, fields.join()).toBe(true);
      expect(await caseCount(studyId)).toBe(0);
      return problem(res);
    };

    it('malformed CSV: bad quoting, an unclosed quote, a short row, an unknown or missing column', async () => {
      await refusedCsv([HEADER, 'p-1,a/b,B,"12"x,,,'].join('\n'), 'line 2');
      await refusedCsv([HEADER, 'p-1,a/b,B,12,,,', 'p-1,a/c,C,"open,,,'].join('\n'), 'line 3');
      await refusedCsv([HEADER, 'p-1,a/b,B,12,,,', 'p-1,a/c,C'].join('\n'), 'line 3');
      await refusedCsv(
        ['case_id,path,value,colour', 'p-1,a/b,1,red'].join('\n'),
        'line 1: column 4',
      );
      await refusedCsv(['case_id,label,value', 'p-1,B,1'].join('\n'), 'line 1: path');
      await refusedCsv('', 'line 1');
    });

    it('a 10 MB line is refused by its line number without being buffered whole', async () => {
      const huge = `${HEADER}\np-1,a/b,B,12,,,\np-2,a/b,B,${'x'.repeat(10 * 1024 * 1024 + 1)},,,\n`;
      const detail = await refusedCsv(huge, 'line 3');
      expect(detail.detail).toContain('line 3');
    });

    it('duplicate rows, paths deeper than 6 levels, bad keys and bad scores are named by line', async () => {
      const res = await uploadCsv(
        owner,
        studyId,
        [
          HEADER,
          'p-1,a/b,B,1,,,',
          'p-1,a/b,B again,2,,,',
          'p-1,a/b/c/d/e/f/g,Deep,1,,,',
          'p-1,a/b c,Bad,1,,,',
          'p-1,a/x,X,1,,1.5,',
          ',a/y,Y,1,,,',
        ].join('\n'),
      );
      expect(res.statusCode).toBe(400);
      expect(problem(res).errors?.map((e) => e.field)).toEqual([
        'line 3: path',
        'line 4: path',
        'line 5: path',
        'line 6: ai_score',
        'line 7: case_id',
      ]);
      expect(await caseCount(studyId)).toBe(0);
    });

    it('NUL bytes are refused: in a JSON body by the parser, in a CSV cell with its line', async () => {
      const json = await upload(owner, studyId, [
        { externalId: 'n-1', tree: [{ key: 'a', label: 'A', value: 'x\u0000y' }] },
      ]);
      expect(json.statusCode).toBe(400);
      await refusedCsv([HEADER, 'p-1,a/b,B,x\u0000y,,,'].join('\n'), 'line 2: value');
    });

    it('a tree of 7 levels is refused by the schema (JSON) and by the path rule (CSV)', async () => {
      let deep: CaseNode = { key: 'l7', label: 'L7', value: 1 };
      for (let level = 6; level >= 1; level--) {
        deep = { key: `l${level}`, label: `L${level}`, children: [deep] };
      }
      const res = await upload(owner, studyId, [{ externalId: 'deep', tree: [deep] }]);
      expect(res.statusCode).toBe(400);
      expect(problem(res).errors?.[0]?.field).toContain('body.cases.0.tree.0.children.0');
      await refusedCsv([HEADER, 'p-1,a/b/c/d/e/f/g,G,1,,,'].join('\n'), 'line 2: path');
    });

    it('a JSON body nested 10,000 levels deep is refused before it is parsed', async () => {
      const body = `{"cases":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      const res = await clinic.app.inject({
        method: 'POST',
        url: `/api/studies/${studyId}/cases`,
        headers: { authorization: owner.authorization, 'content-type': 'application/json' },
        payload: body,
      });
      expect(res.statusCode).toBe(400);
      expect(problem(res).code).toBe('JSON_TOO_DEEP');
    });

    it('more than 2,000 nodes in a case is refused (JSON and CSV)', async () => {
      const wide = Array.from({ length: 11 }, (_, s) => ({
        key: `s${s}`,
        label: `Section ${s}`,
        children: Array.from({ length: 190 }, (_, f) => ({
          key: `f${f}`,
          label: `F${f}`,
          value: f,
        })),
      }));
      const res = await upload(owner, studyId, [{ externalId: 'wide', tree: wide }]);
      expect(res.statusCode).toBe(400);
      expect(problem(res).errors).toEqual([
        { field: 'cases.0.tree', message: expect.stringContaining('2,000 nodes') },
      ]);
      const rows = [HEADER];
      for (let i = 0; i < 2100; i++) rows.push(`p-1,s${i % 20}/f${i},F,${i},,,`);
      const detail = await refusedCsv(rows.join('\n'), /^line \d+: path$/);
      expect(detail.errors?.[0]?.message).toContain('2,000 nodes');
    });

    it('sibling keys must be unique; a node has at most 200 children', async () => {
      const res = await upload(owner, studyId, [
        {
          externalId: 'dup-keys',
          tree: [
            { key: 'a', label: 'A', value: 1 },
            { key: 'a', label: 'A again', value: 2 },
          ],
        },
      ]);
      expect(res.statusCode).toBe(400);
      expect(problem(res).errors).toEqual([
        { field: 'cases.0.tree.1.key', message: 'repeats the key of an earlier sibling' },
      ]);
      const rows = [HEADER];
      for (let i = 0; i < 201; i++) rows.push(`p-1,s/f${i},F,${i},,,`);
      await refusedCsv(rows.join('\n'), 'line 202: path');
    });

    it('an external id repeated in the upload, or already in the study, is named by path or line', async () => {
      const own = await freshStudy();
      await insertCase(clinic.db, own, 'existing-1');
      const res = await upload(owner, own, [
        { externalId: 'new-1', tree: SAMPLE_TREE },
        { externalId: 'existing-1', tree: SAMPLE_TREE },
        { externalId: 'new-1', tree: SAMPLE_TREE },
      ]);
      expect(res.statusCode).toBe(400);
      expect(problem(res).errors).toEqual([
        { field: 'cases.2.externalId', message: 'repeats the external id of cases.0.externalId' },
        {
          field: 'cases.1.externalId',
          message: 'the study already has a case with this external id',
        },
      ]);
      const csv = await uploadCsv(owner, own, [HEADER, 'existing-1,a/b,B,1,,,'].join('\n'));
      expect(csv.statusCode).toBe(400);
      expect(problem(csv).errors?.[0]?.field).toBe('line 2: case_id');
      expect(await caseCount(own)).toBe(1);
    });

    it('all or nothing: 1,000 cases with one bad case at the end import nothing', async () => {
      const cases: Array<{ externalId: string; tree: CaseNode[] }> = Array.from(
        { length: 1000 },
        (_, i) => ({
          externalId: `bulk-${i}`,
          tree: [
            {
              key: 'vitals',
              label: 'Vitals',
              children: [{ key: 'hr', label: 'HR', value: 60 + (i % 50) }],
            },
          ],
        }),
      );
      cases[999] = {
        externalId: 'bulk-999',
        tree: [
          {
            key: 'vitals',
            label: 'Vitals',
            children: [{ key: 'email', label: 'Email', value: 'x@y.org' }],
          },
        ],
      };
      const bad = await upload(owner, studyId, cases);
      expect(bad.statusCode).toBe(400);
      expect(problem(bad).errors?.[0]?.field).toBe('cases.999.tree.0.children.0.value');
      expect(await caseCount(studyId)).toBe(0);
      cases[999] = { ...cases[0]!, externalId: 'bulk-999' };
      const good = await upload(owner, studyId, cases);
      expect(good.statusCode, good.body.slice(0, 500)).toBe(201);
      expect(await caseCount(studyId)).toBe(1000);
      const more = await upload(owner, studyId, [
        ...cases,
        { ...cases[0]!, externalId: 'bulk-1000' },
      ]);
      expect(more.statusCode).toBe(400);
    });

    it('a closed study takes no new cases (409)', async () => {
      const closed = await insertStudy(clinic.db, world.organizationId, owner.userId, {
        status: 'closed',
      });
      const res = await upload(owner, closed, [{ externalId: 'late', tree: SAMPLE_TREE }]);
      expect(res.statusCode).toBe(409);
      const csv = await uploadCsv(owner, closed, [HEADER, 'late,a/b,B,1,,,'].join('\n'));
      expect(csv.statusCode).toBe(409);
      expect(await caseCount(closed)).toBe(0);
    });
  });

  describe('Z4: object access', () => {
    let other: StudyWorld;
    let caseId: string;
    beforeAll(async () => {
      other = await createStudyWorld(clinic.app);
      caseId = await insertCase(clinic.db, world.studyId, `z4-${randomUUID()}`);
    });

    it('a researcher of another study gets the 404 of a missing study on every case route', async () => {
      for (const res of [
        await call(other.owner, 'GET', `/api/studies/${world.studyId}/cases`),
        await call(other.owner, 'GET', `/api/studies/${world.studyId}/cases/${caseId}`),
        await upload(other.owner, world.studyId, [{ externalId: 'z', tree: SAMPLE_TREE }]),
        await uploadCsv(other.owner, world.studyId, [HEADER, 'z,a/b,B,1,,,'].join('\n')),
      ]) {
        expect(res.statusCode).toBe(404);
        expect(problem(res).detail).toBe('The study was not found.');
      }
    });

    it("a case of another study, asked for through one's own study, is the 404 of a missing case", async () => {
      const res = await call(other.owner, 'GET', `/api/studies/${other.studyId}/cases/${caseId}`);
      expect(res.statusCode).toBe(404);
      const missing = await call(
        other.owner,
        'GET',
        `/api/studies/${other.studyId}/cases/${randomUUID()}`,
      );
      expect(missing.json<Problem>().detail).toBe(problem(res).detail);
    });

    it('Z2: a participant of the study gets 403 on every case route (no studies scope)', async () => {
      const participant = await addParticipant(clinic.app, world.studyId);
      for (const res of [
        await call(participant, 'GET', `/api/studies/${world.studyId}/cases`),
        await call(participant, 'GET', `/api/studies/${world.studyId}/cases/${caseId}`),
        await upload(participant, world.studyId, [{ externalId: 'p', tree: SAMPLE_TREE }]),
        await uploadCsv(participant, world.studyId, [HEADER, 'p,a/b,B,1,,,'].join('\n')),
      ]) {
        expect(res.statusCode).toBe(403);
      }
    });
  });
});
