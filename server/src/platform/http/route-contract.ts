// The route contract (Z1, Z2, R1, V1, V3): every route declares its access and rate class
// beside strict schemas. Violations are collected while routes register, and the server
// refuses to become ready while any exist, naming the route and the rule.
import type { FastifyInstance, RouteOptions } from 'fastify';
import { RATE_CLASSES, type RateClass } from '../../config.js';
import { OPEN_ANSWER } from './schemas.js';

/**
 * Callers that are not a person's own session (Z2, A12): a machine client's token, and an app's
 * token acting for a person. A route serves them only when it says so; every other route is for
 * people signed in themselves, whatever scopes a token carries.
 */
export type ServedCaller = 'machine-client' | 'delegated-app';

export type RouteAccess =
  | { readonly kind: 'public' }
  | {
      readonly kind: 'scopes';
      readonly scopes: readonly string[];
      readonly stepUp: boolean;
      readonly serves: readonly ServedCaller[];
    };

/** Deliberately public: readable in the route table and by `haven audit`. */
export const PUBLIC: RouteAccess = Object.freeze({ kind: 'public' });

/**
 * Needs an authenticated caller holding every scope; stepUp demands MFA in the last 5 minutes;
 * `serves` names the callers other than a person's own session that the route also answers.
 */
export function requireScopes(
  scopes: readonly string[],
  options: { stepUp?: boolean; serves?: readonly ServedCaller[] } = {},
): RouteAccess {
  return Object.freeze({
    kind: 'scopes',
    scopes: Object.freeze([...scopes]),
    stepUp: options.stepUp ?? false,
    serves: Object.freeze([...(options.serves ?? [])]),
  });
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
    rateClass?: RateClass;
    /** The SPA's file route: excluded from the 405 lookup so unknown API paths stay 404. */
    spaFallback?: boolean;
  }
}

export interface RouteTableRow {
  readonly method: string;
  readonly path: string;
  readonly access: string;
  readonly scopes: string;
  readonly stepUp: boolean;
  /** Callers other than a person's own session the route serves (`serves`), space-separated. */
  readonly serves: string;
  readonly rateClass: string;
  /** The request schemas as declared, for the schema-driven security tests; never printed. */
  readonly schema?: {
    readonly params?: unknown;
    readonly querystring?: unknown;
    readonly body?: unknown;
  };
}

type JsonSchema = Record<string, unknown>;
const SCOPE_PATTERN = /^[a-z][a-z_]*(:[a-z_]+)+$/;
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * A map keyed by data (answers by question id): allowed only with a bounded number of keys, key
 * names bounded in length and shape, and a schema for every value. Mass assignment needs a
 * property the code reads as a field, and such a map's keys are data the service checks one by one.
 */
function isBoundedMap(s: JsonSchema): boolean {
  const names = s.propertyNames as JsonSchema | undefined;
  return (
    typeof s.additionalProperties === 'object' &&
    s.additionalProperties !== null &&
    typeof s.maxProperties === 'number' &&
    typeof names === 'object' &&
    typeof names.maxLength === 'number' &&
    typeof names.pattern === 'string'
  );
}

/**
 * Calls `check` on a schema and on every schema a value under it can meet (properties, array
 * items, the branches of anyOf/oneOf/allOf, and a map's value schema when `intoMap` allows),
 * with a JSON-pointer-ish location. `check` returns false to leave a schema's insides alone.
 */
function walkSchema(
  schema: unknown,
  where: string,
  check: (s: JsonSchema, at: string) => boolean,
  intoMap: (s: JsonSchema) => boolean,
): void {
  const visit = (node: unknown, at: string): void => {
    if (typeof node !== 'object' || node === null) return;
    const s = node as JsonSchema;
    if (!check(s, at)) return;
    if (intoMap(s)) visit(s.additionalProperties, `${at}.*`);
    if (s.properties && typeof s.properties === 'object') {
      for (const [key, child] of Object.entries(s.properties as JsonSchema)) {
        visit(child, `${at}.${key}`);
      }
    }
    if (s.items) visit(s.items, `${at}[]`);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const list = s[key];
      if (Array.isArray(list)) list.forEach((child, i) => visit(child, `${at}(${key}${i})`));
    }
  };
  visit(schema, where);
}

/** Walks a request schema and reports every rule it breaks, with a JSON-pointer-ish location. */
export function requestSchemaViolations(schema: unknown, where: string): string[] {
  const problems: string[] = [];
  const check = (s: JsonSchema, at: string): boolean => {
    const types = Array.isArray(s.type) ? (s.type as unknown[]) : [s.type];
    const bounded = 'enum' in s || 'const' in s;
    if (types.includes('string') && !bounded && typeof s.maxLength !== 'number') {
      problems.push(`${at}: string without maxLength`);
    }
    if (types.includes('array') && typeof s.maxItems !== 'number') {
      problems.push(`${at}: array without maxItems`);
    }
    if (types.includes('object') && s.additionalProperties !== false && !isBoundedMap(s)) {
      problems.push(`${at}: object must set additionalProperties: false`);
    }
    if ('patternProperties' in s) problems.push(`${at}: patternProperties are not allowed`);
    return true;
  };
  // Only a bounded map's values are a request's data to check; any other open object is refused.
  walkSchema(schema, where, check, isBoundedMap);
  return problems;
}

/**
 * Walks a success response schema and reports every object that lets undeclared fields out
 * (additionalProperties: true) and every value of no declared type, unless marked OPEN_ANSWER.
 */
export function responseSchemaViolations(schema: unknown, where: string): string[] {
  const problems: string[] = [];
  const check = (s: JsonSchema, at: string): boolean => {
    if (s[OPEN_ANSWER] === true) return false;
    const shaped = ['type', 'anyOf', 'oneOf', 'allOf', 'const', 'enum', '$ref'].some(
      (key) => key in s,
    );
    if (!shaped) problems.push(`${at}: a value of no declared type`);
    if (s.additionalProperties === true) {
      problems.push(`${at}: object lets undeclared fields out (additionalProperties: true)`);
    }
    return true;
  };
  walkSchema(schema, where, check, (s) => typeof s.additionalProperties === 'object');
  return problems;
}

/** All violations of one route; empty when it honours the contract. */
export function routeViolations(route: RouteOptions): string[] {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const name = `${methods.join(',')} ${route.url}`;
  const problems: string[] = [];
  const config = route.config ?? {};
  const access = config.access;
  if (!access) problems.push('no access declaration (PUBLIC or requireScopes)');
  if (access?.kind === 'scopes') {
    if (access.scopes.length === 0) problems.push('requireScopes needs at least one scope');
    for (const scope of access.scopes) {
      if (!SCOPE_PATTERN.test(scope)) {
        problems.push(`scope "${scope}" is not of the form area:action`);
      }
    }
  }
  if (!config.rateClass || !RATE_CLASSES.includes(config.rateClass)) {
    problems.push(`no rate class (one of ${RATE_CLASSES.join(', ')})`);
  }
  const schema = route.schema ?? {};
  const response = schema.response as Record<string, unknown> | undefined;
  if (!response || !Object.keys(response).some((status) => /^2\d\d$|^2xx$/.test(status))) {
    problems.push('no response schema for its success status');
  }
  for (const [status, answer] of Object.entries(response ?? {})) {
    if (/^2\d\d$|^2xx$/.test(status)) {
      problems.push(...responseSchemaViolations(answer, `response ${status}`));
    }
  }
  for (const part of ['params', 'querystring', 'body', 'headers'] as const) {
    if (schema[part] !== undefined) problems.push(...requestSchemaViolations(schema[part], part));
  }
  if (/:[^/]+/.test(route.url) && schema.params === undefined) {
    problems.push('path parameters without a params schema');
  }
  if (methods.some((m) => BODY_METHODS.has(m)) && schema.body === undefined) {
    problems.push('no body schema');
  }
  return problems.map((problem) => `${name}: ${problem}`);
}

/**
 * Installs the contract on an instance. Call before any route is registered; the
 * returned table lists every declared route (for `haven routes` and the self-audit).
 */
export function enforceRouteContract(app: FastifyInstance): RouteTableRow[] {
  const violations: string[] = [];
  const table: RouteTableRow[] = [];
  const getUrls = new Set<string>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('GET')) getUrls.add(route.url);
    // Fastify derives HEAD from GET; the GET row already carries the declaration. A HEAD route
    // declared on its own (tus progress) is a route like any other.
    if (route.method === 'HEAD' && getUrls.has(route.url)) return;
    const problems = routeViolations(route);
    violations.push(...problems);
    const access = route.config?.access;
    for (const method of methods) {
      table.push({
        method,
        path: route.url,
        access: access?.kind ?? 'UNDECLARED',
        scopes: access?.kind === 'scopes' ? access.scopes.join(' ') : '',
        stepUp: access?.kind === 'scopes' && access.stepUp,
        serves: access?.kind === 'scopes' ? access.serves.join(' ') : '',
        rateClass: route.config?.rateClass ?? 'UNDECLARED',
        schema: {
          params: route.schema?.params,
          querystring: route.schema?.querystring,
          body: route.schema?.body,
        },
      });
    }
  });
  app.addHook('onReady', async () => {
    if (violations.length > 0) {
      throw new RouteContractError(violations);
    }
  });
  return table;
}

export class RouteContractError extends Error {
  constructor(readonly violations: readonly string[]) {
    super(
      `Route contract violated; refusing to start:\n${violations.map((v) => `  - ${v}`).join('\n')}`,
    );
    this.name = 'RouteContractError';
  }
}
