// What each export reads: its columns, its keyset cursor, and one page of rows. Every query is
// keyed by the study the access check returned and walks an index in cursor order, so a page
// costs the same at row 10 as at row 1,000,000 and the server holds one page at a time.
//
// Cursors (the `after` parameter and the `next` link):
// - answers:      review_answers.seq
// - analytics:    review_timings.seq (a timing row is updated in place until its answer arrives)
// - assignments:  created_at (microseconds, UTC) and id, as `<instant>~<uuid>`
// - participants: the participant's user id
// `since` keeps rows changed at or after that time: answers by submitted_at, analytics by
// updated_at, assignments by created_at, participants by joining or leaving the study.
import { sql, type Kysely, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import type { DatabaseSchema } from '../../../platform/db/schema.js';
import { HavenError } from '../../../platform/errors.js';

type Db = Kysely<DatabaseSchema>;

export type Cell = string | number | boolean | null | Date | readonly string[] | object;
export interface ExportRow {
  readonly cursor: string;
  readonly cells: Record<string, Cell>;
}

export interface Window {
  readonly since: Date | null;
  /** Rows after this cursor (exclusive). */
  readonly after: string | null;
  /** Rows up to this cursor (inclusive): the end of the requested page. */
  readonly upTo: string | null;
}

export interface PageEnd {
  readonly last: string | undefined;
  readonly more: boolean;
  /** Rows in the page (the audit event's row count, L3). */
  readonly rows: number;
}

/**
 * Where a page of `limit` rows ends, from the query of its keys in cursor order: the (up to) two
 * keys at offset limit - 1 (the last of the page, and whether a row follows). A page that ends
 * early, the last one, has its rows counted over the same walk of at most `limit` keys.
 */
export async function pageEndOf<Key>(
  db: Db,
  keys: SelectQueryBuilder<never, never, Key>,
  limit: number,
  cursorOf: (key: Key) => string,
): Promise<PageEnd> {
  const [last, next] = await keys
    .offset(limit - 1)
    .limit(2)
    .execute();
  if (last !== undefined) return { last: cursorOf(last), more: next !== undefined, rows: limit };
  const { rows } = await db
    .selectFrom(keys.limit(limit).as('page'))
    .select((eb) => eb.fn.countAll<number | string>().as('rows'))
    .executeTakeFirstOrThrow();
  return { last: undefined, more: false, rows: Number(rows) };
}

export interface ExportSource {
  /** The CSV header (NDJSON objects carry the same names). */
  columns(db: Db, studyId: string): Promise<string[]>;
  /** Refuses a malformed `after` with a 400 naming it. */
  checkCursor(cursor: string): void;
  /**
   * Where a page of `limit` rows ends: the cursor of its last row, and whether a row follows it.
   * One probe reading two keys at the page's end, so the Link header is known before the body.
   */
  pageEnd(db: Db, studyId: string, window: Window, limit: number): Promise<PageEnd>;
  page(db: Db, studyId: string, window: Window, size: number): Promise<ExportRow[]>;
  /**
   * The same chunk as page() as finished CSV records for `columns`, part of each written by the
   * database (see sql-csv.ts). `write` is null when that cannot promise format.ts's bytes for
   * every row; the caller then formats page() of the same window.
   */
  csvChunk?(
    db: Db,
    studyId: string,
    window: Window,
    size: number,
    columns: readonly string[],
  ): Promise<CsvChunk>;
}

export interface CsvChunk {
  /** Rows in the chunk (a full chunk means rows may follow). */
  readonly rows: number;
  /** The cursor of the chunk's last row. */
  readonly last: string | undefined;
  /**
   * Writes the records, in pieces of about TEXT_PART_CHARS characters, and lets go of the rows;
   * called once. Apart from the query, so the stream can send the next chunk's query first and
   * the database runs it while this one is written (see ExportTextStream).
   */
  readonly write: (() => readonly string[]) | null;
}

/**
 * Characters per piece of a chunk's text. The reply turns each piece into a Buffer, flattening
 * it first; a flat string over V8's largest regular object (128 KB) is allocated in the large
 * object space, which only a full collection frees, so a chunk sent as one 700 KB string kept
 * the chunks of an export on the heap until then (server RSS growth over a 200,000-answer export:
 * 67-87 MB in one string per chunk, 58-60 MB in pieces). 32 Ki characters stay under that bound
 * in two-byte strings too.
 */
export const TEXT_PART_CHARS = 32 * 1024;

/**
 * Empties a chunk's rows once they are written. Without it nearly every row the driver returned,
 * with its field strings and parsed answers, survived two young-generation collections and was
 * promoted to the old generation (`--trace-gc-nvp`: 122 MB promoted over a 300,000-answer export,
 * what the rows weigh, whatever the chunk size, and the same with the driver alone in a loop)
 * although a chunk's rows are dead long before the next collection: the rows array is reached
 * from an object already in the old generation, and a young collection keeps whatever such an
 * object points to until a full collection finds it dead. The old generation then grew by
 * 100-200 MB between full collections. Emptied, the array points to nothing and the rows die
 * young (9 MB promoted; server RSS growth over 1,000,000 answers 253 MB before, 44 MB after).
 */
export function releaseRows(rows: unknown[]): void {
  rows.length = 0;
}

export function badCursor(): never {
  throw new HavenError('VALIDATION_FAILED', 'The export cursor is not valid.', {
    errors: [{ field: 'after', message: 'Use the cursor from the previous page’s next link.' }],
  });
}

export const SEQ = /^[0-9]{1,19}$/;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const INSTANT_ID =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)~([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

const MAX_BIGINT = 9_223_372_036_854_775_807n;

/** A seq cursor: digits within bigint (a larger number would fail the cast in the database). */
export function isSeqCursor(cursor: string): boolean {
  return SEQ.test(cursor) && BigInt(cursor) <= MAX_BIGINT;
}

/** An assignments cursor whose instant is a real one (JS rolls 30 February over; SQL refuses). */
export function isInstantIdCursor(cursor: string): boolean {
  const match = INSTANT_ID.exec(cursor);
  if (!match) return false;
  const instant = new Date(`${match[1]!.slice(0, 23)}Z`);
  return (
    Number.isFinite(instant.getTime()) && instant.toISOString().startsWith(match[1]!.slice(0, 19))
  );
}

/** Microsecond UTC text of a timestamptz: a JS Date would drop the microseconds. */
export const microInstant = (column: string) =>
  sql<string>`to_char(${sql.ref(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The attention-check result of an assignment (null: none was asked there). */
export const attentionPassedOf = (assignmentId: RawBuilder<unknown>) =>
  sql<
    boolean | null
  >`(select t.passed from attention_results t where t.assignment_id = ${assignmentId})`;
export const ANSWERED = sql<boolean>`exists (select 1 from review_answers x where x.assignment_id = a.id)`;

/** The answers CSV's question columns: `q_<question id>`. */
export const QUESTION_COLUMN_PREFIX = 'q_';
