/**
 * Decoders for API answers: server data is untrusted, so every answer is checked against the
 * shape the SPA expects and only the declared members are kept. A decoder is a plain function
 * `(value, key?) => T`; `object()` builds one from a table of member decoders, so an answer's
 * shape is written once and its type is read from it (`ReturnType<typeof decodeX>`).
 */
import { isRecord, type Decoder } from './api';

/** Decodes one value; `key` names it in the error when the value does not fit. */
export type ValueDecoder<T> = (value: unknown, key?: string) => T;

type Shape = Record<string, ValueDecoder<unknown>>;
type Decoded<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

export function expectRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`Expected ${what} to be an object.`);
  return value;
}

const missing = (key: string | undefined) => new Error(`Missing "${key ?? 'value'}".`);

export const text: ValueDecoder<string> = (value, key) => {
  if (typeof value !== 'string') throw missing(key);
  return value;
};

/** A string or null; anything else from the server counts as absent. */
export const optionalText: ValueDecoder<string | null> = (value) =>
  typeof value === 'string' ? value : null;

export const num: ValueDecoder<number> = (value, key) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw missing(key);
  return value;
};

export const bool: ValueDecoder<boolean> = (value, key) => {
  if (typeof value !== 'boolean') throw missing(key);
  return value;
};

export const textList: ValueDecoder<string[]> = (value, key) => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw missing(key);
  return value;
};

export function oneOf<T extends string>(allowed: readonly T[]): ValueDecoder<T> {
  return (value, key) => {
    const match = allowed.find((candidate) => candidate === value);
    if (match === undefined) throw new Error(`Unexpected "${key ?? 'value'}".`);
    return match;
  };
}

export function listOf<T>(decodeItem: ValueDecoder<T>): ValueDecoder<T[]> {
  return (value, key) => {
    if (!Array.isArray(value)) throw missing(key);
    return value.map((item) => decodeItem(item));
  };
}

/** A JSON object kept as is (audit details, the account export): rendered only as text. */
export const jsonObject: ValueDecoder<Record<string, unknown>> = (value, key) =>
  expectRecord(value, key ?? 'value');

/** An object with exactly the members of `shape`, each checked by its decoder. */
export function object<S extends Shape>(what: string, shape: S): ValueDecoder<Decoded<S>> {
  return (value) => {
    const record = expectRecord(value, what);
    const decoded: Record<string, unknown> = {};
    for (const [key, decode] of Object.entries(shape)) decoded[key] = decode(record[key], key);
    // Every key of `shape` was just filled by its own decoder, which is what Decoded<S> says.
    return decoded as Decoded<S>;
  };
}

/** `{ [key]: T }` answers, e.g. `{ patient }` or `{ notes: [...] }`. */
export function field<T>(key: string, decode: ValueDecoder<T>): Decoder<T> {
  return (body) => decode(expectRecord(body, 'answer')[key], key);
}

/** For answers the page does not read (it reloads instead, or there is no body at all). */
export const ignoreBody: Decoder<null> = () => null;
