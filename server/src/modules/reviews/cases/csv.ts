// The CSV case file (V1): `case_id,path,label,value,unit,ai_score,ai_explanation`, a header row
// first, one row per node of a case's tree (usually a feature value). csv-parse reads the rows
// (quoting, CRLF or LF, a byte order mark, oversized rows: each refused with its line); this file
// turns them into case trees and remembers which line made each node, so the checks shared with
// the JSON upload (checks.ts) report problems as `line 12: value`. A row is named by the line it
// ends on, as csv-parse counts lines (a quoted cell may span several).
//
// Building the tree from paths: `vitals/heart_rate` makes the section `vitals` and its feature
// `heart_rate`. A node no row names itself (an intermediate section) is labelled from its key
// ("heart_rate" → "Heart rate"); a row for that path may give it a label, value and unit instead,
// before or after its children's rows. Rows of a case need not be adjacent; cases and nodes keep
// the order of their first row.
//
// Values: a cell holding a canonical decimal number ("38.9", "-2", "112", not "007" or "1.50",
// which would not survive a round trip) becomes a number; "true" and "false" become booleans; an
// empty cell means the node has no value; anything else stays text as written.
import { CsvError, parse } from 'csv-parse/sync';
import { HavenError } from '../../../platform/errors.js';
import type { NodePart } from '../shared/deidentify.js';
import { CASE_LIMITS, NODE_KEY_PATTERN, type CaseNode } from '../shared/schemas.js';
import type { CaseDraft, CasePart, UploadErrors, UploadLocator } from './checks.js';
import { MAX_CASES_PER_UPLOAD } from './schemas.js';

const COLUMNS = [
  'case_id',
  'path',
  'label',
  'value',
  'unit',
  'ai_score',
  'ai_explanation',
] as const;
type Column = (typeof COLUMNS)[number];
const REQUIRED: readonly Column[] = ['case_id', 'path', 'value'];

/**
 * The longest row accepted, in characters: every cell at its limit with quotes doubled fits
 * (a 2,000-character value, a 1,000-character explanation, a 390-character path …). A longer
 * row (a 10 MB line) stops the parser at once instead of being buffered.
 */
export const MAX_ROW_CHARS = 16 * 1024;

const KEY = new RegExp(NODE_KEY_PATTERN);
const CANONICAL_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;

/** The cell as a node value; undefined for an empty cell. */
export function cellValue(cell: string): string | number | boolean | undefined {
  if (cell === '') return undefined;
  if (cell === 'true') return true;
  if (cell === 'false') return false;
  if (CANONICAL_NUMBER.test(cell)) {
    const number = Number(cell);
    if (Number.isFinite(number) && String(number) === cell) return number;
  }
  return cell;
}

/** "heart_rate" → "Heart rate": the label of a node no row labels. */
export function labelFromKey(key: string): string {
  const words = key.replace(/[_.-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const CSV_PROBLEMS: Readonly<Record<string, string>> = Object.freeze({
  CSV_QUOTE_NOT_CLOSED: 'a quoted cell is never closed',
  CSV_INVALID_CLOSING_QUOTE:
    'a quote inside a cell must be doubled ("") and the whole cell put in quotes',
  CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: 'does not have as many cells as the header row',
  CSV_RECORD_INCONSISTENT_COLUMNS: 'does not have as many cells as the header row',
  CSV_MAX_RECORD_SIZE: `is longer than ${MAX_ROW_CHARS.toLocaleString('en-US')} characters`,
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE:
    'has text after a closing quote; a quote inside a cell must be doubled ("")',
});

interface Row {
  readonly line: number;
  readonly cells: string[];
}

function parseRows(text: string): Row[] {
  try {
    const records = parse(text, {
      bom: true,
      info: true,
      max_record_size: MAX_ROW_CHARS,
      record_delimiter: ['\r\n', '\n'],
      relax_column_count: false,
      relax_quotes: false,
      skip_empty_lines: true,
    }) as unknown as Array<{ info: { lines: number }; record: string[] }>;
    return records.map(({ info, record }) => ({ line: info.lines, cells: record }));
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = typeof error.lines === 'number' ? error.lines : 1;
    const problem = CSV_PROBLEMS[error.code] ?? 'is not valid CSV';
    throw new HavenError(
      'VALIDATION_FAILED',
      `The file is not valid CSV: line ${line} ${problem}.`,
      {
        errors: [{ field: `line ${line}`, message: problem }],
      },
    );
  }
}

/** Which cell holds which column, from the header row; refuses unknown, repeated or missing ones. */
function readHeader(header: Row): Map<Column, number> {
  const at = new Map<Column, number>();
  const errors: Array<{ field: string; message: string }> = [];
  for (const [index, raw] of header.cells.entries()) {
    const name = raw.trim().toLowerCase();
    const column = COLUMNS.find((c) => c === name);
    if (!column) {
      errors.push({
        field: `line ${header.line}: column ${index + 1}`,
        message: `is not a column of a case file; the columns are ${COLUMNS.join(', ')}`,
      });
    } else if (at.has(column)) {
      errors.push({ field: `line ${header.line}: ${column}`, message: 'appears twice' });
    } else {
      at.set(column, index);
    }
  }
  for (const column of REQUIRED) {
    if (!at.has(column)) {
      errors.push({ field: `line ${header.line}: ${column}`, message: 'the column is missing' });
    }
  }
  const first = errors[0];
  if (first) {
    throw new HavenError(
      'VALIDATION_FAILED',
      `The header row must name the columns (${COLUMNS.join(', ')}); ${first.field} ${first.message}.`,
      { errors },
    );
  }
  return at;
}

/** A node being built, and the lines that made it. */
interface Building {
  readonly node: CaseNode;
  readonly children: Map<string, Building>;
  /** The row that names this node's path, if any. */
  explicitLine: number | undefined;
  /** The first row that needed the node. */
  readonly line: number;
}

interface CaseBuilding {
  readonly externalId: string;
  readonly firstLine: number;
  readonly sections: Map<string, Building>;
  nodes: number;
  overflowLine: number | undefined;
  aiScore: { value: number; line: number } | undefined;
  aiExplanation: { value: string; line: number } | undefined;
}

const COLUMN_OF_PART: Readonly<Record<NodePart, Column>> = {
  key: 'path',
  label: 'label',
  value: 'value',
  unit: 'unit',
};

function toNode(building: Building): CaseNode {
  const children = [...building.children.values()].map(toNode);
  return children.length > 0 ? { ...building.node, children } : building.node;
}

/**
 * Parses a CSV case file into case drafts and the locator that names their lines. Problems of
 * single rows are added to `errors`; a file that is not CSV, or has no usable header, throws.
 */
export function readCaseFile(
  text: string,
  errors: UploadErrors,
): { drafts: CaseDraft[]; locator: UploadLocator } {
  const rows = parseRows(text);
  const [header, ...body] = rows;
  if (!header) {
    throw new HavenError(
      'VALIDATION_FAILED',
      'The file is empty; the first row must name the columns.',
      {
        errors: [{ field: 'line 1', message: `must name the columns: ${COLUMNS.join(', ')}` }],
      },
    );
  }
  const columns = readHeader(header);
  const cell = (row: Row, column: Column): string => {
    const index = columns.get(column);
    return index === undefined ? '' : (row.cells[index] ?? '');
  };
  const cases = new Map<string, CaseBuilding>();
  const lineOfNode = new WeakMap<CaseNode, Building>();
  const at = (line: number, column: Column) => `line ${line}: ${column}`;

  for (const row of body) {
    if (errors.full) break;
    const externalId = cell(row, 'case_id').trim();
    if (externalId === '') {
      errors.add(at(row.line, 'case_id'), 'must not be empty');
      continue;
    }
    let building = cases.get(externalId);
    if (!building) {
      if (cases.size >= MAX_CASES_PER_UPLOAD) {
        errors.add(
          at(row.line, 'case_id'),
          `starts case number ${cases.size + 1}; an upload holds at most ${MAX_CASES_PER_UPLOAD.toLocaleString('en-US')} cases`,
        );
        break;
      }
      building = {
        externalId,
        firstLine: row.line,
        sections: new Map(),
        nodes: 0,
        overflowLine: undefined,
        aiScore: undefined,
        aiExplanation: undefined,
      };
      cases.set(externalId, building);
    }
    readCaseColumns(building, row, cell, at, errors);

    const keys = cell(row, 'path').trim().split('/');
    if (keys.length > CASE_LIMITS.depth) {
      errors.add(at(row.line, 'path'), `is deeper than ${CASE_LIMITS.depth} levels`);
      continue;
    }
    if (keys.some((key) => !KEY.test(key) || key.length > CASE_LIMITS.keyLength)) {
      errors.add(
        at(row.line, 'path'),
        `must be keys joined by "/", each 1–${CASE_LIMITS.keyLength} letters, digits, "_", "-" or "."`,
      );
      continue;
    }
    let siblings = building.sections;
    let target: Building | undefined;
    for (const key of keys) {
      target = siblings.get(key);
      if (!target) {
        // A case already over the limit takes no more nodes: the check reports it once.
        if (building.nodes > CASE_LIMITS.nodes) break;
        building.nodes++;
        if (building.nodes > CASE_LIMITS.nodes) building.overflowLine ??= row.line;
        target = {
          node: { key, label: labelFromKey(key) },
          children: new Map(),
          explicitLine: undefined,
          line: row.line,
        };
        lineOfNode.set(target.node, target);
        siblings.set(key, target);
      }
      siblings = target.children;
    }
    if (!target || building.nodes > CASE_LIMITS.nodes) continue;
    if (target.explicitLine !== undefined) {
      errors.add(at(row.line, 'path'), `repeats the path of line ${target.explicitLine}`);
      continue;
    }
    target.explicitLine = row.line;
    const label = cell(row, 'label').trim();
    if (label !== '') target.node.label = label;
    const value = cellValue(cell(row, 'value'));
    if (value !== undefined) target.node.value = value;
    const unit = cell(row, 'unit').trim();
    if (unit !== '') target.node.unit = unit;
  }

  const list = [...cases.values()];
  const drafts: CaseDraft[] = list.map((building) => ({
    externalId: building.externalId,
    tree: [...building.sections.values()].map(toNode),
    ...(building.aiScore ? { aiScore: building.aiScore.value } : {}),
    ...(building.aiExplanation ? { aiExplanation: building.aiExplanation.value } : {}),
  }));
  // toNode copies nodes that have children; map the copies to their rows as well.
  const remember = (nodes: readonly CaseNode[], source: Map<string, Building>): void => {
    for (const node of nodes) {
      const origin = source.get(node.key);
      if (!origin) continue;
      lineOfNode.set(node, origin);
      if (node.children) remember(node.children, origin.children);
    }
  };
  list.forEach((building, index) => remember(drafts[index]?.tree ?? [], building.sections));

  const locator: UploadLocator = {
    node: (_caseIndex, _indexPath, node, part) => {
      const origin = lineOfNode.get(node);
      const line = origin ? (origin.explicitLine ?? origin.line) : 1;
      // A node no row names was made from a row's path: the path is what to fix.
      const column = origin?.explicitLine === undefined ? 'path' : COLUMN_OF_PART[part];
      return at(line, column);
    },
    caseField: (caseIndex, part: CasePart) => {
      const building = list[caseIndex];
      if (!building) return 'line 1';
      if (part === 'aiScore') return at(building.aiScore?.line ?? building.firstLine, 'ai_score');
      if (part === 'aiExplanation') {
        return at(building.aiExplanation?.line ?? building.firstLine, 'ai_explanation');
      }
      if (part === 'tree') return at(building.overflowLine ?? building.firstLine, 'path');
      return at(building.firstLine, 'case_id');
    },
  };
  return { drafts, locator };
}

/** The AI score and explanation of a case may be given on any of its rows, once (or the same). */
function readCaseColumns(
  building: CaseBuilding,
  row: Row,
  cell: (row: Row, column: Column) => string,
  at: (line: number, column: Column) => string,
  errors: UploadErrors,
): void {
  const score = cell(row, 'ai_score').trim();
  if (score !== '') {
    const value = CANONICAL_NUMBER.test(score) ? Number(score) : Number.NaN;
    if (!(value >= 0 && value <= 1)) {
      errors.add(at(row.line, 'ai_score'), 'must be a number from 0 to 1, such as 0.72');
    } else if (building.aiScore && building.aiScore.value !== value) {
      errors.add(at(row.line, 'ai_score'), `differs from line ${building.aiScore.line}`);
    } else {
      building.aiScore ??= { value, line: row.line };
    }
  }
  const explanation = cell(row, 'ai_explanation');
  if (explanation.trim() !== '') {
    if (building.aiExplanation && building.aiExplanation.value !== explanation) {
      errors.add(
        at(row.line, 'ai_explanation'),
        `differs from line ${building.aiExplanation.line}`,
      );
    } else {
      building.aiExplanation ??= { value: explanation, line: row.line };
    }
  }
}
