// Request validation (V1): unknown properties are rejected (never silently stripped),
// formats are checked, and only non-body parts get type coercion (query strings and path
// parameters arrive as text; a JSON body must already have the right types).
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

function createAjv(coerceTypes: Options['coerceTypes']): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    strict: true,
    strictRequired: false,
  });
  addFormats.default(ajv);
  return ajv;
}

/** JSON-pointer of the first number that is not finite, or undefined. */
function firstNonFinite(value: unknown, at = ''): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : at || '/';
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const found = firstNonFinite(child, `${at}/${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Ajv's coercion turns the text `1e999` or `Infinity` into a non-finite number that then
 * passes `integer`, `minimum` and `maximum`. Coerced parts (query, params, headers) are
 * checked again here, so no handler ever sees Infinity.
 */
function refuseNonFinite(validate: ValidateFunction): ValidateFunction {
  const wrapped = ((data: unknown) => {
    if (!validate(data)) {
      wrapped.errors = validate.errors;
      return false;
    }
    const at = firstNonFinite(data);
    if (at === undefined) {
      wrapped.errors = null;
      return true;
    }
    const error: ErrorObject = {
      instancePath: at === '/' ? '' : at,
      schemaPath: '#/type',
      keyword: 'type',
      params: { type: 'number' },
      message: 'must be a finite number',
    };
    wrapped.errors = [error];
    return false;
  }) as ValidateFunction;
  wrapped.schema = validate.schema;
  return wrapped;
}

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const forBody = createAjv(false);
  const forText = createAjv('array');
  return ({ schema, httpPart }) => {
    if (httpPart === 'body') return forBody.compile(schema as object);
    return refuseNonFinite(forText.compile(schema as object));
  };
}
