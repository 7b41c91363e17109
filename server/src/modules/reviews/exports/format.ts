// Export rows as CSV or NDJSON text. CSV follows csv-stringify (the header goes through it; the
// rows are written by its quoting rule, see csvRows), after every text cell that a spreadsheet
// would read as a formula is neutralized (platform/csv-cells.ts).
import { stringify } from 'csv-stringify/sync';
import { neutralizeCell, quoteField } from '../../../platform/csv-cells.js';
// source-kit.js, not sources.js: answer-sources.ts writes through this module too.
import { QUESTION_COLUMN_PREFIX, type Cell, type ExportRow } from './source-kit.js';

export type ExportFormat = 'csv' | 'ndjson';

function cellText(value: Cell | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return neutralizeCell(value);
  // Lists of option values (multiple choice) and timing flags: one cell, `;`-separated.
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return neutralizeCell(value.join(';'));
  }
  return neutralizeCell(JSON.stringify(value));
}

/** A question column's value comes from the row's answers object (q_<question id>). */
function cellOf(cells: ExportRow['cells'], column: string): Cell | undefined {
  if (Object.hasOwn(cells, column)) return cells[column];
  const answers = cells.answers;
  if (column.startsWith(QUESTION_COLUMN_PREFIX) && answers && typeof answers === 'object') {
    const id = column.slice(QUESTION_COLUMN_PREFIX.length);
    return Object.hasOwn(answers, id) ? (answers as Record<string, Cell>)[id] : undefined;
  }
  return undefined;
}

export function csvHeader(columns: readonly string[]): string {
  return stringify([columns.map(neutralizeCell)], { record_delimiter: 'windows' });
}

/** One field in the header's dialect: quoted by NEEDS_QUOTES, quotes doubled inside. */
function csvField(value: Cell | undefined): string {
  return quoteField(cellText(value));
}

/**
 * The chunk's rows as CSV in the header's dialect (`,` delimiter, `"` quote doubled inside, CRLF
 * after each record), quoting by NEEDS_QUOTES above.
 * Written out because the export formats every cell of a million-row study: csv-stringify
 * normalizes options and walks each field through its generic casting, which measured 20 ms per
 * 1,000 answers rows against 5 ms here.
 */
export function csvRows(columns: readonly string[], rows: readonly ExportRow[]): string {
  let text = '';
  for (const row of rows) {
    for (let index = 0; index < columns.length; index++) {
      if (index > 0) text += ',';
      text += csvField(cellOf(row.cells, columns[index]!));
    }
    text += '\r\n';
  }
  return text;
}

/**
 * Characters JSON.stringify writes as an escape (a quote, a backslash, a control character, a
 * lone surrogate); paired surrogates are caught too, which only sends their text the slow way.
 */
// eslint-disable-next-line no-control-regex -- the control characters JSON escapes are the point
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * quoteField(JSON.stringify(value)) for an array of plain strings: `[""a"",""b""]` inside the
 * field's quotes, written without the text of JSON.stringify and its quote doubling. undefined
 * for anything else.
 */
function doubledStringArray(values: readonly unknown[]): string | undefined {
  let text = '[';
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    if (typeof value !== 'string' || JSON_ESCAPED.test(value)) return undefined;
    text += index === 0 ? '""' : ',""';
    text += value;
    text += '""';
  }
  return `${text}]`;
}

/**
 * csvField of an answers object whose values are flat (strings, finite numbers, booleans, null,
 * arrays of strings) and whose keys and strings JSON.stringify would not escape: its JSON written
 * directly as the quoted field, each of JSON's quotes doubled. JSON.stringify followed by the
 * doubling of every quote measured 1.2-2 µs per answers row, three times the rest of the row's
 * formatting. Keys come in Object.keys order, which is JSON.stringify's; String() of a finite
 * number is its JSON. undefined for any other object, which csvField then writes.
 */
function doubledAnswersJson(answers: Record<string, unknown>): string | undefined {
  const keys = Object.keys(answers);
  // `{}` holds no quote and no comma: quoteField leaves it bare.
  if (keys.length === 0) return '{}';
  let text = '"{';
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    if (JSON_ESCAPED.test(key)) return undefined;
    text += index === 0 ? '""' : ',""';
    text += key;
    text += '"":';
    const value = answers[key];
    if (typeof value === 'string') {
      if (JSON_ESCAPED.test(value)) return undefined;
      text += '""';
      text += value;
      text += '""';
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      text += String(value);
    } else if (typeof value === 'boolean' || value === null) {
      text += String(value);
    } else if (Array.isArray(value)) {
      const list = doubledStringArray(value);
      if (list === undefined) return undefined;
      text += list;
    } else {
      return undefined;
    }
  }
  return `${text}}"`;
}

/** csvField(value) for one value of an answers object. */
function answerField(value: Cell | undefined): string {
  // A number or boolean prints without a formula character nor anything to quote (cellText
  // neutralizes text only); the rest goes through the rules as any cell does.
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return quoteField(neutralizeCell(value));
  return csvField(value);
}

/** The `answers` column's field: the whole answers object as JSON. */
function answersField(answers: Cell | undefined): string {
  if (answers !== null && typeof answers === 'object' && !Array.isArray(answers)) {
    if (!(answers instanceof Date)) {
      const direct = doubledAnswersJson(answers as Record<string, unknown>);
      if (direct !== undefined) return direct;
    }
  }
  return csvField(answers);
}

/**
 * The rest of a CSV record whose first `from` fields were written already (by the database, see
 * answer-sources.ts) when every later column reads the row's answers object: a comma and the
 * field of each later column, as csvRows writes a row whose cells are `{ answers }`, then the
 * CRLF. The columns are read once here, not once per row: a `q_<id>` column is the answer to
 * `<id>`, `answers` the whole object, any other column an empty field (csvRows finds no cell).
 */
export function answersTailWriter(
  columns: readonly string[],
  from: number,
): (answers: Cell) => string {
  /** Per later column: the question id it reads, true for the whole object, null for nothing. */
  const readers: Array<string | true | null> = columns.slice(from).map((column) => {
    if (column === 'answers') return true;
    return column.startsWith(QUESTION_COLUMN_PREFIX)
      ? column.slice(QUESTION_COLUMN_PREFIX.length)
      : null;
  });
  return (answers) => {
    const object =
      answers !== null && typeof answers === 'object'
        ? (answers as Record<string, Cell>)
        : undefined;
    let text = '';
    for (const reader of readers) {
      text += ',';
      if (reader === true) text += answersField(answers);
      else if (reader !== null && object !== undefined && Object.hasOwn(object, reader)) {
        text += answerField(object[reader]);
      }
    }
    return `${text}\r\n`;
  };
}

export function ndjsonRows(rows: readonly ExportRow[]): string {
  return rows.map((row) => `${JSON.stringify(row.cells)}\n`).join('');
}
