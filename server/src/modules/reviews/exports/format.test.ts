// The CSV an export writes must read back as the rows it holds, in any spreadsheet or parser:
// line breaks, quotes and commas inside free-text answers stay inside their cell.
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { csvHeader, csvRows } from './format.js';

describe('export CSV', () => {
  it('V3: a free-text answer holding LF, CR, CRLF, quotes or commas stays one cell of one row', () => {
    const comments = ['two\nlines', 'old\rmac', 'win\r\ndows', 'says "hi", then leaves', 'plain'];
    const columns = ['assignment', 'comment'];
    const rows = comments.map((comment, index) => ({
      cursor: String(index),
      cells: { assignment: `a-${index}`, comment },
    }));
    const text = csvHeader(columns) + csvRows(columns, rows);
    // Read as spreadsheets do: any line break outside quotes ends a row.
    const parsed: Array<Record<string, string>> = parse(text, {
      columns: true,
      record_delimiter: ['\r\n', '\n', '\r'],
    });
    expect(parsed).toEqual(
      comments.map((comment, index) => ({ assignment: `a-${index}`, comment })),
    );
  });
});
