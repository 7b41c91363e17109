// V1, V4, E1: schema-driven fuzz of every registered route. Requests are generated from each
// route's own JSON schemas (params, querystring, body) with fast-check from a fixed seed —
// valid instances, then hostile variants: wrong types, overlong strings, extra and missing
// fields, deep nesting, Unicode edge cases, SQL and script payloads, huge and negative
// numbers, NaN-like strings and path-parameter tricks. They go out as a caller who passes
// every route's authorization (all roles, org admin of an organization with patients, a
// linked patient record, fresh MFA) and anonymously. Every answer must be below 500, leak no
// stack trace, internal message or SQL, and every error must be problem+json with a code.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Role } from '../../src/platform/db/schema.js';
import type { RouteTableRow } from '../../src/platform/http/route-contract.js';
import { createValidatorCompiler } from '../../src/platform/http/validation.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import {
  GENEROUS_RATE_LIMITS,
  createNoteRow,
  createOrganization,
  createPatientRow,
  createUser,
  mintSession,
} from '../actors.js';
import {
  arbitraryFor,
  deleteAt,
  isFreeText,
  isStringLeaf,
  leavesOf,
  setAt,
  typesOf,
  type JsonSchema,
  type KnownIds,
  type Leaf,
} from './schema-arbitrary.js';
import { newDocument } from './authorization-matrix.table.js';
import {
  addStudyMember,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  insertStudy,
} from '../review-actors.js';

const SEED = 0x4a7e_2024;
const VALID_SAMPLES = 3;
const MIN_CASES_PER_ENGINE = 1000;
const ALL_ROLES: Role[] = ['admin', 'clinician', 'patient', 'researcher', 'participant'];

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'HEAD';

interface FuzzCase {
  readonly label: string;
  readonly method: Method;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly payload?: string | Buffer;
  readonly authenticated: boolean;
}

// ---------------------------------------------------------------------------------------------
// Hostile values

/** Strings aimed at text fields: Unicode edge cases, SQL, script and template payloads. */
const HOSTILE_STRINGS: readonly string[] = [
  '\ud800',
  'a\udfffb',
  'nul\u0000byte',
  '\u202egnp.exe',
  '\u200d\u200c\u2060\ufeff',
  '👨\u200d👩\u200d👧\u200d👦',
  '🦄💉🏥',
  'e\u0301\u0301\u0301\u0301',
  'A\u030a and \u212b',
  '\u1e9b\u0323 non-NFC',
  '  padded  ',
  '\u2028line\u2029separators\u0085',
  "' OR 1=1--",
  '"; DROP TABLE patients;--',
  '\\x00',
  "'; SELECT pg_sleep(1);--",
  "1' UNION SELECT NULL,NULL--",
  '%00',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '{{7*7}}${7*7}<%= 7*7 %>',
  'NaN',
  'Infinity',
  '-1',
  '1e999',
  '0x7fffffff',
  '',
  ' ',
];

/** Values of the wrong JSON type, by the leaf's declared type. */
const WRONG_TYPES: Readonly<Record<string, readonly unknown[]>> = {
  string: [12345, null, true, [], {}, ['a'], 1.5],
  integer: ['abc', 'NaN', 'Infinity', 1.5, null, '12', []],
  number: ['abc', 'NaN', '-0', null, {}, true],
  boolean: ['true', 1, null, 'yes', 0],
  other: [null, 'x', 0],
};

/** JSON number literals that JSON.stringify cannot write: sent raw in place of a marker. */
const RAW_NUMBERS = [
  '1e999',
  '-1e999',
  '9007199254740993',
  '-9223372036854775809',
  '1e308',
  '-1',
  '0',
  '-0',
  '0.0000001',
  '2147483648',
];

const UUID_TRICKS = [
  'not-a-uuid',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  "' OR 1=1--",
  '{6f1c2a9e-3b5d-4e7f-8a9b-0c1d2e3f4a5b}',
  '6f1c2a9e3b5d4e7f8a9b0c1d2e3f4a5b',
];

/** Path-parameter tricks, already percent-encoded as a client would put them in the URL. */
const PATH_TRICKS = [
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '..',
  '%2e%2e',
  '%00',
  'x%00.json',
  'a'.repeat(150),
  'a'.repeat(300),
  'not-a-uuid',
  '%27%20OR%201%3D1--',
  '%22%3B%20DROP%20TABLE%20patients%3B--',
  '%E2%80%AE',
  '%F0%9F%A6%84',
  '%ff%fe',
  '%',
  '%C0%AE%C0%AE',
  '00000000-0000-0000-0000-000000000000',
  '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
  '-1',
  'NaN',
];

const SPA_TRICKS = [
  'assets/../../../../etc/passwd',
  '%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  'index.html%00.js',
  'assets/%2e%2e%2f%2e%2e%2fpackage.json',
  '..%5c..%5cwindows%5cwin.ini',
  'a'.repeat(2000),
  '%ff',
  'assets/x.js',
  '.env',
  'assets/.%2e/.%2e/secret',
];

// ---------------------------------------------------------------------------------------------
// Leak detection

const STACK_TRACES = [
  /\bat\s+(?:async\s+)?(?:[\w$.<>[\]]+\s+)?\(?(?:file:\/\/|\/|[A-Za-z]:\\)[^\s)]*/,
  /\.(?:ts|js|mjs|cjs):\d+/,
];
/** Never in any answer: engine and runtime error text. */
const INTERNAL_TEXT = [
  'syntax error',
  'violates',
  'duplicate key',
  'PGlite',
  'invalid input syntax',
  'invalid byte sequence',
  'TypeError',
  'ReferenceError',
  'RangeError',
  'Cannot read propert',
  'is not a function',
  'clinical history is never destroyed',
  'ECONNREFUSED',
  'node_modules',
];
/** Never in an error answer: SQL itself. (A 2xx may legitimately echo stored text.) */
const SQL_TEXT = [
  'relation "',
  'column "',
  'SELECT ',
  'INSERT INTO',
  'UPDATE ',
  'DELETE FROM',
  'pg_',
];

/** The request's own payload echoed back is not a leak; remove it before looking. */
function withoutEcho(body: string, request: FuzzCase): string {
  let text = body;
  const sent = typeof request.payload === 'string' ? request.payload : '';
  for (const value of HOSTILE_STRINGS) {
    if (value.length < 3) continue;
    if (sent.includes(JSON.stringify(value).slice(1, -1)) || request.url.includes(value)) {
      text = text.split(JSON.stringify(value).slice(1, -1)).join('').split(value).join('');
    }
  }
  return text;
}

/** Routes whose refusals are HTML pages for a person (the OAuth authorization endpoint). */
const BROWSER_PAGES = /^\/oauth\/authorize(?:[/?]|$)/;
/** Routes whose malformed requests are answered in OAuth's own format (RFC 6749 §5.2). */
const TOKEN_ENDPOINTS = /^\/oauth\/token(?:\/introspection|\/revocation)?(?:\?|$)/;

/** An OAuth error answer: JSON with an `error` code, 400 or 401. */
function isOAuthError(status: number, contentType: string, body: string): boolean {
  if ((status !== 400 && status !== 401) || !contentType.startsWith('application/json')) {
    return false;
  }
  try {
    return typeof (JSON.parse(body) as { error?: unknown }).error === 'string';
  } catch {
    return false;
  }
}

function problemsOf(
  request: FuzzCase,
  response: { statusCode: number; body: string; headers: Record<string, unknown> },
): string[] {
  const problems: string[] = [];
  const status = response.statusCode;
  if (status >= 500) problems.push(`status ${status}`);
  // A served script or style sheet (the docs UI's library) is program text, where error names
  // are code rather than a leak.
  const program =
    status < 300 && /^text\/(?:javascript|css)\b/.test(String(response.headers['content-type']));
  const body = program ? '' : withoutEcho(response.body, request);
  for (const pattern of STACK_TRACES) {
    const hit = pattern.exec(body);
    if (hit) problems.push(`stack trace: ${JSON.stringify(hit[0].slice(0, 80))}`);
  }
  for (const fragment of INTERNAL_TEXT) {
    if (body.includes(fragment)) problems.push(`internal text: ${JSON.stringify(fragment)}`);
  }
  if (status >= 400) {
    for (const fragment of SQL_TEXT) {
      if (body.includes(fragment)) problems.push(`SQL text: ${JSON.stringify(fragment)}`);
    }
    const header = response.headers['content-type'];
    const contentType = typeof header === 'string' ? header : '';
    // The OAuth authorization endpoint talks to a browser, not a program: a request it cannot
    // send back to the app is answered with a page for the person (RFC 6749 §4.1.2.1). Its page
    // is still held to no 5xx, no stack trace, no internal or SQL text above.
    if (BROWSER_PAGES.test(request.url) && contentType.startsWith('text/html')) return problems;
    // The token endpoints answer a malformed request as RFC 6749 §5.2 says, in OAuth's format.
    if (TOKEN_ENDPOINTS.test(request.url) && isOAuthError(status, contentType, response.body)) {
      return problems;
    }
    if (!contentType.startsWith('application/problem+json')) {
      problems.push(`error is ${contentType || 'without a content type'}, not problem+json`);
    }
    // A HEAD answer carries headers only (RFC 9110): its problem is judged by its content type.
    if (request.method === 'HEAD') return problems;
    try {
      const parsed = JSON.parse(response.body) as { code?: unknown; status?: unknown };
      if (typeof parsed.code !== 'string') problems.push('problem without a code');
      if (parsed.status !== status) problems.push('problem status differs from the HTTP status');
    } catch {
      problems.push('error body is not JSON');
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Case generation

/** A stable per-route seed, independent of registration order. */
function seedFor(route: string): number {
  let hash = SEED;
  for (let i = 0; i < route.length; i++) hash = (Math.imul(hash, 31) + route.charCodeAt(i)) | 0;
  return hash;
}

const asSchema = (value: unknown): JsonSchema | undefined =>
  typeof value === 'object' && value !== null ? (value as JsonSchema) : undefined;

function urlFor(
  routePath: string,
  params: Readonly<Record<string, string>>,
  raw: ReadonlySet<string> = new Set(),
): string {
  return routePath
    .split('/')
    .map((part) => {
      const name = part.startsWith(':') ? part.slice(1) : part === '*' ? '*' : undefined;
      if (name === undefined) return part;
      const value = params[name] ?? '';
      return raw.has(name) || name === '*' ? value : encodeURIComponent(value);
    })
    .join('/');
}

function queryFor(query: unknown): string {
  if (typeof query !== 'object' || query === null) return '';
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      search.append(key, typeof item === 'string' ? item : JSON.stringify(item));
    }
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

const RAW_MARKER = '__haven_fuzz_raw__';
/** JSON with a raw literal where the marker string stands. */
const jsonWithRaw = (value: unknown, raw: string): string =>
  JSON.stringify(value).replace(`"${RAW_MARKER}"`, raw);

function wrongTypesFor(leaf: Leaf): readonly unknown[] {
  const type = typesOf(leaf.schema)[0] ?? (isStringLeaf(leaf.schema) ? 'string' : 'other');
  return WRONG_TYPES[type] ?? WRONG_TYPES.other ?? [];
}

/** Every case for one route: valid instances and hostile variants, all deterministic. */
function casesFor(row: RouteTableRow, known: KnownIds, origin: string): FuzzCase[] {
  const route = `${row.method} ${row.path}`;
  const method = row.method as Method;
  const paramsSchema = asSchema(row.schema?.params);
  const querySchema = asSchema(row.schema?.querystring);
  const bodySchema = asSchema(row.schema?.body);
  const seed = seedFor(route);
  const authenticated = row.access !== 'public';
  const baseHeaders: Record<string, string> = { origin };
  const jsonHeaders = { ...baseHeaders, 'content-type': 'application/json' };

  // Candidates are checked with the server's own validator, so "valid" really is valid
  // (a generator cannot honour every pattern and format combination by construction).
  const sample = (schema: JsonSchema | undefined, offset: number): unknown[] => {
    if (!schema) return Array.from({ length: VALID_SAMPLES }, () => undefined);
    const candidates = fc.sample(arbitraryFor(schema, known), {
      seed: seed + offset,
      numRuns: VALID_SAMPLES * 10,
    });
    const valid = validatorFor(schema);
    const passing = candidates.filter((c) => valid(c));
    return [...passing, ...candidates].slice(0, VALID_SAMPLES);
  };
  const params = sample(paramsSchema, 1) as Array<Record<string, string> | undefined>;
  const queries = sample(querySchema, 2);
  const bodies = sample(bodySchema, 3);
  const baseParams = params[0] ?? {};
  const baseQuery = queries[0];
  const baseBody = bodies[0];
  const baseUrl = urlFor(row.path, baseParams);

  const cases: FuzzCase[] = [];
  const add = (
    label: string,
    parts: { url?: string; payload?: string | Buffer; headers?: Record<string, string> },
  ): void => {
    const payload = parts.payload ?? (bodySchema ? JSON.stringify(baseBody ?? {}) : undefined);
    cases.push({
      label,
      method,
      url: parts.url ?? `${baseUrl}${queryFor(baseQuery)}`,
      headers: parts.headers ?? (payload === undefined ? baseHeaders : jsonHeaders),
      ...(payload === undefined ? {} : { payload }),
      authenticated,
    });
  };

  // Valid instances.
  for (let i = 0; i < VALID_SAMPLES; i++) {
    const body = bodies[i];
    add(`valid #${i + 1}`, {
      url: `${urlFor(row.path, params[i] ?? baseParams)}${queryFor(queries[i])}`,
      ...(bodySchema ? { payload: JSON.stringify(body ?? {}) } : {}),
    });
  }

  if (method === 'OPTIONS') {
    // The preflight route has no schema: vary what a preflight carries instead.
    for (const [i, value] of [
      'GET',
      'TRACE',
      'X'.repeat(1000),
      "' OR 1=1--",
      '<script>',
      'DELETE',
    ].entries()) {
      add(`preflight method #${i}`, {
        url: '/api/patients/search',
        headers: { origin: 'https://evil.example', 'access-control-request-method': value },
      });
      add(`preflight headers #${i}`, {
        url: '/api/auth/me',
        headers: {
          origin: i % 2 === 0 ? 'null' : origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': `x-csrf-token, ${value}, ${'h'.repeat(i * 200)}`,
        },
      });
    }
    return cases;
  }

  // Body variants.
  if (bodySchema) {
    const leaves = leavesOf(bodySchema);
    const body = baseBody ?? {};
    const send = (label: string, payload: string | Buffer, headers = jsonHeaders) =>
      add(label, { payload, headers });
    send('extra field', JSON.stringify(setAt(body, ['unexpectedField'], 'x')));
    send('__proto__ pollution', '{"__proto__":{"isAdmin":true},"a":1}');
    send('constructor pollution', '{"constructor":{"prototype":{"isAdmin":true}}}');
    send('deep nesting (5000 arrays)', '['.repeat(5000) + ']'.repeat(5000));
    send('deep nesting (40 objects)', '{"a":'.repeat(40) + '1' + '}'.repeat(40));
    send('array body', '[]');
    send('null body', 'null');
    send('string body', '"body"');
    send('number body', '1e999');
    send('boolean body', 'true');
    send('truncated JSON', '{"a":');
    send('empty body', '');
    send(
      'invalid UTF-8',
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    );
    send(
      'CESU lone surrogate bytes',
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
    );
    send('100 kB padding field', JSON.stringify({ ...body, padding: 'x'.repeat(100_000) }));
    send('text/plain', JSON.stringify(body), { ...baseHeaders, 'content-type': 'text/plain' });
    send('form encoded', 'a=1&b=2', {
      ...baseHeaders,
      'content-type': 'application/x-www-form-urlencoded',
    });
    send('json with charset', JSON.stringify(body), {
      ...baseHeaders,
      'content-type': 'application/json; charset=utf-16',
    });

    const freeText = leaves.filter((l) => isFreeText(l.schema));
    const stringLeaves = leaves.filter((l) => isStringLeaf(l.schema));
    leaves.forEach((leaf, i) => {
      const at = leaf.path.join('.');
      for (const value of wrongTypesFor(leaf).filter((_, j) => j % 2 === i % 2)) {
        send(
          `${at}: wrong type ${JSON.stringify(value)}`,
          JSON.stringify(setAt(body, leaf.path, value)),
        );
      }
      if (leaf.required) send(`${at}: missing`, JSON.stringify(deleteAt(body, leaf.path)));
      const maxLength =
        typeof leaf.schema.maxLength === 'number' ? leaf.schema.maxLength : undefined;
      if (maxLength !== undefined) {
        send(
          `${at}: maxLength+1`,
          JSON.stringify(setAt(body, leaf.path, 'a'.repeat(maxLength + 1))),
        );
        send(
          `${at}: maxLength of astral code points`,
          JSON.stringify(setAt(body, leaf.path, '😀'.repeat(maxLength))),
        );
      }
      if (isStringLeaf(leaf.schema)) {
        send(`${at}: 100 kB`, JSON.stringify(setAt(body, leaf.path, 'x'.repeat(100_000))));
      }
      if (leaf.schema.format === 'uuid') {
        for (const value of UUID_TRICKS) {
          send(`${at}: uuid trick ${value}`, JSON.stringify(setAt(body, leaf.path, value)));
        }
      }
      const numeric = ['integer', 'number'].includes(typesOf(leaf.schema)[0] ?? '');
      if (numeric) {
        for (const raw of RAW_NUMBERS) {
          send(`${at}: number ${raw}`, jsonWithRaw(setAt(body, leaf.path, RAW_MARKER), raw));
        }
      }
      send(`${at}: nested 20 deep`, JSON.stringify(setAt(body, leaf.path, nested(20))));
    });
    const targets = freeText.length > 0 ? freeText : stringLeaves;
    if (targets.length > 0) {
      HOSTILE_STRINGS.forEach((value, i) => {
        const leaf = targets[i % targets.length]!;
        send(
          `${leaf.path.join('.')}: hostile ${JSON.stringify(value)}`,
          JSON.stringify(setAt(body, leaf.path, value)),
        );
      });
    }
  }

  // Query-string variants.
  if (querySchema) {
    const leaves = leavesOf(querySchema);
    const query = (baseQuery ?? {}) as Record<string, unknown>;
    const at = (q: Record<string, unknown>) => `${baseUrl}${queryFor(q)}`;
    add('query: unknown key', { url: at({ ...query, unexpected: '1' }) });
    add('query: prototype keys', { url: `${baseUrl}?__proto__=x&constructor=y&toString=z` });
    add('query: bracket syntax', { url: `${baseUrl}?a[]=1&a[b]=2` });
    add('query: malformed encoding', { url: `${baseUrl}?q=%&r=%ff%fe&s=%00` });
    leaves.forEach((leaf, i) => {
      const key = String(leaf.path[0]);
      const values = [
        'abc',
        'NaN',
        '1e999',
        '-1',
        '1.5',
        'true',
        'a'.repeat((typeof leaf.schema.maxLength === 'number' ? leaf.schema.maxLength : 200) + 1),
        'x'.repeat(100_000),
        HOSTILE_STRINGS[i % HOSTILE_STRINGS.length]!,
        HOSTILE_STRINGS[(i + 7) % HOSTILE_STRINGS.length]!,
        HOSTILE_STRINGS[(i + 13) % HOSTILE_STRINGS.length]!,
      ];
      for (const value of values) {
        add(`query ${key}=${JSON.stringify(value.slice(0, 20))}`, {
          url: at({ ...query, [key]: value }),
        });
      }
      add(`query ${key} twice`, {
        url: `${at(query)}${queryFor(query) ? '&' : '?'}${key}=1&${key}=2`,
      });
    });
  } else if (method === 'GET') {
    add('query on a route without query schema', { url: `${baseUrl}?__proto__=x&limit=-1&q=%00` });
  }

  // Path-parameter variants.
  const paramNames = Object.keys(asSchema(paramsSchema?.properties) ?? {});
  for (const name of paramNames) {
    const tricks = name === '*' ? SPA_TRICKS : PATH_TRICKS;
    for (const trick of tricks) {
      add(`path ${name}=${trick.slice(0, 24)}`, {
        url: `${urlFor(row.path, { ...baseParams, [name]: trick }, new Set([name]))}${queryFor(baseQuery)}`,
      });
    }
    const knownId = baseParams[name];
    if (knownId && /^[0-9a-f-]{36}$/.test(knownId)) {
      add(`path ${name} upper-case`, {
        url: urlFor(row.path, { ...baseParams, [name]: knownId.toUpperCase() }),
      });
      add(`path ${name} trailing slash`, { url: `${urlFor(row.path, baseParams)}/` });
      add(`path ${name} with suffix`, {
        url: urlFor(row.path, { ...baseParams, [name]: `${knownId}%27` }, new Set([name])),
      });
    }
  }
  return cases;
}

const compileValidator = createValidatorCompiler();
/** The server's body validator (no coercion) for a schema. */
function validatorFor(schema: JsonSchema): (value: unknown) => boolean {
  const validate = compileValidator({ schema, httpPart: 'body', method: 'POST', url: '/' }) as (
    value: unknown,
  ) => boolean;
  return (value) => validate(structuredClone(value)) === true;
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

// ---------------------------------------------------------------------------------------------
// The run

interface FuzzWorld {
  readonly known: KnownIds;
  readonly user: { userId: string; email: string; roles: readonly Role[] };
}

/**
 * Two studies in the fuzz organization: one the fuzz actor owns (researcher routes reach it)
 * and one it takes part in (participation routes reach its assignment).
 */
async function buildFuzzStudies(
  db: TestApp['app']['database']['db'],
  organizationId: string,
  actorId: string,
  memberId: string,
): Promise<KnownIds> {
  const owned = await insertStudy(db, organizationId, actorId);
  const caseId = await insertCase(db, owned, 'fuzz-case');
  const versionId = await insertPublishedQuestionnaire(db, owned);
  const experiment = await db
    .insertInto('experiments')
    .values({ study_id: owned, name: 'Fuzz experiment' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const joined = await insertStudy(db, organizationId, memberId);
  await addStudyMember(db, joined, actorId, 'participant');
  const joinedCase = await insertCase(db, joined, 'fuzz-joined-case');
  await insertPublishedQuestionnaire(db, joined);
  const assignmentId = await insertAssignment(db, joined, actorId, joinedCase);
  return {
    studyId: [owned, joined],
    caseId: [caseId],
    versionId: [versionId],
    experimentId: [experiment.id],
    assignmentId: [assignmentId],
    participantId: [actorId],
    armId: [],
  };
}

async function buildFuzzWorld(t: TestApp): Promise<FuzzWorld> {
  const db = t.app.database.db;
  const actor = await createUser(db, { roles: ALL_ROLES, displayName: 'Fuzz Everyrole' });
  const member = await createUser(db, { roles: ['clinician'] });
  const organizationId = await createOrganization(db, {
    members: [
      { userId: actor.userId, role: 'org_admin' },
      { userId: member.userId, role: 'clinician' },
    ],
  });
  const patientId = await createPatientRow(db, organizationId, { mrn: 'FUZZ-1' });
  const ownRecord = await createPatientRow(db, organizationId, {
    mrn: 'FUZZ-SELF',
    portalUserId: actor.userId,
  });
  const documentId = await newDocument({ db }, organizationId, 'treatment');
  const consent = await db
    .insertInto('patient_consents')
    .values({ patient_id: ownRecord, document_id: documentId, channel: 'paper' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const noteId = await createNoteRow(db, patientId, organizationId, actor.userId, [
    { body: 'Fuzz note', shareable: true },
  ]);
  const grant = await db
    .insertInto('break_glass_grants')
    .values({
      admin_id: actor.userId,
      patient_id: patientId,
      organization_id: organizationId,
      reason: 'Fuzz: emergency access',
      expires_at: new Date(Date.now() + 60 * 60_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const reviews = await buildFuzzStudies(db, organizationId, actor.userId, member.userId);
  return {
    user: { ...actor, roles: ALL_ROLES },
    known: {
      ...reviews,
      patientId: [patientId, ownRecord],
      organizationId: [organizationId],
      userId: [member.userId],
      id: [member.userId],
      actorId: [actor.userId],
      documentId: [documentId],
      consentId: [consent.id],
      noteId: [noteId],
      grantId: [grant.id],
      cursor: [patientId],
    },
  };
}

describeEachEngine('schema fuzz', (engine) => {
  let t: TestApp;
  let world: FuzzWorld;
  let webDir: string;
  const totals = { requests: 0, authenticated: 0, anonymous: 0 };

  beforeAll(async () => {
    // A built SPA with an asset, so the file-serving paths are fuzzed too.
    webDir = mkdtempSync(path.join(tmpdir(), 'haven-fuzz-web-'));
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Haven</title>');
    mkdirSync(path.join(webDir, 'assets'));
    writeFileSync(path.join(webDir, 'assets', 'x.js'), 'export {};');
    t = await createTestApp(engine, {
      env: {
        HAVEN_WEB_DIR: webDir,
        HAVEN_SELF_SIGNUP: 'true',
        HAVEN_CORS_ORIGINS: 'https://partner.example.org',
        ...GENEROUS_RATE_LIMITS,
      },
    });
    world = await buildFuzzWorld(t);
  }, 120_000);

  afterAll(async () => {
    console.log(
      `schema fuzz [${engine}]: ${totals.requests} requests ` +
        `(${totals.authenticated} authenticated, ${totals.anonymous} anonymous), seed ${SEED}`,
    );
    await t?.close();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('V1/V4: every route survives its schema fuzz without a 5xx, a leak or a non-problem error', async () => {
    const failures: string[] = [];
    const rows = [...t.app.routeTable].sort((a, b) =>
      `${a.method} ${a.path}`.localeCompare(`${b.method} ${b.path}`),
    );
    for (const row of rows) {
      const route = `${row.method} ${row.path}`;
      const cases = casesFor(row, world.known, t.config.publicOrigin);
      // Authenticated: every case. Anonymous: every case of a public route (credentials do
      // not matter there), the valid ones and a few hostile ones elsewhere.
      const runs: Array<{ c: FuzzCase; authenticated: boolean }> = [];
      cases.forEach((c, i) => {
        const few = i < VALID_SAMPLES + 3;
        if (c.authenticated || few) runs.push({ c, authenticated: true });
        if (!c.authenticated || few) runs.push({ c, authenticated: false });
      });
      for (const { c, authenticated } of runs) {
        // A fresh session each time: logout and revocation routes may end the one they run on.
        const authorization = authenticated
          ? (await mintSession(t.app, world.user)).authorization
          : undefined;
        let response;
        try {
          response = await t.app.inject({
            method: c.method,
            url: c.url,
            headers: { ...c.headers, ...(authorization ? { authorization } : {}) },
            ...(c.payload === undefined ? {} : { payload: c.payload }),
          });
        } catch (error) {
          failures.push(`${route} | ${c.label} | inject threw: ${String(error).slice(0, 120)}`);
          continue;
        }
        totals.requests++;
        if (authenticated) totals.authenticated++;
        else totals.anonymous++;
        for (const problem of problemsOf(c, response)) {
          failures.push(
            `${route} | ${authenticated ? 'auth' : 'anon'} | ${c.label} | ${response.statusCode} | ${problem}`,
          );
        }
      }
    }
    if (failures.length > 0) {
      console.log(
        `schema fuzz [${engine}]: ${failures.length} failures\n  - ${failures.join('\n  - ')}`,
      );
    }
    expect(failures).toEqual([]);
    // About 8,000 requests: 170 s on PGlite alone; over 300 s on PostgreSQL while two other
    // suites shared the 2-core machine. The limit is there to catch a hang, not to time routes.
  }, 600_000);

  it(`V1: the fuzz sent at least ${MIN_CASES_PER_ENGINE} requests`, () => {
    expect(totals.requests).toBeGreaterThanOrEqual(MIN_CASES_PER_ENGINE);
  });
});
