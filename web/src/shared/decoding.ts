/** Decoding helpers for list-shaped answers: server data is untrusted; only declared fields are kept. */
import { expectRecord, isRecord, type Decoder } from './api';

export function expectArray<T>(
  record: Record<string, unknown>,
  key: string,
  decodeItem: (value: unknown) => T,
): T[] {
  const value = record[key];
  if (!Array.isArray(value)) throw new Error(`Missing "${key}".`);
  return value.map(decodeItem);
}

export function expectOneOf<T extends string>(
  record: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
): T {
  const value = record[key];
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) throw new Error(`Unexpected "${key}".`);
  return match;
}

export function optionalNumber(record: Record<string, unknown>, key: string): number | null {
  const value = record[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** `{ [key]: T }` answers, e.g. `{ patient }`. */
export function field<T>(key: string, decodeItem: (value: unknown) => T): Decoder<T> {
  return (body) => decodeItem(expectRecord(body, 'answer')[key]);
}

/** A JSON object kept as is (audit details, the account export): rendered only as text. */
export function expectJsonObject(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`Expected ${what} to be an object.`);
  return value;
}
