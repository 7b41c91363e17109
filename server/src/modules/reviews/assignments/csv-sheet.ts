// An assignment sheet in AugMed's columns (pure: no database). One line per (participant, case,
// feature path): `participant_email,case_id,path,collapse,highlight,top`, plus the optional
// `show_ai_score`, `hidden` and `arm`. The lines of one participant and case build one display
// configuration; a line with an empty path assigns the case with no feature settings.
//
// csv-parse does the CSV itself (quoting, CRLF, a byte order mark, a bounded record size) and
// reports the line of a malformed record; this file turns cells into typed values, naming the
// line and column of every bad cell (`line 12: top`). Nothing here is written anywhere: the
// service resolves the sheet against the study and writes all of it or nothing.
import { CsvError, parse } from 'csv-parse/sync';
import { HavenError } from '../../../platform/errors.js';
import { FieldErrors } from '../../../platform/text.js';
import { CASE_LIMITS, FEATURE_PATH_PATTERN, type FeatureDisplayView } from '../shared/schemas.js';
import { MAX_BATCH_ASSIGNMENTS, MAX_CSV_ROWS } from './schemas.js';

const REQUIRED_COLUMNS = [
  'participant_email',
  'case_id',
  'path',
  'collapse',
  'highlight',
  'top',
] as const;
const OPTIONAL_COLUMNS = ['show_ai_score', 'hidden', 'arm'] as const;
type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];
const KNOWN_COLUMNS: ReadonlySet<string> = new Set([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);

/** A record longer than this is refused with its line, long before it could fill memory. */
const MAX_RECORD_BYTES = 64 * 1024;
const MAX_EMAIL = 254;
/** Reading stops after this many problems: a wholly wrong sheet is not worth a longer report. */
export const MAX_REPORTED_PROBLEMS = 1000;
const FEATURE_PATH = new RegExp(FEATURE_PATH_PATTERN);
const TOP = /^[0-9]{1,4}$/;
const TRUE_WORDS: ReadonlySet<string> = new Set(['true', 'yes', '1']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', 'no', '0']);

/** A cell's value with the line it came from, to name it when it clashes with another line. */
interface Sourced<T> {
  readonly value: T;
  readonly line: number;
}

export interface SheetFeature extends FeatureDisplayView {
  readonly line: number;
}

/** One assignment the sheet asks for, before its participant, case and arm are looked up. */
export interface SheetAssignment {
  /** The first line naming this participant and case. */
  readonly line: number;
  /** As identity stores it (trimmed, lower case): the way accounts are looked up by email. */
  readonly email: string;
  readonly caseExternalId: string;
  readonly features: SheetFeature[];
  showAiScore: Sourced<boolean> | undefined;
  arm: Sourced<string> | undefined;
}

interface Row {
  readonly line: number;
  readonly cells: string[];
}

/** csv-parse's refusals, said for a researcher. */
function describeCsvError(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted cell is never closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return 'text follows the closing quote of a cell';
    case 'CSV_MAX_RECORD_SIZE':
      return `the row is longer than ${MAX_RECORD_BYTES / 1024} KB`;
    default:
      // INVALID_OPENING_QUOTE (csv-parse names it without the CSV_ prefix) and anything else.
      return String(error.code) === 'INVALID_OPENING_QUOTE'
        ? 'a quote appears inside an unquoted cell; quote the whole cell and double inner quotes'
        : 'the row is not valid CSV';
  }
}

function readRows(sheet: string): string[][] {
  try {
    return parse(sheet, {
      bom: true,
      columns: false,
      relax_quotes: false,
      // Cell counts and empty lines are checked below, where each record's line is known.
      relax_column_count: true,
      skip_empty_lines: false,
      max_record_size: MAX_RECORD_BYTES,
      // The header, the most rows allowed, and one more to notice a sheet that is too long
      // without parsing the rest of it.
      to: MAX_CSV_ROWS + 2,
    });
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      const field = typeof line === 'number' ? `line ${line}` : 'sheet';
      throw new HavenError(
        'VALIDATION_FAILED',
        'The sheet is not valid CSV; nothing was written.',
        {
          errors: [{ field, message: describeCsvError(error) }],
        },
      );
    }
    throw error;
  }
}

/** Where each column is, from the header; a missing, repeated or unknown column is a 400. */
/**
 * The sheet's records with their line numbers. No cell of an assignment sheet holds a line
 * break, so record i is line i + 1; the first record that does break a line is refused before
 * any numbering could drift. (Asking csv-parse for each record's line costs as much again as
 * the parse itself on a 100,000-line sheet.)
 */
function numberRows(records: readonly string[][]): Row[] {
  const rows: Row[] = [];
  for (let index = 0; index < records.length; index += 1) {
    const cells = records[index]!;
    const line = index + 1;
    if (cells.some((cell) => cell.includes('\n') || cell.includes('\r'))) {
      throw new HavenError('VALIDATION_FAILED', 'The sheet is not valid; nothing was written.', {
        errors: [
          { field: `line ${line}`, message: 'a cell holds a line break; one line is one row' },
        ],
      });
    }
    if (cells.length === 1 && cells[0] === '') continue;
    rows.push({ line, cells });
  }
  return rows;
}

function readHeader(header: Row): Map<Column, number> {
  const errors = new FieldErrors();
  const columns = new Map<Column, number>();
  header.cells.forEach((cell, index) => {
    const name = cell.trim().toLowerCase();
    const at = `line ${header.line}: column ${index + 1}`;
    if (!KNOWN_COLUMNS.has(name)) {
      errors.add(at, `is not a column of an assignment sheet (${[...KNOWN_COLUMNS].join(', ')})`);
    } else if (columns.has(name as Column)) {
      errors.add(at, `repeats the column ${name}`);
    } else {
      columns.set(name as Column, index);
    }
  });
  for (const name of REQUIRED_COLUMNS) {
    if (!columns.has(name)) errors.add(`line ${header.line}: ${name}`, 'the column is missing');
  }
  errors.throwIfAny();
  return columns;
}

function readBoolean(
  errors: FieldErrors,
  line: number,
  column: string,
  cell: string,
): boolean | undefined {
  const word = cell.trim().toLowerCase();
  if (word === '') return undefined;
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  errors.add(`line ${line}: ${column}`, 'must be true, false, yes, no, 1, 0 or empty');
  return undefined;
}

function readTop(errors: FieldErrors, line: number, cell: string): number | undefined {
  const text = cell.trim();
  if (text === '') return undefined;
  const top = TOP.test(text) ? Number(text) : NaN;
  if (!(top >= 1 && top <= 1000)) {
    errors.add(`line ${line}: top`, 'must be a whole number from 1 to 1000, or empty');
    return undefined;
  }
  return top;
}

/** Keeps one value per assignment; a line giving a different one is named. */
function agree<T>(
  errors: FieldErrors,
  current: Sourced<T> | undefined,
  next: Sourced<T> | undefined,
  column: string,
): Sourced<T> | undefined {
  if (next === undefined) return current;
  if (current === undefined) return next;
  if (current.value !== next.value) {
    errors.add(
      `line ${next.line}: ${column}`,
      `differs from line ${current.line} for the same participant and case`,
    );
  }
  return current;
}

function addFeature(errors: FieldErrors, assignment: SheetAssignment, feature: SheetFeature) {
  const samePath = assignment.features.find((other) => other.path === feature.path);
  if (samePath) {
    errors.add(
      `line ${feature.line}: path`,
      `repeats line ${samePath.line} for the same participant and case`,
    );
    return;
  }
  const sameTop =
    feature.top === undefined
      ? undefined
      : assignment.features.find((other) => other.top === feature.top);
  if (sameTop) {
    errors.add(
      `line ${feature.line}: top`,
      `repeats the top of line ${sameTop.line} for the same participant and case`,
    );
    return;
  }
  if (assignment.features.length >= CASE_LIMITS.nodes) {
    errors.add(`line ${feature.line}: path`, `a case has at most ${CASE_LIMITS.nodes} features`);
    return;
  }
  assignment.features.push(feature);
}

/**
 * The assignments a sheet asks for, in the order their participant and case first appear, or a
 * 400 naming every bad line and cell (the sheet itself, before anything is looked up).
 */
export function readAssignmentSheet(sheet: string): SheetAssignment[] {
  const rows = numberRows(readRows(sheet));
  const [header, ...lines] = rows;
  if (!header) {
    throw new HavenError('VALIDATION_FAILED', 'The sheet is empty.', {
      errors: [{ field: 'line 1', message: `needs the header ${REQUIRED_COLUMNS.join(',')}` }],
    });
  }
  if (lines.length > MAX_CSV_ROWS) {
    throw new HavenError(
      'VALIDATION_FAILED',
      `A sheet has at most ${MAX_CSV_ROWS.toLocaleString('en')} lines; split it into several uploads.`,
      { errors: [{ field: `line ${lines[MAX_CSV_ROWS]!.line}`, message: 'is past the limit' }] },
    );
  }
  const columns = readHeader(header);
  const cellOf = (row: Row, column: Column): string => {
    const index = columns.get(column);
    return index === undefined ? '' : (row.cells[index] ?? '');
  };
  const errors = new FieldErrors();
  const byKey = new Map<string, SheetAssignment>();
  for (const row of lines) {
    if (errors.list.length >= MAX_REPORTED_PROBLEMS) break;
    const { line } = row;
    if (row.cells.length !== header.cells.length) {
      errors.add(
        `line ${line}`,
        `has ${row.cells.length} cells; the header has ${header.cells.length}`,
      );
      continue;
    }
    const email = cellOf(row, 'participant_email').trim().toLowerCase();
    const caseExternalId = cellOf(row, 'case_id').trim();
    const path = cellOf(row, 'path').trim();
    let usable = true;
    if (email === '' || email.length > MAX_EMAIL) {
      errors.add(
        `line ${line}: participant_email`,
        `must be an email of at most ${MAX_EMAIL} characters`,
      );
      usable = false;
    }
    if (caseExternalId === '' || caseExternalId.length > CASE_LIMITS.externalIdLength) {
      errors.add(
        `line ${line}: case_id`,
        `must be a case id of at most ${CASE_LIMITS.externalIdLength} characters`,
      );
      usable = false;
    }
    if (path !== '' && !FEATURE_PATH.test(path)) {
      errors.add(`line ${line}: path`, 'must be a feature path: node keys joined by /');
      usable = false;
    }
    const collapsed = readBoolean(errors, line, 'collapse', cellOf(row, 'collapse'));
    const highlighted = readBoolean(errors, line, 'highlight', cellOf(row, 'highlight'));
    const hidden = readBoolean(errors, line, 'hidden', cellOf(row, 'hidden'));
    const showAiScore = readBoolean(errors, line, 'show_ai_score', cellOf(row, 'show_ai_score'));
    const top = readTop(errors, line, cellOf(row, 'top'));
    const arm = cellOf(row, 'arm').trim();
    if (arm.length > 120) {
      errors.add(`line ${line}: arm`, 'must be an arm name or id of at most 120 characters');
      usable = false;
    }
    const setsFeature =
      collapsed !== undefined ||
      highlighted !== undefined ||
      hidden !== undefined ||
      top !== undefined;
    if (path === '' && setsFeature) {
      errors.add(
        `line ${line}: path`,
        'is empty, but the line sets collapse, highlight, hidden or top',
      );
      usable = false;
    }
    if (!usable) continue;
    const key = `${email}\u0000${caseExternalId}`;
    let assignment = byKey.get(key);
    if (!assignment) {
      if (byKey.size >= MAX_BATCH_ASSIGNMENTS) {
        errors.add(
          `line ${line}`,
          `one upload creates at most ${MAX_BATCH_ASSIGNMENTS.toLocaleString('en')} assignments`,
        );
        break;
      }
      assignment = {
        line,
        email,
        caseExternalId,
        features: [],
        showAiScore: undefined,
        arm: undefined,
      };
      byKey.set(key, assignment);
    }
    assignment.showAiScore = agree(
      errors,
      assignment.showAiScore,
      showAiScore === undefined ? undefined : { value: showAiScore, line },
      'show_ai_score',
    );
    assignment.arm = agree(
      errors,
      assignment.arm,
      arm === '' ? undefined : { value: arm, line },
      'arm',
    );
    if (path !== '') {
      const feature: SheetFeature = {
        line,
        path,
        ...(hidden !== undefined ? { hidden } : {}),
        ...(collapsed !== undefined ? { collapsed } : {}),
        ...(highlighted !== undefined ? { highlighted } : {}),
        ...(top !== undefined ? { top } : {}),
      };
      addFeature(errors, assignment, feature);
    }
  }
  if (lines.length === 0) {
    errors.add(`line ${header.line + 1}`, 'the sheet has a header but no assignments');
  }
  throwUploadErrors(errors);
  return [...byKey.values()];
}

/** One 400 listing the problems (the first 50 travel with the answer); nothing was written. */
export function throwUploadErrors(errors: FieldErrors): void {
  const count = errors.list.length;
  if (count === 0) return;
  const first = errors.list[0]!;
  throw new HavenError(
    'VALIDATION_FAILED',
    count === 1
      ? `${first.field}: ${first.message}. Nothing was written.`
      : `${count >= MAX_REPORTED_PROBLEMS ? 'At least ' : ''}${count.toLocaleString('en')} problems, the first: ${first.field}: ${first.message}. Nothing was written.`,
    { errors: errors.list },
  );
}
