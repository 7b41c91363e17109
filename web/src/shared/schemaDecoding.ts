/**
 * Answers are decoded with the server's own TypeBox schemas (`@haven/contract`): server data is
 * untrusted, so every answer is checked against the schema the route serializes with, and only
 * the members it declares are kept. A mismatch throws an Error whose message names the first
 * wrong member; `requestJson` turns it into an "Invalid response" ApiError for the page.
 *
 * This file imports nothing of the SPA, so the server's tests can prove the contract with it.
 */
import type { Static, TSchema } from 'typebox';
import type { TLocalizedValidationError } from 'typebox/error';
import { Check, Clean, Clone, Errors } from 'typebox/value';

/** `/user/roles/0` → `user.roles.0` (JSON pointer escapes undone). */
function memberPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.');
}

function describeMismatch(error: TLocalizedValidationError | undefined): string {
  if (!error) return 'Unexpected response shape.';
  const at = memberPath(error.instancePath);
  if (error.keyword === 'required') {
    const missing = error.params.requiredProperties[0] ?? 'value';
    return `Missing "${at ? `${at}.${missing}` : missing}".`;
  }
  return `${at ? `"${at}"` : 'The answer'} ${error.message}.`;
}

/** The answer as `schema` declares it (undeclared members dropped); throws when it does not fit. */
export function decodeWith<S extends TSchema>(schema: S, value: unknown): Static<S> {
  // Clean mutates, and the caller's value is not ours to change.
  const kept = Clean(schema, Clone(value));
  if (Check(schema, kept)) return kept;
  throw new Error(describeMismatch(Errors(schema, kept)[0]));
}

/** A decoder for `requestJson`/`sessionStore.api`: the whole answer, checked by `schema`. */
export function answerOf<S extends TSchema>(schema: S): (body: unknown) => Static<S> {
  return (body) => decodeWith(schema, body);
}

/** A decoder for `{ [key]: T }` answers, e.g. `{ patient }`: checks the whole, returns `key`. */
export function memberOf<S extends TSchema, K extends keyof Static<S>>(
  schema: S,
  key: K,
): (body: unknown) => Static<S>[K] {
  return (body) => decodeWith(schema, body)[key];
}
