// The de-identification guard on its own (V1/de-identification): every kind of direct identifier
// the issue names is refused with its path and a message naming the kind, through the log
// masker's detector; ordinary clinical values pass. The upload routes' tests prove the guard
// is applied to every case, label and AI explanation (cases/cases.security.test.ts).
import { describe, expect, it } from 'vitest';
import { maskText } from '../../../platform/masking.js';
import { identifierInText, identifiersInNode, identifiersInTree } from './deidentify.js';
import type { CaseNode } from './schemas.js';

describe('V1/de-identification: the guard', () => {
  it.each([
    [
      'an email address',
      'Contact jane.doe@example.org for follow-up',
      'looks like an email address',
    ],
    ['a phone number', 'Call (555) 123-4567', 'looks like a phone number'],
    ['an international phone number', '+44 20 7946 0958', 'looks like a phone number'],
    ['a social security number', '123-45-6789', 'looks like a social security number'],
    ['a medical record number', 'MRN 0048213', 'looks like a medical record number'],
    ['an exact birth date', 'DOB 1961-04-12', 'looks like an exact birth date'],
    ['a birth date in words', 'born on 04/12/1961', 'looks like an exact birth date'],
    ['a name after "name:"', 'Patient name: Jane Doe', "looks like a person's name"],
    ['a street address', 'Lives at 42 Baker Street', 'looks like a street address'],
  ])('refuses %s and names its kind', (_kind, text, message) => {
    expect(identifierInText(text)).toBe(`${message}; cases must be de-identified`);
  });

  it.each([
    '38.9',
    '112',
    'Cough for three days',
    'Crackles at the right base; no wheeze',
    '1961',
    '64',
    'Admitted 2024-03-01, discharged 2024-03-05',
    'WBC 14.2 x10^9/L',
    'BP 142/88',
    'SpO2 91% on room air',
    'Follow-up in 2 weeks',
    'Amoxicillin 500 mg three times a day',
  ])('lets the clinical text %j pass', (text) => {
    expect(identifierInText(text)).toBeUndefined();
  });

  it('refuses any value in a field the masker classifies as personal data, by key or by label', () => {
    for (const node of [
      { key: 'patient_name', label: 'Patient', value: 'Jane Doe' },
      { key: 'pt', label: 'Full name', value: 'Jane Doe' },
      { key: 'email', label: 'Contact', value: 'not-an-address' },
      { key: 'phone', label: 'Phone', value: 5551234 },
      { key: 'mrn', label: 'Record', value: 'A-77' },
      { key: 'ssn', label: 'SSN', value: '000' },
      { key: 'home_address', label: 'Home', value: 'Flat 3' },
      { key: 'dob', label: 'DOB', value: '1961' },
    ] satisfies CaseNode[]) {
      const findings = identifiersInNode(node);
      expect(findings, node.key).toEqual([
        { part: 'value', message: expect.stringContaining(`the field "${node.key}"`) },
      ]);
    }
  });

  it('lets empty, boolean and null values stand in name-like fields, and a birth year in its own field', () => {
    expect(identifiersInNode({ key: 'patient_name', label: 'Patient name', value: '' })).toEqual(
      [],
    );
    expect(identifiersInNode({ key: 'email', label: 'Email', value: null })).toEqual([]);
    expect(identifiersInNode({ key: 'phone', label: 'Phone on file', value: true })).toEqual([]);
    expect(identifiersInNode({ key: 'birth_year', label: 'Year of birth', value: 1961 })).toEqual(
      [],
    );
    expect(identifiersInNode({ key: 'age', label: 'Age', value: 64, unit: 'years' })).toEqual([]);
    expect(
      identifiersInNode({ key: 'admission_date', label: 'Admitted', value: '2024-03-01' }),
    ).toEqual([]);
  });

  it('checks labels and units too, and reports each node by its JSON path', () => {
    const tree: CaseNode[] = [
      {
        key: 'vitals',
        label: 'Vital signs',
        children: [
          { key: 'heart_rate', label: 'Heart rate', value: 112, unit: 'bpm' },
          { key: 'note', label: 'Note', value: 'Reach her at jane@example.org' },
        ],
      },
      {
        key: 'history',
        label: 'Seen by Dr X, 555-123-4567',
        children: [{ key: 'x', label: 'X', value: 1, unit: 'SSN 123-45-6789' }],
      },
    ];
    expect(identifiersInTree(tree, 'cases.0.tree')).toEqual([
      { field: 'cases.0.tree.0.children.1.value', message: expect.stringContaining('email') },
      { field: 'cases.0.tree.1.label', message: expect.stringContaining('phone number') },
      {
        field: 'cases.0.tree.1.children.0.unit',
        message: expect.stringContaining('social security number'),
      },
    ]);
  });

  it('uses the log masker’s own rules: whatever it refuses, the log masker masks', () => {
    for (const text of [
      'jane.doe@example.org',
      '(555) 123-4567',
      '123-45-6789',
      'MRN 0048213',
      'DOB 1961-04-12',
      '42 Baker Street',
      'name: Jane',
    ]) {
      expect(identifierInText(text), text).toBeDefined();
      expect(maskText(text), text).not.toBe(text);
    }
  });
});
