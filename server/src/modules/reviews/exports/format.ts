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
 * The rest of one CSV record whose first `from` fields were written already (by the database,
 * see answer-sources.ts): a comma and the field of each later column, read from `cells` as
 * csvRows reads a row's, then the CRLF.
 */
export function csvRecordTail(
  columns: readonly string[],
  from: number,
  cells: ExportRow['cells'],
): string {
  let text = '';
  for (let index = from; index < columns.length; index++) {
    text += ',';
    text += csvField(cellOf(cells, columns[index]!));
  }
  return `${text}\r\n`;
}

export function ndjsonRows(rows: readonly ExportRow[]): string {
  return rows.map((row) => `${JSON.stringify(row.cells)}\n`).join('');
}
