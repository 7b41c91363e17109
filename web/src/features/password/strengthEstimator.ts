// Loaded on demand (its dictionaries are large): the same zxcvbn-ts setup as the server's
// A2 check, so the live feedback matches what the server will decide.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';

export interface Strength {
  score: 0 | 1 | 2 | 3 | 4;
  warning: string | null;
  suggestions: string[];
}

const ESTIMATED_CODE_POINTS = 32;

const estimator = new ZxcvbnFactory({
  dictionary: { ...commonDictionary, ...englishDictionary },
  graphs: adjacencyGraphs,
  translations,
  l33tMaxSubstitutions: 10,
  maxLength: ESTIMATED_CODE_POINTS * 2,
});

/** As the server (strength.ts): the weaker of the password and the same without separators. */
const WORD_SEPARATORS = /[\s._-]+/gu;

export function estimate(password: string, userInputs: string[]): Strength {
  const inputs = ['haven', ...userInputs];
  const check = (candidate: string) =>
    estimator.check([...candidate].slice(0, ESTIMATED_CODE_POINTS).join(''), inputs);
  const normalized = password.normalize('NFKC');
  let result = check(normalized);
  const joined = normalized.replace(WORD_SEPARATORS, '');
  if (joined !== normalized && joined.length > 0) {
    const withoutSeparators = check(joined);
    if (withoutSeparators.guesses < result.guesses) result = withoutSeparators;
  }
  return {
    score: result.score,
    warning: result.feedback.warning,
    suggestions: [...result.feedback.suggestions],
  };
}
