// The CSV an export writes must read back as the rows it holds, in any spreadsheet or parser:
// line breaks, quotes and commas inside free-text answers stay inside their cell.
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { answersTailWriter, csvHeader, csvRows } from './format.js';
import type { Cell } from './source-kit.js';

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

describe('answers CSV tail', () => {
  // Parsed as the driver parses jsonb: JSON.parse, so `__proto__` is an own key.
  const samples = [
    '{"diagnosis": "pneumonia", "confidence": 3, "comment": "Plain"}',
    '{"comment": "=1+1", "diagnosis": "+x", "confidence": -2, "tags": ["-a", "b,c"]}',
    '{"comment": "@x\\r\\nline", "diagnosis": "\\tx", "confidence": -0}',
    '{"comment": "say \\"hi\\", then", "diagnosis": "back\\\\slash"}',
    '{"comment": "é漢😀", "diagnosis": "\\ud800 lone", "confidence": 1e21}',
    '{"comment": true, "diagnosis": false, "confidence": null, "tags": []}',
    '{"10": "ten", "2": "two", "b": 1, "a": 2, "01": "lead"}',
    '{"k\\"ey": "v", "k,ey": "w", "__proto__": "own"}',
    '{"tags": ["a", ["b"]], "extra": {"k": 1}}',
    '{"tags": [1, "x", null]}',
    '{}',
    '[1, "a"]',
    '["a", "b"]',
    '"text"',
    'null',
    '12.5',
  ];
  const columns = [
    'seq',
    'q_diagnosis',
    'q_confidence',
    'q_comment',
    'q_tags',
    'q_10',
    'q___proto__',
    'other',
    'answers',
  ];

  it("V3 and quoting: answersTailWriter writes csvRows's bytes for every kind of answers", () => {
    const tail = answersTailWriter(columns, 1);
    for (const text of samples) {
      const answers = JSON.parse(text) as Cell;
      const expected = csvRows(columns, [{ cursor: '1', cells: { seq: '1', answers } }]);
      expect(`1${tail(answers)}`, text).toBe(expected);
    }
  });
});
