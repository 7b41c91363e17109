// Inter-rater agreement on nominal ratings (choice questions). Pure functions over counts, so the
// dashboard feeds them SQL aggregates (never one row per answer) and the tests feed them the
// textbook examples. Written here rather than taken from a library: no maintained npm package
// computes Cohen's and Fleiss' kappa and Krippendorff's alpha from category counts, and each is
// a few lines of arithmetic.
//
// - Cohen's kappa (Cohen 1960): two raters; input is the table of (first rater's category,
//   second rater's category) pairs.
// - Fleiss' kappa (Fleiss 1971): every subject rated by the same number n ≥ 2 of raters; input
//   is, per subject, how many raters chose each category.
// - Krippendorff's alpha, nominal (Krippendorff 2011): any number of raters per subject; subjects
//   with fewer than two ratings carry no information and are skipped.

/** How many raters chose each category for one subject (categories with 0 may be left out). */
export type CategoryCounts = ReadonlyMap<string, number>;

export type Agreement =
  | { readonly value: number; readonly reason: null }
  | { readonly value: null; readonly reason: string };

const undefinedWhenUniform =
  'Every rating fell in one category, so chance agreement is complete and the statistic is undefined.';

/** Cohen's kappa from the pairs (first rater, second rater) and how often each occurred. */
export function cohensKappa(
  pairs: readonly { first: string; second: string; count: number }[],
): Agreement {
  let total = 0;
  let agreeing = 0;
  const firstMargin = new Map<string, number>();
  const secondMargin = new Map<string, number>();
  for (const { first, second, count } of pairs) {
    total += count;
    if (first === second) agreeing += count;
    firstMargin.set(first, (firstMargin.get(first) ?? 0) + count);
    secondMargin.set(second, (secondMargin.get(second) ?? 0) + count);
  }
  if (total === 0) return { value: null, reason: 'No case was rated by two participants.' };
  const observed = agreeing / total;
  let chance = 0;
  for (const [category, count] of firstMargin) {
    chance += (count / total) * ((secondMargin.get(category) ?? 0) / total);
  }
  if (chance >= 1) return { value: null, reason: undefinedWhenUniform };
  return { value: (observed - chance) / (1 - chance), reason: null };
}

/** Fleiss' kappa; every subject must have the same number of ratings (at least two). */
export function fleissKappa(subjects: readonly CategoryCounts[]): Agreement {
  if (subjects.length === 0) {
    return { value: null, reason: 'No case was rated by several participants.' };
  }
  const raters = sumOf(subjects[0]!);
  if (raters < 2) return { value: null, reason: 'Each case needs at least two ratings.' };
  if (subjects.some((subject) => sumOf(subject) !== raters)) {
    return {
      value: null,
      reason: 'Fleiss’ kappa needs the same number of ratings for every case.',
    };
  }
  const categoryTotals = new Map<string, number>();
  let agreementSum = 0;
  for (const subject of subjects) {
    let squares = 0;
    for (const [category, count] of subject) {
      squares += count * count;
      categoryTotals.set(category, (categoryTotals.get(category) ?? 0) + count);
    }
    agreementSum += (squares - raters) / (raters * (raters - 1));
  }
  const ratings = subjects.length * raters;
  const observed = agreementSum / subjects.length;
  let chance = 0;
  for (const count of categoryTotals.values()) chance += (count / ratings) ** 2;
  if (chance >= 1) return { value: null, reason: undefinedWhenUniform };
  return { value: (observed - chance) / (1 - chance), reason: null };
}

/** Krippendorff's alpha for nominal data, from each subject's category counts. */
export function krippendorffAlphaNominal(subjects: readonly CategoryCounts[]): Agreement {
  // The coincidence matrix's diagonal and margins are all alpha needs for nominal data:
  // observed disagreement D_o = Σ_u (m_u² − Σ_c n_uc²)/(m_u − 1), expected from the margins.
  const margins = new Map<string, number>();
  let pairable = 0;
  let observedDisagreement = 0;
  for (const subject of subjects) {
    const ratings = sumOf(subject);
    if (ratings < 2) continue;
    let squares = 0;
    for (const [category, count] of subject) {
      squares += count * count;
      margins.set(category, (margins.get(category) ?? 0) + count);
    }
    pairable += ratings;
    observedDisagreement += (ratings * ratings - squares) / (ratings - 1);
  }
  if (pairable === 0) return { value: null, reason: 'No case was rated by several participants.' };
  let marginSquares = 0;
  for (const count of margins.values()) marginSquares += count * count;
  const expectedDisagreement = (pairable * pairable - marginSquares) / (pairable - 1);
  if (expectedDisagreement === 0) return { value: null, reason: undefinedWhenUniform };
  return { value: 1 - observedDisagreement / expectedDisagreement, reason: null };
}

function sumOf(counts: CategoryCounts): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}
