// Issue 15: every catalogue control the security map claims is removed in turn by `npm run
// mutation`. These checks run with the ordinary suite so the mutants cannot rot between
// mutation runs: each still finds its one place in the code, and the map lists them all.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mapRows, rowControls, withRemovalColumn } from '../../../scripts/mutation/map.js';
import { MUTANTS } from '../../../scripts/mutation/mutants.js';
import { checkMutantsApply } from '../../../scripts/mutation/run.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAP = readFileSync(path.join(ROOT, 'docs/security.md'), 'utf8');

/** Table cells compared without prettier's alignment. */
const unpadded = (text: string): string =>
  text
    .split('\n')
    .map((line) =>
      line.startsWith('|') ? line.replace(/ +/g, ' ').replace(/-{3,}/g, '---') : line,
    )
    .join('\n');

describe('mutation run (issue 15)', () => {
  it('every mutant still names exactly one place in the code and existing test files', () => {
    expect(checkMutantsApply(MUTANTS)).toEqual([]);
  });

  it('the security map lists, for every control, the mutants that remove it and the tests that catch them', () => {
    expect(
      unpadded(MAP),
      'docs/security.md differs from scripts/mutation/mutants.ts: run `npm run mutation -- --write-map`',
    ).toBe(unpadded(withRemovalColumn(MAP, MUTANTS)));
  });

  it('every control the map says is built has at least one mutant; none names a control the map lacks', () => {
    const rows = mapRows(MAP);
    const built = rows
      .filter(([, enforced]) => !enforced.includes('not yet built'))
      .flatMap(([id]) => rowControls(id));
    // The map really was read: the catalogue has more than thirty built controls.
    expect(built.length).toBeGreaterThan(30);
    const mutated = new Set(MUTANTS.map((mutant) => mutant.control));
    expect(built.filter((control) => !mutated.has(control))).toEqual([]);
    const mapped = new Set(rows.flatMap(([id]) => rowControls(id)));
    expect([...mutated].filter((control) => !mapped.has(control))).toEqual([]);
  });
});
