// Controls a sixth mutation hunt found no test for: the weekly dependency audit and its power to
// fail CI, and Dependabot watching the compose file's images (D1); includeSubDomains on the
// reverse proxy's HSTS header (T2); the identity cleanup job actually purging (A13); the schema's
// own text of a pattern refusal and a library error with a 5xx status (V4); a value in the
// organization search reaching SQL only as a bound parameter (V2).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { jobHandlers } from '../../src/jobs/registry.js';
import { PUBLIC } from '../../src/platform/http/route-contract.js';
import { createUser } from '../actors.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { testAuditSealing } from '../audit-chain.js';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { describeEachEngine, useTestDatabase } from '../databases.js';
import { captureLog } from '../log-capture.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

const DAY_MS = 24 * 3_600_000;

interface WorkflowStep {
  readonly name?: string;
  readonly run?: string;
  readonly 'continue-on-error'?: unknown;
}
interface Workflow {
  readonly on: { readonly schedule?: ReadonlyArray<{ readonly cron: string }> };
  readonly jobs: Record<string, { readonly 'continue-on-error'?: unknown; steps: WorkflowStep[] }>;
}

describe('D1 supply chain (round 6)', () => {
  const workflow = parse(read('.github/workflows/ci.yml')) as Workflow;

  it('D1/weekly audit: the workflow also runs on a weekly schedule, so a new advisory fails a run without a push', () => {
    const crons = (workflow.on.schedule ?? []).map((entry) => entry.cron.trim().split(/\s+/));
    // minute hour day-of-month month day-of-week: one fixed weekday, every week.
    const weekly = crons.filter(
      (fields) =>
        fields.length === 5 &&
        fields[2] === '*' &&
        fields[3] === '*' &&
        /^[0-7]$|^(mon|tue|wed|thu|fri|sat|sun)$/i.test(fields[4] ?? ''),
    );
    expect(weekly.length, JSON.stringify(workflow.on.schedule)).toBeGreaterThan(0);
  });

  it('D1/audit failure: the npm audit step fails its job when the audit does (no || true, no continue-on-error)', () => {
    const audits = Object.entries(workflow.jobs).flatMap(([name, job]) =>
      job.steps
        .filter((step) => /npm audit/.test(step.run ?? ''))
        .map((step) => ({ name, job, step })),
    );
    expect(audits.length).toBeGreaterThan(0);
    for (const { name, job, step } of audits) {
      expect(step.run?.trim(), name).toBe('npm audit --audit-level=high');
      expect(step['continue-on-error'], name).toBeUndefined();
      expect(job['continue-on-error'], name).toBeUndefined();
    }
  });

  it('D1/updates: Dependabot also watches the images pinned in compose.yaml, weekly', () => {
    const config = parse(read('.github/dependabot.yml')) as {
      updates: Array<{ 'package-ecosystem': string; schedule: { interval: string } }>;
    };
    const compose = config.updates.find((u) => u['package-ecosystem'] === 'docker-compose');
    expect(compose?.schedule.interval).toBe('weekly');
  });
});

describe('T2 HSTS at the reverse proxy (round 6)', () => {
  it('T2/proxy includeSubDomains: every Strict-Transport-Security header Caddy sets covers subdomains for a year or more', () => {
    const headers = read('deploy/Caddyfile')
      .split('\n')
      .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
      .filter((line) => /^Strict-Transport-Security\s/i.test(line));
    expect(headers.length).toBeGreaterThan(0);
    for (const header of headers) {
      const value = /"([^"]*)"/.exec(header)?.[1] ?? '';
      expect(Number(/max-age=(\d+)/.exec(value)?.[1] ?? 0), header).toBeGreaterThanOrEqual(
        31_536_000,
      );
      expect(
        value.split(';').map((d) => d.trim()),
        header,
      ).toContain('includeSubDomains');
    }
  });
});

describeEachEngine('A13 identity cleanup job (round 6)', (engine) => {
  const database = useTestDatabase(engine);

  it('A13/job purges: the identity.cleanup job removes what expired before now, on the real clock', async () => {
    const { userId } = await createUser(database.db, {
      roles: [],
      email: 'r6-cleanup-job@example.org',
    });
    const longAgo = new Date(Date.now() - 2 * DAY_MS);
    const session = await database.db
      .insertInto('sessions')
      .values({
        user_id: userId,
        idle_expires_at: longAgo,
        absolute_expires_at: longAgo,
        user_agent: 'r6 expired session',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const link = await database.db
      .insertInto('one_time_tokens')
      .values({
        purpose: 'password_reset',
        data: '{}',
        token_hash: 'r6-expired-link-hash',
        user_id: userId,
        expires_at: longAgo,
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    const handler = jobHandlers(testAuditSealing())['identity.cleanup'];
    expect(handler).toBeDefined();
    await handler!(
      {},
      { jobId: 'r6', attempt: 1, db: database.db, log: pino({ level: 'silent' }) },
    );

    const sessions = await database.db
      .selectFrom('sessions')
      .select('id')
      .where('id', '=', session.id)
      .execute();
    const links = await database.db
      .selectFrom('one_time_tokens')
      .select('id')
      .where('id', '=', link.id)
      .execute();
    expect(sessions).toEqual([]);
    expect(links).toEqual([]);
  });
});

// ── V4 ─────────────────────────────────────────────────────────────────────────────────────────

/** The rule of the probe's pattern: internal, never shown to a caller. */
const PATTERN_RULE = 'R6-INTERNAL-RULE';
/** What a library throws with a 5xx status: a message meant for the operator only. */
const UPSTREAM_MESSAGE = 'r6_upstream_pool exhausted at /srv/haven/pool.ts:7';

async function r6ProbeRoutes(app: FastifyInstance): Promise<void> {
  const config = { access: PUBLIC, rateClass: 'read' } as const;
  const response = { 200: Type.Object({ ok: Type.Boolean() }, { additionalProperties: false }) };
  app.post(
    '/api/test/r6-pattern',
    {
      config,
      schema: {
        body: Type.Object(
          { code: Type.String({ maxLength: 40, pattern: `^[a-z]+-${PATTERN_RULE}$` }) },
          { additionalProperties: false },
        ),
        response,
      },
    },
    async () => ({ ok: true }),
  );
  app.get('/api/test/r6-upstream', { config, schema: { response } }, async () => {
    throw Object.assign(new Error(UPSTREAM_MESSAGE), { statusCode: 503 });
  });
}

describe('V4 problems (round 6)', () => {
  let t: TestApp;
  const { lines, logger } = captureLog();
  beforeAll(async () => {
    t = await createTestApp('pglite', { build: { modules: [r6ProbeRoutes], logger } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('V4/pattern refusal: a value refused by a pattern is named with a sentence, never the pattern or the validator text', async () => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/test/r6-pattern',
      payload: { code: 'NOT OK' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json<{ code: string; errors: Array<Record<string, unknown>> }>();
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      {
        field: 'body.code',
        code: 'pattern',
        message: 'This contains characters that are not allowed here.',
      },
    ]);
    expect(response.body).not.toContain(PATTERN_RULE);
    expect(response.body).not.toMatch(/must match/);
  });

  it('V4/5xx library error: an error carrying a 5xx status is a bare 500 INTERNAL_ERROR to the caller and an error line in the log', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/test/r6-upstream' });
    expect(response.statusCode).toBe(500);
    const problem = response.json<{ code: string; detail?: string; requestId: string }>();
    expect(problem.code).toBe('INTERNAL_ERROR');
    expect(problem.detail).toBeUndefined();
    expect(response.body).not.toContain('r6_upstream_pool');
    const requestId = response.headers['x-request-id'];
    expect(problem.requestId).toBe(requestId);
    const logged = lines.filter((l) => l.reqId === requestId && l.level === 'error');
    expect(logged).toHaveLength(1);
    expect((logged[0]?.err as { message?: string } | undefined)?.message).toContain(
      'r6_upstream_pool',
    );
  });
});

// ── V2, Z1 ─────────────────────────────────────────────────────────────────────────────────────────

const INJECTIONS = ["' OR '1'='1", "x') OR (1=1) --", "'); DROP TABLE organizations; --"];

describeClinic('organization routes (round 6)', (clinic) => {
  let admin: Actor;
  let clinician: Actor;
  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
    clinician = await clinic.actor(['clinician']);
    await clinic.organization({ name: "O'Reilly Health R6" });
    await clinic.organization({ name: 'Plain Clinic R6' });
  });

  const search = async (q: string): Promise<string[]> => {
    const response = await clinic.call(
      admin,
      'GET',
      `/api/admin/organizations?q=${encodeURIComponent(q)}`,
    );
    expect(response.statusCode, `${q}: ${response.body}`).toBe(200);
    return response
      .json<{ organizations: Array<{ name: string }> }>()
      .organizations.map((organization) => organization.name);
  };

  it('V2/SQL injection: quotes in the organization search are searched for as text', async () => {
    expect(await search("o'reilly")).toEqual(["O'Reilly Health R6"]);
    for (const payload of INJECTIONS) expect(await search(payload), payload).toEqual([]);
    expect(await search('R6')).toHaveLength(2);
  });

  it('Z1/authentication first: a caller without credentials or scope is refused before the input is validated, learning no field', async () => {
    const malformed = [
      ['POST', '/api/admin/organizations', { unexpectedR6Field: true }],
      ['GET', '/api/admin/organizations?limit=0&unexpectedR6Field=1', undefined],
    ] as const;
    for (const [method, url, payload] of malformed) {
      const anonymous = await clinic.call(null, method, url, payload);
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
      expect(anonymous.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
      const unscoped = await clinic.call(clinician, method, url, payload);
      expect(unscoped.statusCode, `${method} ${url}`).toBe(403);
      expect(unscoped.json()).toMatchObject({ code: 'FORBIDDEN' });
      for (const answer of [anonymous, unscoped]) {
        expect(answer.body).not.toMatch(/unexpectedR6Field|limit|VALIDATION_FAILED/);
      }
    }
  });
});
