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

/** Strength estimate for `password` (already NFKC-normalized). */
export function estimateStrength(password: string, context: PasswordContext): StrengthFeedback {
  const prefix = [...password].slice(0, ESTIMATED_CODE_POINTS).join('');
  const result = getEstimator().check(prefix, userInputsFor(context));
  // Deliberately not spreading `result`: it carries the password itself.
  return {
    score: result.score,
    warning: result.feedback.warning,
    suggestions: [...result.feedback.suggestions],
  };
}
