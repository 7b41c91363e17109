// D3, the live half: the running app as built from this configuration, asked the way a client
// or an attacker would ask it (in-process requests through the whole hook pipeline), and the
// database it is connected to, asked what this role may do.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import type { HavenConfig } from '../../config.js';
import type { Database } from '../db/database.js';
import { pendingMigrations } from '../db/migrate.js';
import { describeRuntimePrivileges } from '../db/runtime-privileges.js';
import { finding, type Finding } from './findings.js';

/** A signing key older than this should have been rotated (S2). */
const SIGNING_KEY_MAX_AGE_DAYS = 90;
/** T2: one year. */
const HSTS_MIN_MAX_AGE = 31_536_000;
const DAY_MS = 86_400_000;

/** T3's header set, and what each must say. */
const REQUIRED_HEADERS: ReadonlyArray<readonly [string, (value: string) => boolean]> = [
  ['x-content-type-options', (v) => v === 'nosniff'],
  ['x-frame-options', (v) => v.toUpperCase() === 'DENY'],
  ['referrer-policy', (v) => v === 'no-referrer'],
  ['permissions-policy', (v) => v.length > 0],
  ['cross-origin-opener-policy', (v) => v === 'same-origin'],
  ['cross-origin-resource-policy', (v) => v === 'same-origin'],
];

const CSP_DIRECTIVES: ReadonlyArray<readonly [string, string]> = [
  ['default-src', "'self'"],
  ['object-src', "'none'"],
  ['frame-ancestors', "'none'"],
  ['base-uri', "'none'"],
];

const header = (response: LightMyRequestResponse, name: string): string => {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : String(value ?? '');
};

/** T2 and T3 on one response: every missing or weak header named. */
export function headerFindings(response: LightMyRequestResponse, what: string): Finding[] {
  const missing = REQUIRED_HEADERS.filter(([name, ok]) => !ok(header(response, name))).map(
    ([name]) => name,
  );
  const csp = header(response, 'content-security-policy');
  const directives = new Map(
    csp
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...values]) => [name, values] as const),
  );
  const weakCsp = CSP_DIRECTIVES.filter(
    ([name, value]) => directives.get(name)?.join(' ') !== value,
  ).map(([name, value]) => `${name} ${value}`);
  const scriptSources = directives.get('script-src') ?? directives.get('default-src') ?? [];
  if (scriptSources.some((source) => source === "'unsafe-inline'" || source === "'unsafe-eval'")) {
    weakCsp.push('script-src without unsafe-inline/unsafe-eval');
  }
  if (header(response, 'cache-control') !== 'no-store') missing.push('cache-control: no-store');
  if (response.headers['x-powered-by'] !== undefined) missing.push('no x-powered-by');
  const hsts = /max-age=(\d+)/.exec(header(response, 'strict-transport-security'));
  const hstsOk =
    hsts !== null &&
    Number(hsts[1]) >= HSTS_MIN_MAX_AGE &&
    /includesubdomains/i.test(header(response, 'strict-transport-security'));
  const headersOk = missing.length === 0 && weakCsp.length === 0;
  return [
    finding(
      'T3',
      `security headers (${what})`,
      headersOk ? 'PASS' : 'FAIL',
      headersOk
        ? `status ${response.statusCode}: CSP, nosniff, DENY framing, no-referrer, Permissions-Policy, COOP/CORP, no-store.`
        : `status ${response.statusCode}: missing or weak: ${[...missing, ...weakCsp.map((d) => `CSP ${d}`)].join('; ')}.`,
    ),
    finding(
      'T2',
      `HSTS (${what})`,
      hstsOk ? 'PASS' : 'FAIL',
      `Strict-Transport-Security: ${header(response, 'strict-transport-security') || '(absent)'}.`,
    ),
  ];
}

async function requestFindings(app: FastifyInstance, config: HavenConfig): Promise<Finding[]> {
  const probe = await app.inject({ method: 'GET', url: '/readyz' });
  const api = await app.inject({ method: 'GET', url: '/api/auth/me' });
  const findings = [...headerFindings(probe, 'GET /readyz'), ...headerFindings(api, 'GET /api')];
  // T1 over plain HTTP: in production an API write must be refused and a read redirected to
  // the public https URL.
  const plainWrite = await app.inject({ method: 'POST', url: '/api/auth/session', payload: {} });
  const redirected =
    api.statusCode === 308 && header(api, 'location').startsWith(`${config.publicOrigin}/`);
  if (config.env === 'production') {
    const ok = redirected && plainWrite.statusCode >= 400 && plainWrite.statusCode < 500;
    findings.push(
      finding(
        'T1',
        'plain HTTP refused',
        ok ? 'PASS' : 'FAIL',
        `GET /api/auth/me over HTTP → ${api.statusCode} ${header(api, 'location')}; ` +
          `POST /api/auth/session over HTTP → ${plainWrite.statusCode}.`,
      ),
    );
  } else {
    findings.push(
      finding(
        'T1',
        'plain HTTP refused',
        'WARN',
        `development mode serves plain HTTP (GET /api/auth/me → ${api.statusCode}).`,
      ),
    );
  }
  // T5: a preflight from an origin nobody listed gets no CORS headers.
  const preflight = await app.inject({
    method: 'OPTIONS',
    url: '/api/auth/me',
    headers: {
      origin: 'https://not-allowed.invalid',
      'access-control-request-method': 'GET',
    },
  });
  const allowed = header(preflight, 'access-control-allow-origin');
  findings.push(
    finding(
      'T5',
      'unlisted origin',
      allowed === '' ? 'PASS' : 'FAIL',
      allowed === ''
        ? `a preflight from https://not-allowed.invalid got no CORS headers (status ${preflight.statusCode}).`
        : `a preflight from https://not-allowed.invalid was allowed: Access-Control-Allow-Origin ${allowed}.`,
    ),
  );
  return findings;
}

/** Z1, Z2, R1: every route's declaration, as the route table holds it. */
function routeFindings(app: FastifyInstance): Finding[] {
  const api = app.routeTable.filter((row) => row.path.startsWith('/api/'));
  const undeclaredRate = app.routeTable.filter((row) => row.rateClass === 'UNDECLARED');
  const publicRoutes = api.filter((row) => row.access === 'public');
  const unscoped = api.filter((row) => row.access !== 'public' && row.scopes === '');
  const stepUp = api.filter((row) => row.stepUp).length;
  const list = (rows: typeof api) =>
    rows.map((row) => `${row.method} ${row.path}`).join(', ') || 'none';
  return [
    finding(
      'R1',
      'rate class on every route',
      undeclaredRate.length === 0 ? 'PASS' : 'FAIL',
      `${app.routeTable.length} routes; without a rate class: ${list(undeclaredRate)}.`,
    ),
    finding(
      'Z1',
      'public API routes',
      'PASS',
      `${publicRoutes.length} of ${api.length} /api routes are public (declared so): ${list(publicRoutes)}.`,
    ),
    finding(
      'Z2',
      'scopes on every protected route',
      unscoped.length === 0 ? 'PASS' : 'WARN',
      unscoped.length === 0
        ? `every protected /api route names its scopes; ${stepUp} need step-up MFA.`
        : `protected routes that need no scope beyond a session: ${list(unscoped)}.`,
    ),
  ];
}

/** L3 and A4/S2: the database, asked directly. */
async function databaseFindings(database: Database, now: Date): Promise<Finding[]> {
  const findings: Finding[] = [];
  const pending = await pendingMigrations(database.db);
  findings.push(
    finding(
      'V2',
      'migrations applied',
      pending.length === 0 ? 'PASS' : 'FAIL',
      pending.length === 0
        ? 'the schema is at the latest migration.'
        : `pending: ${pending.join(', ')}; run npx haven migrate as the owner role.`,
    ),
  );
  if (database.engine === 'postgres') {
    const privileges = await describeRuntimePrivileges(database.db);
    findings.push(
      finding(
        'L3',
        'runtime role cannot rewrite the audit log',
        privileges.safe ? 'PASS' : 'FAIL',
        privileges.safe
          ? `role ${privileges.role} may only read and append audit_events and audit_seals.`
          : `role ${privileges.role}: ${privileges.problems.join('; ')} (docs/database-roles.md).`,
      ),
    );
  } else {
    findings.push(
      finding(
        'L3',
        'runtime role cannot rewrite the audit log',
        'WARN',
        'the embedded database has one role; only the append-only triggers protect the log. Production runs on PostgreSQL.',
      ),
    );
  }
  const { rows: triggers } = await sql<{ count: number }>`
    select count(*)::int as count from pg_trigger t join pg_class c on c.oid = t.tgrelid
     where c.relname = 'audit_events' and not t.tgisinternal and t.tgenabled <> 'D'`.execute(
    database.db,
  );
  const enabled = triggers[0]?.count ?? 0;
  findings.push(
    finding(
      'L3',
      'append-only triggers',
      enabled > 0 ? 'PASS' : 'FAIL',
      `${enabled} enabled trigger(s) on audit_events refuse UPDATE, DELETE and TRUNCATE.`,
    ),
  );
  const keys = await database.db
    .selectFrom('signing_keys')
    .select(['kid', 'alg', 'created_at'])
    .where('retired_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
  const newest = keys[0];
  if (newest === undefined) {
    findings.push(
      finding('A4', 'signing key', 'FAIL', 'no active signing key: the JWKS would be empty.'),
    );
  } else {
    const ageDays = Math.floor((now.getTime() - new Date(newest.created_at).getTime()) / DAY_MS);
    findings.push(
      finding(
        'S2',
        'signing key age',
        ageDays <= SIGNING_KEY_MAX_AGE_DAYS ? 'PASS' : 'WARN',
        `current key ${newest.kid} (${newest.alg}) is ${ageDays} day(s) old; ` +
          `rotate with npx haven keys rotate at least every ${SIGNING_KEY_MAX_AGE_DAYS} days.`,
      ),
    );
  }
  return findings;
}

export async function liveFindings(
  app: FastifyInstance,
  config: HavenConfig,
  database: Database,
  now: Date,
): Promise<Finding[]> {
  return [
    ...(await requestFindings(app, config)),
    ...routeFindings(app),
    ...(await databaseFindings(database, now)),
  ];
}
