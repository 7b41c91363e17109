// The staff patient search's matching rule (issue 14), stated once for the SQL and the SPA's
// help text: names by substring, ignoring case and accents; MRNs by prefix.
import { sql, type RawBuilder } from 'kysely';
import { escapeLike } from '../../../platform/db/sql-text.js';

/** An MRN typed with fewer characters than this must be the whole MRN. */
export const MRN_PREFIX_MIN = 3;

/** Letters that do not decompose under NFD but read as a plain Latin letter. */
const EXTRA_FOLDS: Record<string, string> = {
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ł: 'l',
  Ł: 'L',
  ı: 'i',
  ħ: 'h',
  Ħ: 'H',
  ŧ: 't',
  Ŧ: 'T',
};

/**
 * translate()'s two lists: every Latin-1 and Latin Extended-A letter whose NFD form is one
 * ASCII letter and combining marks ("É" → "E"), plus EXTRA_FOLDS. Both engines run the same
 * translate(), which needs no extension (PGlite ships no unaccent by default) and, unlike
 * lower(), does not depend on the database's locale.
 */
function accentFolds(): { from: string; to: string } {
  let from = '';
  let to = '';
  for (let code = 0xc0; code <= 0x17f; code += 1) {
    const letter = String.fromCodePoint(code);
    const base = letter.normalize('NFD').replace(/\p{M}/gu, '');
    if (base !== letter && /^[A-Za-z]$/.test(base)) {
      from += letter;
      to += base;
    }
  }
  for (const [letter, base] of Object.entries(EXTRA_FOLDS)) {
    from += letter;
    to += base;
  }
  return { from, to };
}
const FOLDS = accentFolds();

/** The text as the search compares it: accents folded, then lower-cased (ASCII, both sides). */
function folded(text: RawBuilder<string> | string): RawBuilder<string> {
  return sql<string>`lower(translate(${text}, ${FOLDS.from}, ${FOLDS.to}))`;
}

/** More words than this add cost and no precision; the rest are ignored. */
const MAX_NAME_WORDS = 5;

/** The words of a name query: split on spaces and commas ("Quill, Jor" → Quill, Jor). */
export function nameWords(name: string): string[] {
  return name
    .split(/[\s,]+/u)
    .filter((word) => word.length > 0)
    .slice(0, MAX_NAME_WORDS);
}

/**
 * Every word is found somewhere in the family or the given name, ignoring case and accents
 * ("mull" and "MÜLL" both find Müller). `%`, `_` and `\` in a word are literal. For a query
 * whose patients table is aliased `p`.
 */
export function patientNameContains(words: readonly string[]) {
  const each = words.map((word) => {
    const pattern = folded(`%${escapeLike(word)}%`);
    return sql<boolean>`(${folded(sql<string>`p.family_name`)} like ${pattern} or ${folded(sql<string>`p.given_name`)} like ${pattern})`;
  });
  return sql<boolean>`(${sql.join(each, sql` and `)})`;
}

/**
 * The MRN rule: at least MRN_PREFIX_MIN characters match MRNs starting with them, fewer must be
 * the whole MRN; case is ignored either way. Uses patients_mrn_prefix_idx (0011).
 */
export function patientMrnMatches(mrn: string) {
  return mrn.length >= MRN_PREFIX_MIN
    ? sql<boolean>`upper(p.mrn) like ${`${escapeLike(mrn.toUpperCase())}%`}`
    : sql<boolean>`upper(p.mrn) = ${mrn.toUpperCase()}`;
}
