// Request validation (V1): unknown properties are rejected (never silently stripped),
// formats are checked, and only non-body parts get type coercion (query strings and path
// parameters arrive as text; a JSON body must already have the right types).
import { Ajv, type Options } from 'ajv';
import addFormats from 'ajv-formats';
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

export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const forBody = createAjv(false);
  const forText = createAjv('array');
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? forBody : forText;
    return ajv.compile(schema as object);
  };
}
