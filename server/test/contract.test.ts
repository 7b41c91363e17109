// The API contract (server/src/contract.ts) is what the SPA decodes answers with: real answers of
// the running app must decode with it, and an answer that breaks it must be refused the way the
// SPA shows a bad answer ("Invalid response", naming the member). And it must stay free of
// server-only code, since the browser bundle includes everything it imports.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TSchema } from 'typebox';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeError, requestJson } from '../../web/src/shared/api.js';
import { decodeWith } from '../../web/src/shared/schemaDecoding.js';
import {
  AccessLogPage,
  AccountExportSchema,
  ActionCatalogue,
  AuditPage,
  BreakGlassPatientMatches,
  DocumentList,
  GrantAnswer,
  GrantList,
  GrantRecordAnswer,
  MeAnswer,
  MemberList,
  MembershipList,
  MfaStatus,
  NoteList,
  PatientAnswer,
  PatientPage,
  PatientConsentList,
  PortalConsentsAnswer,
  PortalNotesAnswer,
  PortalRecordAnswer,
  RecentPatients,
  SecurityEventList,
  SessionList,
  UserPage,
  VerifyAnswer,
} from '../src/contract.js';
import { describeClinic, type Actor, type Method } from './clinical-actors.js';

describeClinic('the API contract decodes real answers', (clinic) => {
  let admin: Actor;
  let clinician: Actor;
  let organizationId: string;
  let patientId: string;
  /** A patient signed in to the portal, whose record an admin opens with a break-glass grant. */
  let portalPatient: Actor;
  let portalPatientId: string;
  let grantId: string;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
    clinician = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({ members: [[clinician, 'org_admin']] });
    patientId = await clinic.patient(organizationId);
    await clinic.note(patientId, organizationId, clinician, [
      { body: 'First visit.', shareable: true },
      { body: 'First visit, corrected.', shareable: false },
    ]);
    const chosen = await clinic.call(clinician, 'PUT', '/api/organizations/active', {
      organizationId,
    });
    expect(chosen.statusCode, chosen.body).toBe(200);
    ({ patientId: portalPatientId, patient: portalPatient } =
      await clinic.portalPatient(organizationId));
    await clinic.note(portalPatientId, organizationId, clinician, [
      { body: 'Shared with the patient.', shareable: true },
    ]);
    const granted = await clinic.call(admin, 'POST', '/api/break-glass/grants', {
      patientId: portalPatientId,
      reason: 'Patient unconscious in ER, record needed',
    });
    expect(granted.statusCode, granted.body).toBe(201);
    grantId = decodeWith(GrantAnswer, granted.json()).grant.id;
  });

  async function answer(actor: Actor, method: Method, url: string, payload?: unknown) {
    const response = await clinic.call(actor, method, url, payload);
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json<unknown>();
  }

  const routes: ReadonlyArray<
    [name: string, who: () => Actor, Method, url: () => string, TSchema, payload?: unknown]
  > = [
    ['who am I', () => clinician, 'GET', () => '/api/auth/me', MeAnswer],
    ['own sessions', () => clinician, 'GET', () => '/api/account/sessions', SessionList],
    ['MFA status', () => clinician, 'GET', () => '/api/account/mfa', MfaStatus],
    ['memberships', () => clinician, 'GET', () => '/api/organizations', MembershipList],
    [
      'members',
      () => clinician,
      'GET',
      () => `/api/organizations/${organizationId}/members`,
      MemberList,
    ],
    ['patient search', () => clinician, 'POST', () => '/api/patients/search', PatientPage, {}],
    ['a patient', () => clinician, 'GET', () => `/api/patients/${patientId}`, PatientAnswer],
    ['recent patients', () => clinician, 'GET', () => '/api/patients/recent', RecentPatients],
    ['notes', () => clinician, 'GET', () => `/api/patients/${patientId}/notes`, NoteList],
    [
      'consents',
      () => clinician,
      'GET',
      () => `/api/patients/${patientId}/consents`,
      PatientConsentList,
    ],
    ['consent documents', () => clinician, 'GET', () => '/api/consent-documents', DocumentList],
    ['users', () => admin, 'GET', () => '/api/admin/users', UserPage],
    ['audit events', () => admin, 'GET', () => '/api/admin/audit-events', AuditPage],
    ['chain check', () => admin, 'POST', () => '/api/admin/audit-log/verify', VerifyAnswer, {}],
    ['audit actions', () => admin, 'GET', () => '/api/admin/audit-events/actions', ActionCatalogue],
    [
      'security events',
      () => admin,
      'GET',
      () => '/api/admin/audit-events/security',
      SecurityEventList,
    ],
    [
      'break-glass patient search',
      () => admin,
      'POST',
      () => '/api/break-glass/patients/search',
      BreakGlassPatientMatches,
      { query: 'Pat' },
    ],
    ['portal record', () => portalPatient, 'GET', () => '/api/portal/record', PortalRecordAnswer],
    [
      'portal consents',
      () => portalPatient,
      'GET',
      () => '/api/portal/consents',
      PortalConsentsAnswer,
    ],
    ['portal notes', () => portalPatient, 'GET', () => '/api/portal/notes', PortalNotesAnswer],
    ['access log', () => portalPatient, 'GET', () => '/api/portal/access-log', AccessLogPage],
    [
      'account export',
      () => portalPatient,
      'GET',
      () => '/api/account/export',
      AccountExportSchema,
    ],
    ['break-glass grants', () => admin, 'GET', () => '/api/admin/break-glass/grants', GrantList],
    [
      'break-glass record',
      () => admin,
      'GET',
      () => `/api/break-glass/grants/${grantId}/record`,
      GrantRecordAnswer,
    ],
  ];

  it.each(routes)('%s', async (_name, who, method, url, schema, payload) => {
    const body = await answer(who(), method, url(), payload);
    // Nothing lost: decoding keeps every member the server sent.
    expect(decodeWith(schema, body)).toEqual(body);
  });

  it('the answers are not empty lists: the decoders saw real members', async () => {
    const page = decodeWith(
      PatientPage,
      await answer(clinician, 'POST', '/api/patients/search', {}),
    );
    expect(page.patients.map((p) => p.id)).toContain(patientId);
    const notes = decodeWith(
      NoteList,
      await answer(clinician, 'GET', `/api/patients/${patientId}/notes`),
    );
    expect(notes.notes[0]?.versionCount).toBe(2);
    const audit = decodeWith(AuditPage, await answer(admin, 'GET', '/api/admin/audit-events'));
    expect(audit.events.length).toBeGreaterThan(0);
    const opened = decodeWith(
      GrantRecordAnswer,
      await answer(admin, 'GET', `/api/break-glass/grants/${grantId}/record`),
    );
    expect(opened.record.patient.id).toBe(portalPatientId);
    expect(opened.notes.map((note) => note.body)).toEqual(['Shared with the patient.']);
    const log = decodeWith(
      AccessLogPage,
      await answer(portalPatient, 'GET', '/api/portal/access-log'),
    );
    expect(log.entries.map((entry) => entry.actor.kind)).toContain('break_glass');
    const exported = decodeWith(
      AccountExportSchema,
      await answer(portalPatient, 'GET', '/api/account/export'),
    );
    expect(exported.patient?.notes).toHaveLength(1);
  });

  describe('an answer that breaks the contract', () => {
    afterEach(() => {
      vi.unstubAllGlobals();
    });

    async function brokenMe(): Promise<Record<string, unknown>> {
      const me = (await answer(clinician, 'GET', '/api/auth/me')) as {
        user: Record<string, unknown>;
      };
      delete me.user['email'];
      return me;
    }

    it('is refused, naming the missing member', async () => {
      expect(() => decodeWith(MeAnswer, {})).toThrow('Missing "user".');
      const broken = await brokenMe();
      expect(() => decodeWith(MeAnswer, broken)).toThrow('Missing "user.email".');
      expect(() => decodeWith(MeAnswer, { ...broken, user: 'nobody' })).toThrow(
        '"user" must be object.',
      );
    });

    it('reaches the page as "Invalid response", as every bad answer does', async () => {
      const broken = await brokenMe();
      vi.stubGlobal('fetch', async () =>
        Promise.resolve(
          new Response(JSON.stringify(broken), {
            status: 200,
            headers: { 'content-type': 'application/json', 'x-request-id': 'req-1' },
          }),
        ),
      );
      const failure = await requestJson({
        method: 'GET',
        path: '/api/auth/me',
        decode: (body) => decodeWith(MeAnswer, body),
      }).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: 'invalid_response', detail: 'Missing "user.email".' });
      expect(describeError(failure)).toBe(
        'Invalid response (HTTP 200) — Missing "user.email". Request ID: req-1',
      );
    });

    it('keeps only the members the contract declares', async () => {
      const me = await answer(clinician, 'GET', '/api/auth/me');
      const extended = { ...(me as object), internal: 'never shown' };
      expect(decodeWith(MeAnswer, extended)).toEqual(me);
      // The caller's value is left as it was.
      expect(extended).toHaveProperty('internal');
    });
  });
});

describe('the API contract in the browser bundle', () => {
  const serverSrc = path.join(import.meta.dirname, '../src');
  /** Files the contract may reach besides schema files: plain data, nothing that runs the server. */
  const PLAIN_DATA = new Set(['modules/identity/roles.ts']);

  /** Specifiers of the imports and re-exports that survive compilation (not `import type`). */
  function runtimeImports(file: string): string[] {
    const source = readFileSync(file, 'utf8');
    return [...source.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?\sfrom\s+'([^']+)'/gm)].map(
      (match) => match[1]!,
    );
  }

  it("names only modules' contract doors (modules/<m>/schemas.js)", () => {
    const direct = runtimeImports(path.join(serverSrc, 'contract.ts'));
    const other = direct.filter(
      (specifier) => !/^\.\/modules\/[^/]+\/schemas\.js$/.test(specifier),
    );
    expect(other).toEqual([]);
    expect(direct).toEqual(
      expect.arrayContaining([
        './modules/patients/schemas.js',
        './modules/portal/schemas.js',
        './modules/break-glass/schemas.js',
        './modules/identity/schemas.js',
        './modules/reviews/schemas.js',
      ]),
    );
  });

  it('reaches only schema files and typebox, never a front door or a server package', () => {
    const reached = new Set<string>();
    const packages = new Set<string>();
    const pending = [path.join(serverSrc, 'contract.ts')];
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      for (const specifier of runtimeImports(file)) {
        if (!specifier.startsWith('.')) {
          packages.add(specifier);
          continue;
        }
        const target = path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts'));
        const relative = path.relative(serverSrc, target).split(path.sep).join('/');
        if (reached.has(relative)) continue;
        reached.add(relative);
        pending.push(target);
      }
    }
    expect([...packages]).toEqual(['typebox']);
    const other = [...reached].filter((f) => !f.endsWith('/schemas.ts') && !PLAIN_DATA.has(f));
    expect(other).toEqual([]);
    expect(reached.size).toBeGreaterThan(10);
  });
});
