import { useEffect, useState } from 'react';
import type { Strength } from './strengthEstimator';

const DEBOUNCE_MS = 150;

/** User details that make a password guessable (name, email parts). */
export function userInputsFor(...values: Array<string | null | undefined>): string[] {
  const inputs = new Set<string>();
  for (const value of values) {
    const v = value?.trim().toLowerCase();
    if (!v) continue;
    inputs.add(v);
    for (const part of v.split(/[\s._+\-@]+/)) if (part.length >= 2) inputs.add(part);
  }
  return [...inputs];
}

/** Live zxcvbn estimate of `password`; null while empty or while the estimator loads. */
export function usePasswordStrength(password: string, userInputs: string[]): Strength | null {
  const [strength, setStrength] = useState<Strength | null>(null);
  const inputsKey = userInputs.join('\u0000');

  useEffect(() => {
    if (password === '') {
      setStrength(null);
      return;
    }
    let cancelled = false;
    const timer = window.setTimeout(() => {
      void import('./strengthEstimator').then(({ estimate }) => {
        if (!cancelled) setStrength(estimate(password, inputsKey ? inputsKey.split('\u0000') : []));
      });
    }, DEBOUNCE_MS);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [password, inputsKey]);

  return strength;
}
