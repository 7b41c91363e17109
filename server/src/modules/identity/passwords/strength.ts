/**
 * Control A2: strength estimate (zxcvbn-ts) and the offline common-password list.
 * The SPA runs zxcvbn-ts too, for instant feedback; this server-side estimate is authoritative.
 */
import { ZxcvbnFactory, type Score } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';

export interface PasswordContext {
  email?: string;
  displayName?: string;
}

export interface StrengthFeedback {
  score: Score;
  /** End-user text, or null when there is nothing specific to warn about. */
  warning: string | null;
  suggestions: string[];
}

/**
 * zxcvbn runs synchronously on the event loop and its cost grows steeply with length and
 * l33t-looking characters (measured: over a second for a crafted 128-character input with
 * the defaults). So only the first 32 code points are estimated, with at most 10 l33t
 * substitutions (a few tens of ms at worst). Estimating a prefix is conservative: a
 * password is never easier to guess than its beginning. The full password is still what
 * gets length-checked, list-checked, breach-checked and hashed.
 */
const ESTIMATED_CODE_POINTS = 32;
const L33T_MAX_SUBSTITUTIONS = 10;

// Built on first use, not at import: ranking ~100k dictionary words takes a moment and
// nothing that merely imports the identity module should pay for it.
let estimator: ZxcvbnFactory | undefined;
let commonPasswords: ReadonlySet<string> | undefined;

function getEstimator(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    dictionary: { ...commonDictionary, ...englishDictionary },
    graphs: adjacencyGraphs,
    translations,
    l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
    // Our own cut below is by code points; this one (UTF-16 units) must never bite first.
    maxLength: ESTIMATED_CODE_POINTS * 2,
  });
  return estimator;
}

/**
 * Exact match against the ~49k most common passwords shipped with zxcvbn-ts. Always on,
 * so embedded deployments without the HIBP API still refuse the passwords tried first.
 */
export function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(commonDictionary['passwords-common'].map((p) => p.toLowerCase()));
  return commonPasswords.has(password.trim().toLowerCase());
}

/**
 * The user's own details, fed to zxcvbn as a dictionary: a password made of your name,
 * your email or the product's name is among the first things a targeted attacker tries.
 */
export function userInputsFor(context: PasswordContext): string[] {
  const inputs = new Set<string>(['haven']);
  const add = (value: string | undefined): void => {
    const v = value?.normalize('NFKC').trim().toLowerCase();
    if (!v) return;
    inputs.add(v);
    for (const part of v.split(/[\s._+\-@]+/)) if (part.length >= 2) inputs.add(part);
  };
  add(context.displayName);
  add(context.email);
  add(context.email?.split('@')[0]);
  return [...inputs];
}

/** Lower case with accents dropped, so "José" and "jose" compare equal. */
function foldCase(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** The words of the user's own details (names, email parts, "haven"), letters only. */
function personalWords(context: PasswordContext): string[] {
  const words = new Set<string>();
  for (const input of userInputsFor(context)) {
    for (const word of foldCase(input).split(/\P{L}+/u)) if (word.length >= 2) words.add(word);
  }
  return [...words];
}

/** Look-alike characters that stand in for letters ("G0nzalez", "M@ria"). */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'il',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '@': 'a',
  $: 's',
  '!': 'il',
  '|': 'il',
  '+': 't',
};

const isLetter = (char: string): boolean => /\p{L}/u.test(char);

/**
 * True when every letter of `password` belongs to the user's own words: their name, their
 * email's local part and domain, or "haven", in any order and case, with only digits, years,
 * symbols or look-alike characters added ("MariaGonzalez2024!", "gonzalez1987",
 * "G0nzalez-Maria!"). zxcvbn knows these words too, but rates such a password strong once
 * the additions make it long enough; they are exactly what a targeted attacker tries first.
 * A password without letters is left to the strength estimate.
 */
export function isBuiltFromUserInputs(password: string, context: PasswordContext): boolean {
  const chars = [...foldCase(password)];
  if (!chars.some(isLetter)) return false;
  // One left-to-right pass over states "k letters of a word spelled so far" (O(characters x
  // letters in the words), whatever the input): `atBoundary` means everything before the
  // current character is whole words and skipped non-letters.
  const letters = personalWords(context).flatMap((word) =>
    [...word].map((letter, k) => ({ letter, first: k === 0, last: k === word.length - 1 })),
  );
  let spelling = new Uint8Array(letters.length);
  let atBoundary = true;
  for (const char of chars) {
    const skippable = !isLetter(char);
    const next = new Uint8Array(letters.length);
    let nextAtBoundary: boolean = atBoundary && skippable;
    for (const [state, { letter, first, last }] of letters.entries()) {
      if (!(spelling[state] === 1 || (first && atBoundary))) continue;
      // Non-letters may sit anywhere, even inside a word ("Gonz.alez"); letters never.
      if (skippable && !first) next[state] = 1;
      if (char === letter || (LOOK_ALIKES[char]?.includes(letter) ?? false)) {
        if (last) nextAtBoundary = true;
        else next[state + 1] = 1;
      }
    }
    spelling = next;
    atBoundary = nextAtBoundary;
  }
  return atBoundary;
}

/**
 * Spaces and the usual word separators. zxcvbn scores a separator as a brute-force character,
 * which breaks its repeat and sequence matching: "password password" rated 3 (strong) while
 * "passwordpassword" rates 0. A cracker's word lists try both spellings, so the estimate is the
 * weaker of the password as typed and with its separators removed; real passphrases ("correct
 * horse battery staple") keep their score either way. The SPA's meter does the same
 * (web/src/features/password/strengthEstimator.ts).
 */
const WORD_SEPARATORS = /[\s._-]+/gu;

/** Strength estimate for `password` (already NFKC-normalized). */
export function estimateStrength(password: string, context: PasswordContext): StrengthFeedback {
  const inputs = userInputsFor(context);
  const estimate = (candidate: string) =>
    getEstimator().check([...candidate].slice(0, ESTIMATED_CODE_POINTS).join(''), inputs);
  let result = estimate(password);
  const joined = password.replace(WORD_SEPARATORS, '');
  if (joined !== password && joined.length > 0) {
    const withoutSeparators = estimate(joined);
    if (withoutSeparators.guesses < result.guesses) result = withoutSeparators;
  }
  // Deliberately not spreading `result`: it carries the password itself.
  return {
    score: result.score,
    warning: result.feedback.warning,
    suggestions: [...result.feedback.suggestions],
  };
}
