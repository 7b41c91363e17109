// The de-identification guard (issue 10): a case tree may not carry a direct identifier. It asks
// the log masker's own detector (platform/masking.ts) instead of keeping a second set of rules,
// so whatever the logs would mask as personal data a case upload refuses, and a rule added
// there protects both. There is deliberately no switch to turn it off.
//
// What is refused, with the node's path and the kind of identifier (never the value itself):
// - any non-empty value in a field whose key or label the masker classifies as personal data
//   (`patient_name`, "Full name", `email`, `phone`, `mrn`, `ssn`, `address`, `dob`, `zip`, …);
// - text anywhere in a node (key, label, value, unit), in the AI explanation or in the external
//   id that matches one of the masker's PII rules: emails, phone numbers, SSN- and MRN-like ids,
//   dates introduced as a birth date ("DOB 1961-04-12"), "name: …" and street addresses.
//
// What passes, on purpose: clinical numbers with units ("38.9", "112 bpm"), ages ("64"), a year
// of birth ("1961" in a `birth_year` field), and dates that are not said to be birth dates (an
// admission or lab date): the issue asks for exact birth dates, and studies commonly keep shifted
// clinical dates, which a rule on every date would make impossible to load.
import { detectPiiInText, isPiiKeyName, type PiiKind } from '../../../platform/masking.js';
import type { FieldError } from '../../../platform/errors.js';
import type { CaseNode } from './schemas.js';

const KIND_MESSAGES: Readonly<Record<PiiKind, string>> = Object.freeze({
  email: 'looks like an email address',
  phone: 'looks like a phone number',
  ssn: 'looks like a social security number',
  mrn: 'looks like a medical record number',
  dob: 'looks like an exact birth date',
  pii: "looks like a person's name",
  address: 'looks like a street address',
});

/** Why the text looks like a direct identifier, or undefined when it does not. */
export function identifierInText(text: string): string | undefined {
  const kind = detectPiiInText(text);
  return kind && `${KIND_MESSAGES[kind]}; cases must be de-identified`;
}

/** The part of a node a finding is about. */
export type NodePart = 'key' | 'label' | 'value' | 'unit';

export interface NodeFinding {
  readonly part: NodePart;
  readonly message: string;
}

/** A value that says something: booleans and null cannot identify anyone, blank text neither. */
function hasContent(value: CaseNode['value']): value is string | number {
  if (typeof value === 'number') return true;
  return typeof value === 'string' && value.trim() !== '';
}

/** Remembers a function's answers for short texts, up to a bound (one upload's worth). */
function remembered<T>(work: (text: string) => T): (text: string) => T {
  const seen = new Map<string, T>();
  return (text) => {
    if (text.length > 200) return work(text);
    if (seen.has(text)) return seen.get(text) as T;
    const answer = work(text);
    if (seen.size < 100_000) seen.set(text, answer);
    return answer;
  };
}

/** Finds the direct identifiers of one node (children not included), by the part they are in. */
export type NodeInspector = (node: Pick<CaseNode, NodePart>) => NodeFinding[];

/**
 * A node inspector for one upload. The same keys, labels, units and many values repeat on every
 * case of a set, so its answers about them are remembered for the upload (and dropped with it):
 * a thousand cases cost little more than their distinct texts.
 */
export function createNodeInspector(): NodeInspector {
  const piiField = remembered(isPiiKeyName);
  const inText = remembered(identifierInText);
  return (node) => {
    const findings: NodeFinding[] = [];
    const { value } = node;
    if (hasContent(value)) {
      if (piiField(node.key) || piiField(node.label)) {
        findings.push({
          part: 'value',
          message: `the field "${node.key}" is a name, contact, record number, birth date or address field; cases must be de-identified, so it must stay empty`,
        });
      } else {
        const message = inText(String(value));
        if (message) findings.push({ part: 'value', message });
      }
    }
    for (const part of ['key', 'label', 'unit'] as const) {
      const text = node[part];
      const message = text === undefined ? undefined : inText(text);
      if (message) findings.push({ part, message });
    }
    return findings;
  };
}

/** Every direct identifier one node carries, by the part it is in (children not included). */
export function identifiersInNode(node: Pick<CaseNode, NodePart>): NodeFinding[] {
  return createNodeInspector()(node);
}

/**
 * Every identifier in a tree, as field errors at JSON paths below `at`
 * (`cases.0.tree.1.children.0.value`), at most `limit` of them.
 */
export function identifiersInTree(tree: readonly CaseNode[], at: string, limit = 50): FieldError[] {
  const errors: FieldError[] = [];
  const inspect = createNodeInspector();
  const visit = (nodes: readonly CaseNode[], path: string): void => {
    for (const [index, node] of nodes.entries()) {
      if (errors.length >= limit) return;
      const nodePath = `${path}.${index}`;
      for (const finding of inspect(node)) {
        if (errors.length < limit) {
          errors.push({ field: `${nodePath}.${finding.part}`, message: finding.message });
        }
      }
      if (node.children) visit(node.children, `${nodePath}.children`);
    }
  };
  visit(tree, at);
  return errors;
}
