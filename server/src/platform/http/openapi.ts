// The API's OpenAPI 3.1 document, generated from what the route contract already makes every
// route declare (path, method, TypeBox schemas, access, rate class), so it cannot drift from
// the routes. Only the shared pieces are written here: the two ways to authenticate and the
// problem+json error. `haven openapi` prints it; api-docs.ts serves it with a docs UI.
import { createRequire } from 'node:module';
import fastifySwagger, {
  type FastifyDynamicSwaggerOptions,
  type SwaggerTransform,
  type SwaggerTransformObject,
} from '@fastify/swagger';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { OpenAPI, OpenAPIV3_1 } from 'openapi-types';
import { STEP_UP_WINDOW_SECONDS } from '../auth/access.js';
import { ERROR_CATALOG } from '../errors.js';
import type { RouteAccess } from './route-contract.js';

const BEARER_SCHEME = 'bearerToken';
const COOKIE_SCHEME = 'sessionCookie';

export interface OpenApiOptions {
  /** The browser session's access cookie, documented as the second way to authenticate. */
  readonly sessionCookie: string;
}

/** An operation as this file reads it; the rest of the document passes through untouched. */
interface Operation {
  security?: ReadonlyArray<Readonly<Record<string, readonly string[]>>>;
  responses?: Record<string, unknown>;
}

export type OpenApiDocument = OpenAPIV3_1.Document;

const OPERATION_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch']);

const PROBLEM_SCHEMA: OpenAPIV3_1.SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable, the texts are for people.',
  required: ['type', 'title', 'status', 'code', 'requestId'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    code: { type: 'string', enum: Object.keys(ERROR_CATALOG) },
    requestId: { type: 'string', description: 'Also in the x-request-id response header.' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      description: 'The fields a VALIDATION_FAILED request got wrong.',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: {
          field: { type: 'string' },
          message: { type: 'string', description: 'A sentence a person can act on.' },
          code: {
            type: 'string',
            description:
              'What the schema check refused: required, unknown_property, format, too_short, too_long, too_small, too_large, too_few, too_many, pattern, choice, type, invalid.',
          },
          limit: { type: 'number' },
          format: { type: 'string' },
          expected: { type: 'string' },
        },
      },
    },
  },
};

function problemResponse(description: string): OpenAPIV3_1.ResponseObject {
  return {
    description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}

/** The refusals any route can answer, by status; each operation lists those that apply to it. */
type ErrorResponse =
  'BadRequest' | 'Unauthenticated' | 'Forbidden' | 'RateLimited' | 'ClientError' | 'ServerError';

const ERROR_RESPONSES: Readonly<Record<ErrorResponse, OpenAPIV3_1.ResponseObject>> = {
  BadRequest: problemResponse('Malformed request or a field outside its schema.'),
  Unauthenticated: problemResponse('No valid access token or session cookie.'),
  Forbidden: problemResponse(
    'A required scope is missing (FORBIDDEN), the MFA check is too old (STEP_UP_REQUIRED), or a ' +
      'cookie-borne change came without its CSRF token (CSRF_FAILED).',
  ),
  RateLimited: {
    ...problemResponse('Over the rate limit of the route’s class.'),
    headers: { 'retry-after': { description: 'Seconds to wait.', schema: { type: 'integer' } } },
  },
  ClientError: problemResponse('Refused, for example NOT_FOUND (also for no access) or CONFLICT.'),
  ServerError: problemResponse('INTERNAL_ERROR, or SERVICE_UNAVAILABLE with retry-after.'),
};

function securitySchemes(sessionCookie: string): Record<string, OpenAPIV3_1.SecuritySchemeObject> {
  return {
    [BEARER_SCHEME]: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'An access token (typ at+jwt, 5 minutes) from sign-in, or a machine client’s token. The ' +
        'scopes an operation lists must all be in its `scope` claim.',
    },
    [COOKIE_SCHEME]: {
      type: 'apiKey',
      in: 'cookie',
      name: sessionCookie,
      description:
        'The web app’s HttpOnly session cookie, with the scopes of the user’s roles. Requests ' +
        'other than GET must also come from an allowed origin and send the x-csrf-token header.',
    },
  };
}

const serverPackage = createRequire(import.meta.url)('../../../package.json') as {
  version: string;
};

/** Routes that are not API operations: the SPA's file route and the CORS preflight. */
function isApiOperation(route: RouteOptions): boolean {
  return route.config?.spaFallback !== true && route.method !== 'OPTIONS';
}

function securityOf(access: RouteAccess | undefined): Operation['security'] {
  if (access?.kind !== 'scopes') return [];
  // OpenAPI 3.1 lets any scheme name the roles it needs: the same scopes for both ways in.
  return [{ [BEARER_SCHEME]: access.scopes }, { [COOKIE_SCHEME]: access.scopes }];
}

function accessSummary(access: RouteAccess | undefined): string {
  if (access?.kind !== 'scopes') return 'Public.';
  const stepUp = access.stepUp
    ? ` Step-up: an MFA check in the last ${STEP_UP_WINDOW_SECONDS / 60} minutes.`
    : '';
  const callers = access.serves.map((caller) =>
    caller === 'machine-client'
      ? 'machine clients (OAuth client credentials)'
      : 'connected apps acting for a person',
  );
  const serves =
    callers.length > 0
      ? ` Also open to ${callers.join(' and ')}; every other route only to people signed in themselves.`
      : '';
  return `Requires scopes: ${access.scopes.join(', ')}.${stepUp}${serves}`;
}

/** The first path segment under /api names the area (`/api/admin/users` → admin). */
function tagOf(url: string): string {
  const [first, second] = url.split('/').filter(Boolean);
  return first === 'api' && second ? second : 'platform';
}

/** Adds what the route declares beyond its schemas: area, access and rate class. */
const describeRoute: SwaggerTransform = ({ schema, url, route }) => {
  // A route without schemas breaks the contract (the server then refuses to start), but
  // `haven routes` and the contract's own tests still build such apps.
  const declared: FastifySchema = schema ?? {};
  if (!isApiOperation(route)) return { schema: { ...declared, hide: true }, url };
  const access = route.config?.access;
  const described = {
    ...declared,
    tags: declared.tags ?? [tagOf(url)],
    description: [declared.description, accessSummary(access)].filter(Boolean).join('\n\n'),
    security: securityOf(access),
    'x-haven-access': access?.kind ?? 'undeclared',
    'x-haven-rate-class': route.config?.rateClass ?? 'undeclared',
  } satisfies FastifySchema & Record<`x-${string}`, unknown>;
  return { schema: described, url };
};

/** The problem+json answers of one operation, by status, beside its declared successes. */
function errorResponsesOf(operation: Operation): Array<readonly [string, ErrorResponse]> {
  const authenticated = (operation.security?.length ?? 0) > 0;
  const statuses: Array<readonly [string, ErrorResponse]> = [['400', 'BadRequest']];
  if (authenticated) statuses.push(['401', 'Unauthenticated'], ['403', 'Forbidden']);
  statuses.push(['429', 'RateLimited'], ['4XX', 'ClientError'], ['5XX', 'ServerError']);
  return statuses;
}

function isOperation(value: unknown): value is Operation {
  return typeof value === 'object' && value !== null && 'responses' in value;
}

const addErrorResponses: SwaggerTransformObject = (documentObject) => {
  if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
  const document = documentObject.openapiObject;
  for (const pathItem of Object.values(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(pathItem ?? {})) {
      if (!OPERATION_METHODS.has(method) || !isOperation(operation)) continue;
      const responses = (operation.responses ??= {});
      for (const [status, name] of errorResponsesOf(operation)) {
        responses[status] ??= { $ref: `#/components/responses/${name}` };
      }
    }
  }
  return document;
};

/**
 * Starts collecting routes for the document. Call before any route is registered:
 * @fastify/swagger learns routes through onRoute, as the route contract does.
 */
export async function installOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  const swaggerOptions: FastifyDynamicSwaggerOptions = {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Haven API',
        version: serverPackage.version,
        description:
          'Generated from the route table. Errors are application/problem+json with a stable ' +
          '`code`; a record the caller may not see answers 404, exactly like a missing one.',
      },
      components: {
        securitySchemes: securitySchemes(options.sessionCookie),
        schemas: { Problem: PROBLEM_SCHEMA },
        responses: ERROR_RESPONSES,
      },
    },
    transform: describeRoute,
    transformObject: addErrorResponses,
  };
  await app.register(fastifySwagger, swaggerOptions);
}

function isOpenApi31(document: OpenAPI.Document): document is OpenAPIV3_1.Document {
  return 'openapi' in document && document.openapi.startsWith('3.1.');
}

/** The document of a ready app. */
export function openApiDocument(app: FastifyInstance): OpenApiDocument {
  const document = app.swagger();
  if (!isOpenApi31(document)) throw new Error('@fastify/swagger produced no OpenAPI 3.1 document');
  return document;
}
