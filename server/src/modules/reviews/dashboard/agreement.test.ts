// The agreement statistics against their textbook worked examples.
import { describe, expect, it } from 'vitest';
import { cohensKappa, fleissKappa, krippendorffAlphaNominal } from './agreement.js';

const counts = (row: readonly number[]) =>
  new Map(row.map((count, i) => [`c${i + 1}`, count] as const).filter(([, n]) => n > 0));

describe('agreement statistics', () => {
  it("Cohen's kappa: Wikipedia's 50 proposals (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no) give 0.4", () => {
    const kappa = cohensKappa([
      { first: 'yes', second: 'yes', count: 20 },
      { first: 'yes', second: 'no', count: 5 },
      { first: 'no', second: 'yes', count: 10 },
      { first: 'no', second: 'no', count: 15 },
    ]);
    expect(kappa.value).toBeCloseTo(0.4, 10);
  });

  it("Cohen's kappa: perfect agreement is 1; one category only is undefined with a reason", () => {
    expect(
      cohensKappa([
        { first: 'a', second: 'a', count: 3 },
        { first: 'b', second: 'b', count: 2 },
      ]).value,
    ).toBe(1);
    const uniform = cohensKappa([{ first: 'a', second: 'a', count: 4 }]);
    expect(uniform.value).toBeNull();
    expect(uniform.reason).toMatch(/one category/);
    expect(cohensKappa([]).reason).toMatch(/two participants/);
  });

  it("Fleiss' kappa: Fleiss (1971) / Wikipedia, 10 subjects × 14 raters × 5 categories gives 0.210", () => {
    const table = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    const kappa = fleissKappa(table.map(counts));
    expect(kappa.value).toBeCloseTo(0.20993, 4);
  });

  it("Fleiss' kappa refuses cases with different numbers of ratings, and empty input", () => {
    expect(fleissKappa([counts([2, 0]), counts([1, 2])]).value).toBeNull();
    expect(fleissKappa([]).value).toBeNull();
  });

  it("Fleiss' kappa with two raters equals Scott's pi on the same data", () => {
    // Two raters, 4 subjects: agree, agree, disagree, agree over categories a/b.
    const subjects = [
      new Map([['a', 2]]),
      new Map([['b', 2]]),
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
      new Map([['a', 2]]),
    ];
    // Scott's pi: Po = 3/4; pooled proportions a = 5/8, b = 3/8; Pe = 34/64.
    const pi = (0.75 - 34 / 64) / (1 - 34 / 64);
    expect(fleissKappa(subjects).value).toBeCloseTo(pi, 10);
  });

  it("Krippendorff's alpha (nominal): Krippendorff's 4 observers × 12 units example gives 0.743", () => {
    // Units 1–11 of the reliability data (unit 12 has one rating and is not pairable).
    const units = [
      { '1': 3 },
      { '2': 3, '3': 1 },
      { '3': 4 },
      { '3': 4 },
      { '2': 4 },
      { '1': 1, '2': 1, '3': 1, '4': 1 },
      { '4': 4 },
      { '1': 3, '2': 1 },
      { '2': 4 },
      { '5': 3 },
      { '1': 2 },
      { '3': 1 },
    ].map((unit) => new Map(Object.entries(unit)));
    const alpha = krippendorffAlphaNominal(units);
    expect(alpha.value).toBeCloseTo(0.743, 3);
  });

  it("Krippendorff's alpha is undefined without pairable ratings", () => {
    expect(krippendorffAlphaNominal([new Map([['a', 1]])]).value).toBeNull();
  });
});
