// A small JSON Schema → fast-check mapping for the keywords Haven's route schemas use (the
// route contract keeps them to this set): type, properties, required, additionalProperties,
// anyOf, const, string bounds, pattern, format (uuid, email, date, date-time), integer and
// number bounds, arrays with maxItems/uniqueItems, minProperties. It also lists a schema's
// leaves so the fuzz can aim hostile values at every field.
import fc from 'fast-check';

export type JsonSchema = Readonly<Record<string, unknown>>;

/** Known object ids by property name, so valid requests reach real rows, not only 404s. */
export type KnownIds = Readonly<Record<string, readonly string[]>>;

/** Longest free string a *valid* instance gets; the boundary and overlong variants go further. */
const VALID_STRING_CAP = 48;

const asSchema = (value: unknown): JsonSchema | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JsonSchema)
    : undefined;

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

export function typesOf(schema: JsonSchema): string[] {
  const type = schema.type;
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string');
  return typeof type === 'string' ? [type] : [];
}

/**
 * Brings a generated string within the schema's length bounds (JSON Schema counts code
 * points). Mapping instead of filtering: a filter that rarely passes never ends.
 */
function toLength(schema: JsonSchema): (s: string) => string {
  const min = num(schema.minLength) ?? 0;
  const max = num(schema.maxLength) ?? Number.POSITIVE_INFINITY;
  return (s) => {
    let points = [...s];
    if (points.length === 0 && min > 0) points = ['a'];
    while (points.length < min) points = points.concat(points);
    return points.slice(0, max).join('');
  };
}

function dateArbitrary(): fc.Arbitrary<Date> {
  return fc.date({
    min: new Date('1900-01-01T00:00:00Z'),
    max: new Date('2035-12-31T23:59:59Z'),
    noInvalidDate: true,
  });
}

function stringArbitrary(schema: JsonSchema, key: string | undefined, known: KnownIds) {
  const fit = toLength(schema);
  const format = typeof schema.format === 'string' ? schema.format : undefined;
  if (format === 'uuid') {
    const ids = key ? known[key] : undefined;
    return ids && ids.length > 0
      ? fc.oneof(
          { arbitrary: fc.constantFrom(...ids), weight: 3 },
          { arbitrary: fc.uuid(), weight: 1 },
        )
      : fc.uuid();
  }
  if (format === 'email') {
    return fc.oneof(
      fc.emailAddress(),
      fc.stringMatching(/^[a-z][a-z0-9.]{0,20}$/).map((local) => `${local}@example.org`),
    );
  }
  if (format === 'date') return dateArbitrary().map((d) => d.toISOString().slice(0, 10));
  if (format === 'date-time') return dateArbitrary().map((d) => d.toISOString());
  if (typeof schema.pattern === 'string') {
    return fc.stringMatching(new RegExp(schema.pattern)).map(fit);
  }
  const minLength = num(schema.minLength) ?? 0;
  const maxLength = Math.max(minLength, Math.min(num(schema.maxLength) ?? 1000, VALID_STRING_CAP));
  return fc
    .oneof(
      fc.string({ unit: 'grapheme-ascii', minLength, maxLength }),
      fc.string({ unit: 'grapheme', minLength, maxLength }),
      fc.string({ unit: 'binary', minLength, maxLength }),
    )
    .map(fit);
}

/** Valid instances of a schema (best effort: a handler's own checks may still refuse them). */
export function arbitraryFor(
  schema: JsonSchema,
  known: KnownIds = {},
  key?: string,
): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf)) {
    const branches = (schema.anyOf ?? schema.oneOf) as unknown[];
    return fc.oneof<fc.Arbitrary<unknown>[]>(
      ...branches.map((b) => arbitraryFor(asSchema(b) ?? {}, known, key)),
    );
  }
  const types = typesOf(schema);
  const type = types[0];
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({
        min: num(schema.minimum) ?? -1_000_000,
        max: num(schema.maximum) ?? 1_000_000,
      });
    case 'number':
      return fc.double({
        min: num(schema.minimum) ?? -1e9,
        max: num(schema.maximum) ?? 1e9,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case 'string':
      return stringArbitrary(schema, key, known);
    case 'array': {
      const items = arbitraryFor(asSchema(schema.items) ?? {}, known, key);
      const constraints = {
        minLength: num(schema.minItems) ?? 0,
        maxLength: Math.min(num(schema.maxItems) ?? 5, 5),
      };
      return schema.uniqueItems === true
        ? fc.uniqueArray(items, { ...constraints, selector: (v) => JSON.stringify(v) })
        : fc.array(items, constraints);
    }
    case 'object': {
      const properties = asSchema(schema.properties) ?? {};
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, child] of Object.entries(properties)) {
        model[name] = arbitraryFor(asSchema(child) ?? {}, known, name);
      }
      const minProperties = num(schema.minProperties) ?? 0;
      return fc
        .record(model, { requiredKeys: required })
        .filter((o) => Object.keys(o).length >= minProperties);
    }
    default:
      return fc.constant(null);
  }
}

export interface Leaf {
  /** Property names from the root; array items are index 0. */
  readonly path: readonly (string | number)[];
  readonly schema: JsonSchema;
  readonly required: boolean;
}

/** The first object branch of an anyOf (an object-or-null field), or the schema itself. */
function concrete(schema: JsonSchema): JsonSchema {
  const branches = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (!Array.isArray(branches)) return schema;
  const objectBranch = branches.map(asSchema).find((b) => b && typesOf(b).includes('object'));
  const arrayBranch = branches.map(asSchema).find((b) => b && typesOf(b).includes('array'));
  return objectBranch ?? arrayBranch ?? schema;
}

/** Every leaf (non-object, non-array) field of a schema, depth first. */
export function leavesOf(schema: JsonSchema | undefined): Leaf[] {
  const leaves: Leaf[] = [];
  const visit = (node: JsonSchema, at: (string | number)[], required: boolean): void => {
    const s = concrete(node);
    const types = typesOf(s);
    if (types.includes('object') && s.properties) {
      const needed = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
      for (const [name, child] of Object.entries(asSchema(s.properties) ?? {})) {
        visit(asSchema(child) ?? {}, [...at, name], required && needed.has(name));
      }
      return;
    }
    if (types.includes('array') && s.items) {
      visit(asSchema(s.items) ?? {}, [...at, 0], false);
      return;
    }
    if (at.length > 0) leaves.push({ path: at, schema: node, required });
  };
  if (schema) visit(schema, [], true);
  return leaves;
}

/** Whether a leaf takes free text (no format, pattern or fixed values). */
export function isFreeText(schema: JsonSchema): boolean {
  return (
    typesOf(schema).includes('string') &&
    schema.format === undefined &&
    schema.pattern === undefined &&
    !('const' in schema) &&
    !Array.isArray(schema.anyOf)
  );
}

export function isStringLeaf(schema: JsonSchema): boolean {
  if (typesOf(schema).includes('string')) return true;
  const branches = schema.anyOf as unknown[] | undefined;
  return (
    Array.isArray(branches) && branches.some((b) => typesOf(asSchema(b) ?? {}).includes('string'))
  );
}

/** A deep copy of `value` with the field at `path` set (intermediate objects created). */
export function setAt(value: unknown, path: readonly (string | number)[], leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (typeof head === 'number') {
    const list = Array.isArray(value) ? [...(value as unknown[])] : [];
    list[head] = setAt(list[head] ?? {}, rest, leaf);
    return list;
  }
  const object =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? { ...(value as Record<string, unknown>) }
      : {};
  object[head] = setAt(object[head], rest, leaf);
  return object;
}

/** A deep copy of `value` without the field at `path`. */
export function deleteAt(value: unknown, path: readonly (string | number)[]): unknown {
  if (path.length === 0 || typeof value !== 'object' || value === null) return value;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(value)) {
    const list = [...(value as unknown[])];
    if (typeof head === 'number' && head < list.length) {
      if (rest.length === 0) list.splice(head, 1);
      else list[head] = deleteAt(list[head], rest);
    }
    return list;
  }
  const object = { ...(value as Record<string, unknown>) };
  if (rest.length === 0) delete object[head];
  else if (head in object) object[head] = deleteAt(object[head], rest);
  return object;
}
