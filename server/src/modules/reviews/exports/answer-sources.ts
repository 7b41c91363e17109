// The answers and analytics exports: rows keyed by their table's seq (see source-kit.ts).
//
// Answers CSV columns: the ids and facts of each answer, then one `q_<id>` column per question
// of the study's newest published questionnaire version (a multiple choice as `a;b`), then an
// `answers` column holding the whole answers object as JSON. Answers given to an older version
// keep every question in that JSON column even when the newest version dropped it, so one
// header serves a study whose questionnaire changed; the `questionnaire_version` column says
// which version each row answered. NDJSON carries the answers object as it is.
// The answers CSV, the export with the most rows, is written by csvChunk: the database writes
// each record's fields up to the questions (sql-csv.ts), format.ts the questions and the JSON.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import type { QuestionView } from '../shared/schemas.js';
import {
  attentionPassedOf,
  badCursor,
  isSeqCursor,
  pageEndOf,
  QUESTION_COLUMN_PREFIX,
  releaseRows,
  TEXT_PART_CHARS,
  type Cell,
  type ExportSource,
  type Window,
} from './source-kit.js';
import { answersTailWriter } from './format.js';
import { isoMillis, textCell } from './sql-csv.js';

type Db = Kysely<DatabaseSchema>;

/** The questions of the newest published version: the answers CSV's question columns. */
async function newestQuestions(db: Db, studyId: string): Promise<QuestionView[]> {
  const row = await db
    .selectFrom('questionnaire_versions')
    .select('questions')
    .where('study_id', '=', studyId)
    .where('status', '=', 'published')
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return (row?.questions as QuestionView[] | undefined) ?? [];
}

const ANSWER_COLUMNS = [
  'seq',
  'answer_id',
  'assignment_id',
  'participant_id',
  'case_id',
  'case_external_id',
  'arm_id',
  'arm_name',
  'questionnaire_version_id',
  'questionnaire_version',
  'ai_score_shown',
  'attention_passed',
  'submitted_at',
] as const;

function answersQuery(db: Db, studyId: string, window: Window) {
  return db
    .selectFrom('review_answers as r')
    .where('r.study_id', '=', studyId)
    .$if(window.since !== null, (qb) => qb.where('r.submitted_at', '>=', window.since!))
    .$if(window.after !== null, (qb) => qb.where(sql<boolean>`r.seq > ${window.after}::bigint`))
    .$if(window.upTo !== null, (qb) => qb.where(sql<boolean>`r.seq <= ${window.upTo}::bigint`))
    .orderBy('r.seq');
}

/** One chunk of answers with everything a row of the export shows. */
function answerRowsQuery(db: Db, studyId: string, window: Window, size: number) {
  // The case and arm come from the answer's own copy of its assignment's (0010_answer_facts):
  // no lookup into review_assignments per row.
  return answersQuery(db, studyId, window)
    .innerJoin('review_cases as c', 'c.id', 'r.case_id')
    .innerJoin('questionnaire_versions as q', 'q.id', 'r.questionnaire_version_id')
    .leftJoin('experiment_arms as e', 'e.id', 'r.arm_id')
    .select([
      'r.seq',
      'r.id',
      'r.assignment_id',
      'r.participant_id',
      'r.case_id',
      'c.external_id',
      'r.arm_id',
      'e.name as arm_name',
      'r.questionnaire_version_id',
      'q.version',
      'r.ai_score_shown',
      'r.submitted_at',
      'r.answers',
    ])
    .select(attentionPassedOf(sql.ref('r.assignment_id')).as('attention_passed'))
    .limit(size);
}

/**
 * The fields of ANSWER_COLUMNS as format.ts writes them, by the database (sql-csv.ts), for a row
 * of answerRowsQuery (alias p): the CSV record up to the question columns, as one text. NULL when
 * a field cannot be written there (a time outside 1970-9999).
 */
function answerRecordHead(): RawBuilder<string | null> {
  const fields: Record<(typeof ANSWER_COLUMNS)[number], RawBuilder<unknown>> = {
    seq: sql`p.seq::text`,
    answer_id: sql`p.id::text`,
    assignment_id: sql`p.assignment_id::text`,
    participant_id: sql`p.participant_id::text`,
    case_id: sql`p.case_id::text`,
    case_external_id: sql`coalesce(${textCell(sql`p.external_id`)}, '')`,
    arm_id: sql`coalesce(p.arm_id::text, '')`,
    arm_name: sql`coalesce(${textCell(sql`p.arm_name`)}, '')`,
    questionnaire_version_id: sql`p.questionnaire_version_id::text`,
    // An integer and booleans print as JavaScript's String() of the parsed value does.
    questionnaire_version: sql`p.version::text`,
    ai_score_shown: sql`p.ai_score_shown::text`,
    attention_passed: sql`coalesce(p.attention_passed::text, '')`,
    submitted_at: isoMillis(sql`p.submitted_at`),
  };
  return sql<string | null>`${sql.join(
    ANSWER_COLUMNS.map((column) => fields[column]),
    sql` || ',' || `,
  )}`;
}

export const answers: ExportSource = {
  async columns(db, studyId) {
    const questions = await newestQuestions(db, studyId);
    return [
      ...ANSWER_COLUMNS,
      ...questions.map((q) => `${QUESTION_COLUMN_PREFIX}${q.id}`),
      'answers',
    ];
  },
  checkCursor(cursor) {
    if (!isSeqCursor(cursor)) badCursor();
  },
  async pageEnd(db, studyId, window, limit) {
    // Walks the seq index from the cursor: the cost is the page's size, the same at row 10 as
    // at row 1,000,000.
    return pageEndOf(db, answersQuery(db, studyId, window).select('r.seq'), limit, (row) =>
      String(row.seq),
    );
  },
  async page(db, studyId, window, size) {
    const rows = await answerRowsQuery(db, studyId, window, size).execute();
    const exported = rows.map((row) => {
      const values = row.answers as Record<string, Cell>;
      const cells: Record<string, Cell> = {
        seq: String(row.seq),
        answer_id: row.id,
        assignment_id: row.assignment_id,
        participant_id: row.participant_id,
        case_id: row.case_id,
        case_external_id: row.external_id,
        arm_id: row.arm_id,
        arm_name: row.arm_name,
        questionnaire_version_id: row.questionnaire_version_id,
        questionnaire_version: row.version,
        ai_score_shown: row.ai_score_shown,
        attention_passed: row.attention_passed,
        submitted_at: row.submitted_at,
      };
      // The CSV writer spreads `answers` into the question columns; NDJSON keeps the object.
      cells.answers = values;
      return { cursor: String(row.seq), cells };
    });
    releaseRows(rows);
    return exported;
  },
  async csvChunk(db, studyId, window, size, columns) {
    // The database writes the fields up to the questions; the questions and the answers object
    // (JSON.stringify's numbers and key order, the V3 check of each answer) are written here by
    // format.ts from the parsed answers, as csvRows writes them.
    const tailReadsOnlyAnswers = columns
      .slice(ANSWER_COLUMNS.length)
      .every((column) => column === 'answers' || column.startsWith(QUESTION_COLUMN_PREFIX));
    const headMatches = ANSWER_COLUMNS.every((column, index) => columns[index] === column);
    if (!headMatches || !tailReadsOnlyAnswers) return { rows: 0, last: undefined, write: null };
    // The chunk's rows are chosen and limited first (subquery p), so the fields are written for
    // those rows only, whatever plan the joins get.
    const result = await sql<{ head: string | null; answers: Cell }>`
      select ${answerRecordHead()} as head, p.answers
      from (${answerRowsQuery(db, studyId, window, size)}) p`.execute(db);
    const rows = result.rows;
    const count = rows.length;
    if (rows.some((row) => row.head === null)) {
      releaseRows(rows);
      return { rows: count, last: undefined, write: null };
    }
    // A record starts with seq, digits only: the last row's is the chunk's cursor.
    const lastHead = rows.at(-1)?.head ?? undefined;
    const last = lastHead?.slice(0, lastHead.indexOf(','));
    const tail = answersTailWriter(columns, ANSWER_COLUMNS.length);
    return { rows: count, last, write: () => answerRecords(rows, tail) };
  },
};

/** The records of csvChunk's rows (every head written), in pieces; the rows are emptied. */
function answerRecords(
  rows: Array<{ head: string | null; answers: Cell }>,
  tail: (answers: Cell) => string,
): string[] {
  const parts: string[] = [];
  let part = '';
  try {
    for (const row of rows) {
      part += row.head!;
      part += tail(row.answers);
      if (part.length >= TEXT_PART_CHARS) {
        parts.push(part);
        part = '';
      }
    }
  } finally {
    releaseRows(rows);
  }
  parts.push(part);
  return parts;
}

function timingsQuery(db: Db, studyId: string, window: Window) {
  return db
    .selectFrom('review_timings as t')
    .where('t.study_id', '=', studyId)
    .$if(window.since !== null, (qb) => qb.where('t.updated_at', '>=', window.since!))
    .$if(window.after !== null, (qb) => qb.where(sql<boolean>`t.seq > ${window.after}::bigint`))
    .$if(window.upTo !== null, (qb) => qb.where(sql<boolean>`t.seq <= ${window.upTo}::bigint`))
    .orderBy('t.seq');
}

const ANALYTICS_COLUMNS = [
  'seq',
  'assignment_id',
  'participant_id',
  'case_id',
  'case_external_id',
  'arm_id',
  'arm_name',
  'case_opened_at',
  'form_opened_at',
  'submitted_at',
  'client_case_opened_at',
  'client_form_opened_at',
  'client_submitted_at',
  'reading_ms',
  'answering_ms',
  'total_ms',
  'flags',
  'updated_at',
] as const;

const toCount = (value: string | number | null): number | null =>
  value === null ? null : Number(value);

export const analytics: ExportSource = {
  async columns() {
    return [...ANALYTICS_COLUMNS];
  },
  checkCursor(cursor) {
    if (!isSeqCursor(cursor)) badCursor();
  },
  async pageEnd(db, studyId, window, limit) {
    // Walks the seq index from the cursor: the cost is the page's size, the same at row 10 as
    // at row 1,000,000.
    return pageEndOf(db, timingsQuery(db, studyId, window).select('t.seq'), limit, (row) =>
      String(row.seq),
    );
  },
  async page(db, studyId, window, size) {
    const rows = await timingsQuery(db, studyId, window)
      .innerJoin('review_assignments as a', 'a.id', 't.assignment_id')
      .innerJoin('review_cases as c', 'c.id', 'a.case_id')
      .leftJoin('experiment_arms as e', 'e.id', 'a.arm_id')
      .select([
        't.seq',
        't.assignment_id',
        'a.participant_id',
        'a.case_id',
        'c.external_id',
        'a.arm_id',
        'e.name as arm_name',
        't.case_opened_at',
        't.form_opened_at',
        't.submitted_at',
        't.client_case_opened_at',
        't.client_form_opened_at',
        't.client_submitted_at',
        't.reading_ms',
        't.answering_ms',
        't.total_ms',
        't.flags',
        't.updated_at',
      ])
      .limit(size)
      .execute();
    const exported = rows.map((row) => ({
      cursor: String(row.seq),
      cells: {
        seq: String(row.seq),
        assignment_id: row.assignment_id,
        participant_id: row.participant_id,
        case_id: row.case_id,
        case_external_id: row.external_id,
        arm_id: row.arm_id,
        arm_name: row.arm_name,
        case_opened_at: row.case_opened_at,
        form_opened_at: row.form_opened_at,
        submitted_at: row.submitted_at,
        client_case_opened_at: row.client_case_opened_at,
        client_form_opened_at: row.client_form_opened_at,
        client_submitted_at: row.client_submitted_at,
        reading_ms: toCount(row.reading_ms),
        answering_ms: toCount(row.answering_ms),
        total_ms: toCount(row.total_ms),
        flags: row.flags,
        updated_at: row.updated_at,
      },
    }));
    releaseRows(rows);
    return exported;
  },
};
