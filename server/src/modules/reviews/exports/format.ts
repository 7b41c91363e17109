// Export rows as CSV or NDJSON text. CSV goes through csv-stringify (quoting, CRLF, embedded
// separators), after every text cell that a spreadsheet would read as a formula is neutralized.
import { stringify } from 'csv-stringify/sync';
import { QUESTION_COLUMN_PREFIX, type Cell, type ExportRow } from './sources.js';

export type ExportFormat = 'csv' | 'ndjson';

/**
 * CSV injection (OWASP "CSV Injection"): a cell beginning with = + - @, a tab or a carriage
 * return is taken as a formula by Excel, LibreOffice and Sheets. Such text cells get a leading
 * single quote, which the spreadsheet shows as text and never evaluates. Numbers are written by
 * the server itself (a negative scale value is a number, not text) and stay numbers.
 */
export function neutralizeCell(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

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

export function csvRows(columns: readonly string[], rows: readonly ExportRow[]): string {
  return stringify(
    rows.map((row) => columns.map((column) => cellText(cellOf(row.cells, column)))),
    { record_delimiter: 'windows' },
  );
}

export function ndjsonRows(rows: readonly ExportRow[]): string {
  return rows.map((row) => `${JSON.stringify(row.cells)}\n`).join('');
}
