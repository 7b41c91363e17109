/**
 * Half-written forms kept in this tab's memory, so work survives what unmounts a form without
 * the person choosing to drop it: another tab of a patient's record, a link followed, or the
 * session ending (idle, expired) and the same person signing in again. Memory only, never
 * storage: a note is health data, and a reload or a closed tab forgets it. A deliberate
 * sign-out, or another person signing in at this computer, forgets every draft at once
 * (sessionStore calls forgetDrafts and draftsBelongTo).
 */
import { useEffect, useState } from 'react';

const drafts = new Map<string, unknown>();
/** The account the kept drafts were written by; null before anyone signed in in this tab. */
let owner: string | null = null;

/** The person signed in is `userId`: drafts another account wrote are dropped. */
export function draftsBelongTo(userId: string): void {
  if (owner !== userId) drafts.clear();
  owner = userId;
}

/** Drops every kept draft (a deliberate sign-out). */
export function forgetDrafts(): void {
  drafts.clear();
  owner = null;
}

/** The kept draft under `key`, if any. */
export function keptDraft<T>(key: string): T | undefined {
  // Only the code that kept it reads a key back, with the type it kept.
  return drafts.get(key) as T | undefined;
}

export function hasKeptDraft(key: string): boolean {
  return drafts.has(key);
}

export function dropDraft(key: string): void {
  drafts.delete(key);
}

/**
 * Keeps `value` under `key` while it differs from `untouched` (what the form started with), and
 * drops it once it is back there (saved and cleared, or every change undone). A null key keeps
 * nothing.
 */
export function useKeptDraft<T>(key: string | null, value: T, untouched: T): void {
  useEffect(() => {
    if (key === null) return;
    if (sameValues(value, untouched)) drafts.delete(key);
    else drafts.set(key, value);
  }, [key, value, untouched]);
}

/**
 * A state that starts from the draft kept under `key` (else `initial`) and is kept as it
 * changes; `restored` says the form came back with unsaved work, for a word to the person.
 */
export function useKeptState<T>(
  key: string | null,
  initial: T,
): [T, (update: T | ((current: T) => T)) => void, boolean] {
  const [untouched] = useState(initial);
  const [restored] = useState(() => key !== null && drafts.has(key));
  const [value, setValue] = useState<T>(() =>
    key !== null && drafts.has(key) ? (drafts.get(key) as T) : initial,
  );
  useKeptDraft(key, value, untouched);
  // Saved and cleared (or every change undone): nothing unsaved to speak of any more.
  return [value, setValue, restored && !sameValues(value, untouched)];
}

/** Equal as form values: the same primitives, arrays and plain objects, member by member. */
function sameValues(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  if (aKeys.length !== bKeys.length) return false;
  const bRecord = b as Record<string, unknown>;
  const aRecord = a as Record<string, unknown>;
  return aKeys.every((k) => Object.hasOwn(bRecord, k) && sameValues(aRecord[k], bRecord[k]));
}
