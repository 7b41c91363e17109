// Z1–Z5: every registered route × every kind of caller, against the real app on PGlite and
// PostgreSQL. The table (authorization-matrix.table.ts) says what each caller must get; this
// file builds the fixture world, runs every cell with a fresh session, and fails with a
// readable list of (route, actor, expected, got, problem code) when a cell disagrees.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Role } from '../../src/platform/db/schema.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';
import {
  createOrganization,
  createPatientRow,
  createUser,
  machineClientAuthorization,
  mintSession,
  GENEROUS_RATE_LIMITS,
  createNoteRow,
} from '../actors.js';
import {
  ACTORS,
  MATRIX,
  PROBES,
  newDocument,
  type ActorName,
  type Expected,
  type MatrixEntry,
  type Person,
  type PersonName,
  type World,
} from './authorization-matrix.table.js';
import { buildReviewsWorld } from './reviews-matrix.table.js';
import { buildFilesWorld } from './files-matrix.table.js';

const CORS_ORIGIN = 'https://partner.example.org';

const ROLES_OF: Readonly<Record<PersonName, Role[]>> = {
  admin: ['admin'],
  orgAdmin: ['clinician'],
  clinician: ['clinician'],
  otherClinician: ['clinician'],
  patientSelf: ['patient'],
  otherPatient: ['patient'],
  participant: ['participant'],
  researcher: ['researcher'],
};

/** 'METHOD /path' of every registered route. */
function registeredRoutes(t: TestApp): Set<string> {
  return new Set(t.app.routeTable.map((r) => `${r.method} ${r.path}`));
}

/** The concrete URL a request builder produced must be an instance of its route's path. */
function instanceOf(route: string, method: string, url: string): boolean {
  const [routeMethod, routePath = ''] = route.split(' ');
  const pattern = routePath
    .split('/')
    .map((part) =>
      part.startsWith(':')
        ? '[^/]+'
        : part === '*'
          ? '.*'
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return routeMethod === method && new RegExp(`^${pattern}$`).test(url.split('?', 1)[0] ?? '');
}

function format(expected: Expected): string {
  if (expected === 'ok') return '2xx';
  if (typeof expected === 'number') return String(expected);
  return `${expected.status} ${expected.code}`;
}

function satisfies(expected: Expected, status: number, code: string | undefined): boolean {
  if (expected === 'ok') return status >= 200 && status < 300;
  if (typeof expected === 'number') return status === expected;
  return status === expected.status && code === expected.code;
}

function problemCode(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { code?: unknown };
    return typeof parsed.code === 'string' ? parsed.code : undefined;
  } catch {
    return undefined;
  }
}

async function buildWorld(t: TestApp): Promise<World> {
  const db = t.app.database.db;
  const people = {} as Record<PersonName, Person>;
  for (const [name, roles] of Object.entries(ROLES_OF) as Array<[PersonName, Role[]]>) {
    const user = await createUser(db, { roles, displayName: `Matrix ${name}` });
    people[name] = { ...user, roles };
  }
  const orgA = await createOrganization(db, {
    members: [
      { userId: people.orgAdmin.userId, role: 'org_admin' },
      { userId: people.clinician.userId, role: 'clinician' },
    ],
  });
  const orgB = await createOrganization(db, {
    members: [{ userId: people.otherClinician.userId, role: 'clinician' }],
  });
  const patientAMrn = `PA-${Date.now().toString(36)}`;
  const patientA = await createPatientRow(db, orgA, {
    mrn: patientAMrn,
    portalUserId: people.patientSelf.userId,
  });
  const patientB = await createPatientRow(db, orgB, { portalUserId: people.otherPatient.userId });
  const documentA = await newDocument({ db }, orgA, 'treatment');
  const noteId = await createNoteRow(db, patientA, orgA, people.clinician.userId, [
    { body: 'First visit.', shareable: true },
  ]);
  const reviews = await buildReviewsWorld(db, orgA, people);
  const files = await buildFilesWorld(db, t.app.fileServices.storage, {
    clinicianId: people.clinician.userId,
    organizationId: orgA,
    patientId: patientA,
  });
  return {
    app: t.app,
    db,
    reviews,
    files,
    origin: t.config.publicOrigin,
    corsOrigin: CORS_ORIGIN,
    people,
    orgA,
    orgB,
    patientA,
    patientAMrn,
    patientB,
    documentA,
    noteA: noteId,
  };
}

/** Fresh credentials for one cell: a new session, so logout and revocation hurt nothing else. */
async function credentialsFor(
  w: World,
  entry: MatrixEntry,
  actor: ActorName,
): Promise<string | undefined> {
  if (actor === 'anonymous') return undefined;
  if (actor === 'machine') return machineClientAuthorization(w.app, []);
  const person = w.people[actor];
  if (entry.caller === 'twin') {
    const twin = await createUser(w.db, { roles: [...person.roles] });
    return (await mintSession(w.app, { ...twin, roles: person.roles })).authorization;
  }
  return (await mintSession(w.app, person)).authorization;
}

describeEachEngine('authorization matrix', (engine) => {
  let t: TestApp;
  let w: World;
  let webDir: string;
  const failures: string[] = [];

  beforeAll(async () => {
    // A built SPA, so the fallback route answers like production instead of "not built".
    webDir = mkdtempSync(path.join(tmpdir(), 'haven-matrix-web-'));
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>Haven</title>');
    t = await createTestApp(engine, {
      env: {
        HAVEN_WEB_DIR: webDir,
        HAVEN_SELF_SIGNUP: 'true',
        HAVEN_CORS_ORIGINS: CORS_ORIGIN,
        ...GENEROUS_RATE_LIMITS,
      },
    });
    w = await buildWorld(t);
  }, 120_000);

  afterAll(async () => {
    if (failures.length > 0) {
      console.log(
        `authorization matrix [${engine}]: ${failures.length} failing cells\n` +
          failures.map((f) => `  - ${f}`).join('\n'),
      );
    }
    await t?.close();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('Z1: every registered route has a matrix entry (new routes cannot skip it)', () => {
    const missing = [...registeredRoutes(t)].filter((route) => !(route in MATRIX)).sort();
    expect(missing, 'registered routes without a matrix entry').toEqual([]);
  });

  it('Z1: every matrix entry names a registered route (no stale entries)', () => {
    const registered = registeredRoutes(t);
    const stale = Object.keys(MATRIX)
      .filter((route) => !registered.has(route))
      .sort();
    expect(stale, 'matrix entries for routes that are not registered').toEqual([]);
  });

  for (const probe of PROBES) {
    it(probe.name, async () => {
      expect(registeredRoutes(t).has(probe.route), `${probe.route} is registered`).toBe(true);
      const prepared = probe.prepare ? await probe.prepare(w) : {};
      const spec = probe.request(w, prepared);
      expect(instanceOf(probe.route, spec.method, spec.url), 'probe targets its route').toBe(true);
      // A password-only session (no MFA check in the step-up window), for the step-up probe.
      const session = await mintSession(w.app, w.people[probe.actor], {
        mfa: prepared.withoutMfa !== 'true',
      });
      const response = await w.app.inject({
        method: spec.method,
        url: spec.url,
        headers: { ...spec.headers, authorization: session.authorization },
        ...(spec.payload === undefined ? {} : { payload: spec.payload as object }),
      });
      const code = problemCode(response.body);
      const got = `${response.statusCode} ${code ?? '-'}`;
      const line = `${probe.route} | ${probe.actor} (probe) | expected ${format(probe.expect)} | got ${got}`;
      if (!satisfies(probe.expect, response.statusCode, code)) failures.push(line);
      expect(satisfies(probe.expect, response.statusCode, code), line).toBe(true);
    });
  }

  for (const [route, entry] of Object.entries(MATRIX)) {
    it(`Z1–Z5: ${route} answers every caller as the table says`, async () => {
      if (!registeredRoutes(t).has(route)) {
        failures.push(`${route} | (all) | route is not registered`);
        throw new Error(`${route} is not registered, so none of its cells can pass`);
      }
      const problems: string[] = [];
      for (const actor of ACTORS) {
        const prepared = entry.prepare ? await entry.prepare(w, actor) : {};
        const spec = entry.request(w, actor, prepared);
        if (!instanceOf(route, spec.method, spec.url)) {
          problems.push(`${route} | ${actor} | table error: ${spec.method} ${spec.url}`);
          continue;
        }
        const authorization = await credentialsFor(w, entry, actor);
        const response = await w.app.inject({
          method: spec.method,
          url: spec.url,
          headers: { ...spec.headers, ...(authorization ? { authorization } : {}) },
          ...(spec.payload === undefined ? {} : { payload: spec.payload as object }),
        });
        const expected = entry.expect[actor];
        const code = problemCode(response.body);
        const got = `${response.statusCode} ${code ?? '-'}`;
        if (!satisfies(expected, response.statusCode, code)) {
          problems.push(`${route} | ${actor} | expected ${format(expected)} | got ${got}`);
          continue;
        }
        const contentType = String(response.headers['content-type'] ?? '');
        const page = entry.errorsArePages === true && contentType.startsWith('text/html');
        if (
          response.statusCode >= 400 &&
          !page &&
          !contentType.startsWith('application/problem+json')
        ) {
          problems.push(`${route} | ${actor} | error is not problem+json (${contentType})`);
        }
        const extra = entry.check?.(w, actor, response);
        if (extra) problems.push(`${route} | ${actor} | ${got} but ${extra}`);
      }
      failures.push(...problems);
      expect(problems, `cells of ${route} that disagree with the table`).toEqual([]);
    });
  }
});
