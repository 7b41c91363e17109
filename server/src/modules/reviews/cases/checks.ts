// Checks of an uploaded case set beyond what a JSON schema can say, shared by the JSON and the
// CSV upload (V1): each case's tree is walked once for its bounds (depth, fan-out, node count,
// key and text rules — the CSV path has no schema in front of it), unique sibling keys, and the
// de-identification guard; external ids must be unique in the upload. Every problem is
// collected with where it is (a JSON path, or a CSV line and column), up to a bound, so one
// answer lists what to fix.
import type { FieldError } from '../../../platform/errors.js';
import { HavenError } from '../../../platform/errors.js';
import {
  createNodeInspector,
  identifierInText,
  type NodeInspector,
  type NodePart,
} from '../shared/deidentify.js';
import {
  CASE_LIMITS,
  LINE_PATTERN,
  NODE_KEY_PATTERN,
  TEXT_PATTERN,
  type CaseNode,
} from '../shared/schemas.js';

/** The most problems one answer lists (the problem renderer shows at most 50). */
export const MAX_UPLOAD_ERRORS = 50;

const LINE = new RegExp(LINE_PATTERN);
const TEXT = new RegExp(TEXT_PATTERN);
const KEY = new RegExp(NODE_KEY_PATTERN);

/** Length as PostgreSQL and the schema's maxLength count it: in code points. */
const codePoints = (value: string): number => Array.from(value).length;

export interface CaseDraft {
  readonly externalId: string;
  readonly tree: CaseNode[];
  readonly aiScore?: number | undefined;
  readonly aiExplanation?: string | undefined;
}

export type CasePart = 'externalId' | 'tree' | 'aiScore' | 'aiExplanation';

/** Where a part of an upload is, as the error's `field`: a JSON path, or a CSV line and column. */
export interface UploadLocator {
  node(caseIndex: number, indexPath: readonly number[], node: CaseNode, part: NodePart): string;
  caseField(caseIndex: number, part: CasePart): string;
}

/** The problems of one upload, bounded; `count` keeps counting past the bound. */
export class UploadErrors {
  readonly list: FieldError[] = [];
  count = 0;
  add(field: string, message: string): void {
    this.count++;
    if (this.list.length < MAX_UPLOAD_ERRORS) this.list.push({ field, message });
  }
  get full(): boolean {
    return this.list.length >= MAX_UPLOAD_ERRORS;
  }
  throwIfAny(): void {
    const first = this.list[0];
    if (!first) return;
    const more = this.count > this.list.length ? ` (the first ${this.list.length} are listed)` : '';
    throw new HavenError(
      'VALIDATION_FAILED',
      `Nothing was imported: ${this.count} problem${this.count === 1 ? '' : 's'} found${more}. First: ${first.field}: ${first.message}`,
      { errors: this.list },
    );
  }
}

/** JSON locations: `cases.3.tree.0.children.2.value`. */
export const jsonLocator: UploadLocator = {
  node: (caseIndex, indexPath, _node, part) =>
    `cases.${caseIndex}.tree.${indexPath.join('.children.')}.${part}`,
  caseField: (caseIndex, part) => `cases.${caseIndex}.${part}`,
};

/** Problems of one text property, or undefined when it is fine. */
function textProblem(
  value: string,
  rule: { pattern: RegExp; min: number; max: number; what: string },
): string | undefined {
  if (!rule.pattern.test(value)) return `must not contain control characters`;
  if (value.length < rule.min) return 'must not be empty';
  // UTF-16 length is never below the code point count: only a long text needs counting.
  const tooLong = value.length > rule.max && codePoints(value) > rule.max;
  return tooLong ? `must be at most ${rule.max} characters (${rule.what})` : undefined;
}

function checkNodeShape(node: CaseNode, report: (part: NodePart, message: string) => void): void {
  if (!KEY.test(node.key) || node.key.length > CASE_LIMITS.keyLength) {
    report(
      'key',
      `must be 1–${CASE_LIMITS.keyLength} letters, digits, "_", "-" or ".", starting with a letter or digit`,
    );
  }
  const label = textProblem(node.label, {
    pattern: LINE,
    min: 1,
    max: CASE_LIMITS.labelLength,
    what: 'a label',
  });
  if (label) report('label', label);
  const { value } = node;
  if (typeof value === 'string') {
    const problem = textProblem(value, {
      pattern: TEXT,
      min: 0,
      max: CASE_LIMITS.valueLength,
      what: 'a value',
    });
    if (problem) report('value', problem);
  } else if (typeof value === 'number' && !Number.isFinite(value)) {
    report('value', 'must be a finite number');
  }
  if (node.unit !== undefined) {
    const unit = textProblem(node.unit, {
      pattern: LINE,
      min: 0,
      max: CASE_LIMITS.unitLength,
      what: 'a unit',
    });
    if (unit) report('unit', unit);
  }
}

/**
 * Walks one case's tree: bounds, unique sibling keys and the de-identification guard. Returns
 * the node count (which may exceed the limit; the caller refuses that).
 */
function checkTree(
  caseIndex: number,
  tree: readonly CaseNode[],
  check: { at: UploadLocator; errors: UploadErrors; inspect: NodeInspector },
): number {
  const { at, errors, inspect } = check;
  let nodes = 0;
  // One path array for the whole walk (pushed and popped), copied only when a problem is reported.
  const path: number[] = [];
  const visit = (siblings: readonly CaseNode[], level: number): void => {
    const seen = new Set<string>();
    for (const [index, node] of siblings.entries()) {
      nodes++;
      path.push(index);
      const report = (part: NodePart, message: string) =>
        errors.add(at.node(caseIndex, [...path], node, part), message);
      if (level > CASE_LIMITS.depth) {
        report('key', `is deeper than ${CASE_LIMITS.depth} levels`);
      } else if (index >= CASE_LIMITS.children) {
        report('key', `is child number ${index + 1}; a node has at most ${CASE_LIMITS.children}`);
      } else {
        if (seen.has(node.key)) report('key', 'repeats the key of an earlier sibling');
        seen.add(node.key);
        checkNodeShape(node, report);
        for (const finding of inspect(node)) report(finding.part, finding.message);
        if (node.children && node.children.length > 0 && !errors.full) {
          visit(node.children, level + 1);
        }
      }
      path.pop();
    }
  };
  visit(tree, 1);
  return nodes;
}

/**
 * Checks every case of an upload and returns each one's node count; the problems are in
 * `errors` (the caller throws them, after adding those only the database can find).
 */
export function checkCases(
  cases: readonly CaseDraft[],
  at: UploadLocator,
  errors: UploadErrors,
): number[] {
  const firstIndexOf = new Map<string, number>();
  const counts: number[] = [];
  const inspect = createNodeInspector();
  for (const [caseIndex, draft] of cases.entries()) {
    const externalId = textProblem(draft.externalId, {
      pattern: LINE,
      min: 1,
      max: CASE_LIMITS.externalIdLength,
      what: 'an external id',
    });
    const idIdentifier = externalId ?? identifierInText(draft.externalId);
    if (idIdentifier) errors.add(at.caseField(caseIndex, 'externalId'), idIdentifier);
    const first = firstIndexOf.get(draft.externalId);
    if (first === undefined) {
      firstIndexOf.set(draft.externalId, caseIndex);
    } else {
      errors.add(
        at.caseField(caseIndex, 'externalId'),
        `repeats the external id of ${at.caseField(first, 'externalId')}`,
      );
    }
    if (draft.aiScore !== undefined && !(draft.aiScore >= 0 && draft.aiScore <= 1)) {
      errors.add(at.caseField(caseIndex, 'aiScore'), 'must be a number from 0 to 1');
    }
    if (draft.aiExplanation !== undefined) {
      const problem =
        textProblem(draft.aiExplanation, {
          pattern: TEXT,
          min: 0,
          max: CASE_LIMITS.aiExplanationLength,
          what: 'an AI explanation',
        }) ?? identifierInText(draft.aiExplanation);
      if (problem) errors.add(at.caseField(caseIndex, 'aiExplanation'), problem);
    }
    if (draft.tree.length === 0) {
      errors.add(at.caseField(caseIndex, 'tree'), 'must hold at least one section');
    }
    const nodes = checkTree(caseIndex, draft.tree, { at, errors, inspect });
    if (nodes > CASE_LIMITS.nodes) {
      errors.add(
        at.caseField(caseIndex, 'tree'),
        `has more than ${CASE_LIMITS.nodes.toLocaleString('en-US')} nodes; a case holds at most that many`,
      );
    }
    counts.push(nodes);
    if (errors.full) break;
  }
  return counts;
}
