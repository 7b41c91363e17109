// Schema markers the modules' schemas files use (they import only typebox and other schemas.js
// files, being part of the browser bundle) and the route contract reads.

/**
 * Marks a response schema whose body is deliberately not Haven's to declare (the OAuth
 * provider's RFC answers, the OpenAPI document itself, a file's bytes). Any other open response
 * object is a route contract violation (V3): the serializer would send whatever fields the
 * handler returned.
 */
export const OPEN_ANSWER = 'x-haven-open-answer';

/** `schema` marked OPEN_ANSWER; its description says why the body is not Haven's to declare. */
export function openAnswer<T extends object>(schema: T): T {
  return { ...schema, [OPEN_ANSWER]: true };
}
