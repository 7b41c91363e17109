// The answers CSV of answers.csvChunk (fields up to the questions written by the database,
// sql-csv.ts; the rest by format.ts from the parsed answers) against format.ts's own csvRows over
// page()'s row objects (the export's writer before), byte for byte, on each engine: every row
// alone, chunks of several rows, and the route's pages. The rows reach every rule: formula
// characters (V3) and quoting in the database's fields (case names, arm names) and in answers,
// escapes and non-ASCII text, numbers JavaScript prints another way than PostgreSQL, arrays,
// nested objects, array-index keys (which JavaScript puts first), times at and outside the years
// the database writes (a row outside sends its chunk to format.ts).
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic } from '../../../../test/clinical-actors.js';
import {
  addParticipant,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  SAMPLE_QUESTIONS,
  type StudyWorld,
} from '../../../../test/review-actors.js';
import type { QuestionView } from '../shared/schemas.js';
import { answers } from './answer-sources.js';
import { csvHeader, csvRows } from './format.js';
import type { Window } from './source-kit.js';

const extra = (id: string): QuestionView => ({
  id,
  type: 'paragraph',
  prompt: `Question ${id}?`,
  required: false,
});
const QUESTIONS = [
  ...SAMPLE_QUESTIONS,
  ...['tags', '10', '2', '4294967294', '4294967295', 'missing'].map(extra),
];

interface Sample {
  /** The answers as jsonb text, stored as PostgreSQL reads it (so `1.0` stays `1.0`). */
  readonly answers: string;
  readonly submittedAt?: string;
  /** false: the database cannot write the row's leading fields, format.ts formats its chunk. */
  readonly fast?: false;
}

const SAMPLES: Sample[] = [
  { answers: '{"diagnosis": "pneumonia", "confidence": 3, "comment": "Plain"}' },
  { answers: '{"comment": "=1+1", "diagnosis": "+x", "confidence": -2}' },
  { answers: '{"comment": "-x", "diagnosis": "@x"}' },
  { answers: '{"comment": "\\tx", "diagnosis": "\\rx"}' },
  { answers: '{"comment": " =not a formula", "diagnosis": "1+1"}' },
  { answers: '{"comment": "a,b \\"q\\"\\nline\\r\\n end", "diagnosis": ""}' },
  { answers: '{"comment": "é漢😀 \\u0001 \\u001f \\b\\f back\\\\slash / \\u2028"}' },
  { answers: '{"comment": "ends with backslash \\\\", "diagnosis": "\\""}' },
  { answers: '{"confidence": 0}' },
  { answers: '{"confidence": 0.5, "comment": -0.25}' },
  { answers: '{"confidence": 0.000001}' },
  { answers: '{"confidence": 123456789012345}' },
  { answers: '{"confidence": 1234567.12345678}' },
  { answers: '{"confidence": -0}' },
  { answers: '{"confidence": 1.0}' },
  { answers: '{"confidence": 1e21}' },
  { answers: '{"confidence": 1.5e-7}' },
  { answers: '{"confidence": 12345678901234567}' },
  { answers: '{"confidence": 0.30000000000000004}' },
  { answers: '{"tags": ["a", "b"]}' },
  { answers: '{"tags": []}' },
  { answers: '{"tags": ["=x", "y,z", "q\\"t"]}' },
  { answers: '{"tags": [1, 2]}' },
  { answers: '{"tags": ["a", ["b"]]}' },
  { answers: '{"tags": [null]}' },
  { answers: '{"comment": {"k": 1}}' },
  { answers: '{"extra": {"k": "v", "b": ["x", "y"], "n": -1.5, "e": {}}}' },
  { answers: '{"extra": {"z": 1, "a": [[]]}}' },
  { answers: '{"comment": "he said \\"x\\": y", "diagnosis": "a\\", \\"b"}' },
  { answers: '{"comment": "list \\"a\\", \\"b\\", [1, 2]"}' },
  { answers: '{"a\\\\": "key ends with a backslash"}' },
  { answers: '{"comment": "costs 2.50, or 3.0"}' },
  { answers: '{"comment": "score: 2.50"}' },
  { answers: '{"": "", "tags": ["", "x"]}' },
  { answers: '{"comment": true, "diagnosis": false, "confidence": null}' },
  // Array-index keys, which JavaScript orders first.
  {
    answers:
      '{"10": "ten", "2": "two", "b": 1, "a": 2, "4294967294": "max", "4294967295": "over", "01": "lead"}',
  },
  { answers: '{"k": "v", "0": "zero"}' },
  { answers: '{"k\\"ey": "v", "k,ey": "w", "k:ey": "x"}' },
  { answers: '{}' },
  { answers: '[1]' },
  { answers: 'null' },
  { answers: '"text"' },
  { answers: '{"comment": "micro"}', submittedAt: '2024-02-29 23:59:59.999999+00' },
  { answers: '{"comment": "half"}', submittedAt: '2001-09-09 01:46:40.0005+00' },
  { answers: '{"comment": "offset"}', submittedAt: '2030-01-01 00:00:00.1+05:30' },
  { answers: '{"comment": "epoch"}', submittedAt: '1970-01-01 00:00:00+00' },
  { answers: '{"comment": "late"}', submittedAt: '9999-12-31 23:59:59.999999+00' },
  { answers: '{"comment": "before"}', submittedAt: '1969-12-31 23:59:59.999+00', fast: false },
];

describeClinic('reviews: the answers CSV written by the database', (clinic) => {
  let world: StudyWorld;
  let columns: string[];
  const seqs: string[] = [];
  const all: Window = { since: null, after: null, upTo: null };

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app);
    const versionId = await insertPublishedQuestionnaire(clinic.db, world.studyId, {
      questions: QUESTIONS,
    });
    const people = [
      await addParticipant(clinic.app, world.studyId, 'Dr Plain'),
      await addParticipant(clinic.app, world.studyId, '=cmd|calc'),
    ];
    // One case per row (a participant answers a case once); the names cycle through the rules.
    const names = ['plain', 'a,b', '=cmd', 'say "x"', 'line\nbreak', '-1', 'semi;=1', 'tab\t@x'];
    const caseIds: string[] = [];
    for (const index of SAMPLES.keys()) {
      const externalId = `${names[index % names.length]!}${index < names.length ? '' : index}`;
      caseIds.push(await insertCase(clinic.db, world.studyId, externalId));
    }
    const experiment = await sql<{ id: string }>`
      insert into experiments (study_id, name) values (${world.studyId}, 'Display test')
      returning id`.execute(clinic.db);
    const armIds: Array<string | undefined> = [undefined];
    for (const name of ['-arm, "quoted"', '@arm', 'Plain arm', 'arm;+1']) {
      const arm = await sql<{ id: string }>`
        insert into experiment_arms (experiment_id, study_id, name, display)
        values (${experiment.rows[0]!.id}, ${world.studyId}, ${name}, '{}'::jsonb)
        returning id`.execute(clinic.db);
      armIds.push(arm.rows[0]!.id);
    }
    for (const [index, sample] of SAMPLES.entries()) {
      const participant = people[index % people.length]!;
      const armId = armIds[index % armIds.length];
      const assignmentId = await insertAssignment(
        clinic.db,
        world.studyId,
        participant.userId,
        caseIds[index]!,
        armId === undefined ? {} : { armId },
      );
      const inserted = await sql<{ seq: string }>`
        insert into review_answers (assignment_id, study_id, participant_id,
          questionnaire_version_id, answers, display_snapshot, ai_score_shown, submission_key,
          submitted_at)
        values (${assignmentId}, ${world.studyId}, ${participant.userId}, ${versionId},
          ${sample.answers}::jsonb, '{}'::jsonb, ${index % 2 === 0}, repeat('k', 64),
          ${sample.submittedAt ?? '2025-06-01 12:34:56.789123+00'}::timestamptz)
        returning seq::text as seq`.execute(clinic.db);
      seqs.push(inserted.rows[0]!.seq);
      if (index % 3 !== 2) {
        await sql`
          insert into attention_results (study_id, participant_id, assignment_id,
            questionnaire_version_id, expected, given, passed)
          values (${world.studyId}, ${participant.userId}, ${assignmentId}, ${versionId},
            '"a"'::jsonb, '"a"'::jsonb, ${index % 3 === 0})`.execute(clinic.db);
      }
    }
    columns = await answers.columns(clinic.db, world.studyId);
  });

  /** format.ts's text for the rows of a window: what the export wrote before. */
  async function formatted(window: Window, size: number): Promise<string> {
    return csvRows(columns, await answers.page(clinic.db, world.studyId, window, size));
  }

  it("V3 (CSV injection) and quoting: each row the database writes is format.ts's bytes, or is left to format.ts", async () => {
    expect(columns).toContain('q_4294967295');
    const fast: boolean[] = [];
    for (const [index, seq] of seqs.entries()) {
      const window: Window = { ...all, after: index === 0 ? null : seqs[index - 1]! };
      const chunk = await answers.csvChunk!(clinic.db, world.studyId, window, 1, columns);
      expect(chunk.rows).toBe(1);
      fast.push(chunk.write !== null);
      if (chunk.write !== null) {
        expect(chunk.last).toBe(seq);
        expect(chunk.write().join(''), SAMPLES[index]!.answers).toBe(await formatted(window, 1));
      }
    }
    expect(fast).toEqual(SAMPLES.map((sample) => sample.fast ?? true));
  });

  it('V3 and quoting in chunks: several rows as format.ts writes them; a chunk with a row it cannot write is left whole', async () => {
    for (let start = 0; start < seqs.length; start += 4) {
      const window: Window = { ...all, after: start === 0 ? null : seqs[start - 1]! };
      const chunk = await answers.csvChunk!(clinic.db, world.studyId, window, 4, columns);
      const rows = SAMPLES.slice(start, start + 4);
      expect(chunk.rows).toBe(rows.length);
      if (rows.every((sample) => sample.fast ?? true)) {
        expect(chunk.last).toBe(seqs[start + rows.length - 1]);
        expect(chunk.write?.().join('')).toBe(await formatted(window, 4));
      } else {
        expect(chunk.write).toBeNull();
      }
    }
    const past = await answers.csvChunk!(
      clinic.db,
      world.studyId,
      { ...all, after: seqs.at(-1)! },
      4,
      columns,
    );
    expect({ rows: past.rows, last: past.last, parts: past.write?.() }).toEqual({
      rows: 0,
      last: undefined,
      parts: [''],
    });
  });

  it("V3 and quoting over HTTP: the route sends format.ts's bytes, whole, in linked pages and since a time", async () => {
    const expected = csvHeader(columns) + (await formatted(all, 1000));
    const whole = await clinic.call(
      world.owner,
      'GET',
      `/api/studies/${world.studyId}/exports/answers?format=csv`,
    );
    expect(whole.statusCode).toBe(200);
    expect(whole.body).toBe(expected);

    let path: string | undefined = `/api/studies/${world.studyId}/exports/answers?limit=7`;
    let body = '';
    let pages = 0;
    while (path !== undefined && pages < 20) {
      const page = await clinic.call(world.owner, 'GET', path);
      expect(page.statusCode).toBe(200);
      expect(page.body.startsWith(csvHeader(columns))).toBe(true);
      body += page.body.slice(csvHeader(columns).length);
      pages += 1;
      path = /<([^>]+)>;\s*rel="next"/.exec(String(page.headers.link ?? ''))?.[1];
    }
    expect(pages).toBe(Math.ceil(SAMPLES.length / 7));
    expect(csvHeader(columns) + body).toBe(expected);

    // `since` keeps the rows answered from that time on (most samples: mid-2025).
    const since = '2025-01-01T00:00:00.000Z';
    const recent = await clinic.call(
      world.owner,
      'GET',
      `/api/studies/${world.studyId}/exports/answers?since=${since}`,
    );
    expect(recent.statusCode).toBe(200);
    expect(recent.body).toBe(
      csvHeader(columns) + (await formatted({ ...all, since: new Date(since) }, 1000)),
    );
    expect(recent.body.split('\r\n').length).toBeLessThan(expected.split('\r\n').length);
  });
});
