// Threats against organizations and memberships (Z2, Z3, Z4, Z5, A11, L3): outsiders probing
// other organizations, members managing without the organization role, machine clients,
// sessions working in an organization they left, losing the last administrator to a race,
// and invitations that would half-commit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { createTestApp, type TestApp } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';
import {
  callAs,
  createActor,
  createOrganization,
  createPatientRow,
  createUser,
  machineClientAuthorization,
  memberRoleOf,
  mintSession,
  uniqueEmail,
  type Actor,
} from '../../../test/actors.js';
import { HavenError } from '../../platform/errors.js';
import { requireScopes } from '../../platform/http/route-contract.js';
import { createDevMailbox, listDevMailbox } from '../../platform/mail.js';
import { createLogger } from '../../platform/logging.js';
import type { ModuleContext } from '../../platform/module-context.js';
import { organizationScope } from '../../platform/access/scopes.js';
import { createIdentity } from '../identity/index.js';
import { addMember } from './members/service.js';

const ENV = {
  HAVEN_RATE_READ: '10000/60',
  HAVEN_RATE_WRITE: '10000/60',
  HAVEN_RATE_SENSITIVE: '10000/60',
};
const MISSING_ORG = '00000000-0000-4000-8000-000000000000';
const PROBE = '/api/test/active-organization';

type Method = Parameters<typeof callAs>[2];

/** Stands in for the clinical routes: answers with the organization they would work in. */
function registerProbe(app: FastifyInstance): void {
  app.get(
    PROBE,
    {
      config: { access: requireScopes(['patients:read']), rateClass: 'read' },
      schema: {
        response: {
          200: Type.Object(
            { organizationId: Type.String({ maxLength: 36 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => ({
      organizationId: (await organizationScope(app.database.db, request)).organizationId,
    }),
  );
}

describeEachEngine('organizations security', (engine) => {
  let node: TestApp;
  let admin: Actor;
  let orgAdmin: Actor;
  let member: Actor;
  let outsider: Actor;
  let orgId: string;
  let otherOrgId: string;
  const db = () => node.database.db;
  const call = (
    actor: { authorization: string } | null,
    method: Method,
    url: string,
    payload?: unknown,
  ) => callAs(node.app, actor, method, url, payload);

  const roleOf = (organizationId: string, userId: string) =>
    memberRoleOf(db(), organizationId, userId);
  const activeOf = async (sessionId: string) =>
    (
      await db()
        .selectFrom('sessions')
        .select('active_organization_id')
        .where('id', '=', sessionId)
        .executeTakeFirstOrThrow()
    ).active_organization_id;
  const addRow = (organizationId: string, userId: string, role: 'org_admin' | 'clinician') =>
    db()
      .insertInto('organization_members')
      .values({ organization_id: organizationId, user_id: userId, role })
      .execute();

  /** Every members route, aimed at one organization and one of its members. */
  const memberRoutes = (organizationId: string, userId: string) =>
    [
      ['GET', `/api/organizations/${organizationId}/members`, undefined],
      [
        'POST',
        `/api/organizations/${organizationId}/members`,
        { email: uniqueEmail('probe'), role: 'org_admin' },
      ],
      ['PUT', `/api/organizations/${organizationId}/members/${userId}`, { role: 'clinician' }],
      ['DELETE', `/api/organizations/${organizationId}/members/${userId}`, undefined],
    ] as const;

  /** The platform admin's organization routes; `name` names the organization a POST creates. */
  const adminRoutes = (organizationId: string, name: string) =>
    [
      ['POST', '/api/admin/organizations', { name }],
      ['GET', '/api/admin/organizations', undefined],
      [
        'POST',
        `/api/admin/organizations/${organizationId}/members`,
        { email: uniqueEmail(), role: 'org_admin' },
      ],
    ] as const;

  beforeAll(async () => {
    node = await createTestApp(engine, { env: ENV, build: { modules: [registerProbe] } });
    admin = await createActor(node.app, ['admin']);
    orgAdmin = await createActor(node.app, ['clinician']);
    member = await createActor(node.app, ['clinician']);
    outsider = await createActor(node.app, ['clinician']);
    orgId = await createOrganization(db(), {
      members: [
        { userId: orgAdmin.userId, role: 'org_admin' },
        { userId: member.userId, role: 'clinician' },
      ],
    });
    // The outsider administers an organization of their own: they hold orgs:members.
    otherOrgId = await createOrganization(db(), {
      members: [{ userId: outsider.userId, role: 'org_admin' }],
    });
  });
  afterAll(async () => {
    await node.close();
  });

  describe('Z4 object-level scoping', () => {
    it('Z4: a non-member org admin gets 404 on every members route, exactly as for a missing organization', async () => {
      for (const [method, url, body] of memberRoutes(orgId, orgAdmin.userId)) {
        const response = await call(outsider, method, url, body);
        expect(response.statusCode, `${method} ${url}`).toBe(404);
        expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
        const missing = await call(outsider, method, url.replace(orgId, MISSING_ORG), body);
        expect(missing.statusCode).toBe(404);
        expect(Object.keys(missing.json<object>()).sort()).toEqual(
          Object.keys(response.json<object>()).sort(),
        );
        expect(missing.json<{ detail?: string }>().detail).toBe(
          response.json<{ detail?: string }>().detail,
        );
      }
      expect(await roleOf(orgId, orgAdmin.userId)).toBe('org_admin');
      const members = await db()
        .selectFrom('organization_members')
        .select('user_id')
        .where('organization_id', '=', orgId)
        .execute();
      expect(members).toHaveLength(2);
    });

    it('Z4: an org admin cannot reach a member of another organization through their own', async () => {
      const url = `/api/organizations/${otherOrgId}/members/${member.userId}`;
      expect((await call(outsider, 'PUT', url, { role: 'org_admin' })).statusCode).toBe(404);
      expect((await call(outsider, 'DELETE', url)).statusCode).toBe(404);
      expect(await roleOf(orgId, member.userId)).toBe('clinician');
      expect(await roleOf(otherOrgId, member.userId)).toBeUndefined();
    });

    it('Z4: choosing an organization you are not a member of answers 404 and changes nothing', async () => {
      const before = await activeOf(outsider.sessionId);
      for (const organizationId of [orgId, MISSING_ORG]) {
        const response = await call(outsider, 'PUT', '/api/organizations/active', {
          organizationId,
        });
        expect(response.statusCode).toBe(404);
        expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
      }
      expect(await activeOf(outsider.sessionId)).toBe(before);
      const probe = await call(outsider, 'GET', PROBE);
      expect(probe.json()).toEqual({ organizationId: otherOrgId });
    });

    it('Z4: an org admin of A whose session names organization B, where they are no member, gets 404 on B’s members, patients and consents', async () => {
      // B, run by its own admin, with a patient, a published consent document and a consent.
      const bAdmin = await createActor(node.app, ['clinician']);
      const orgB = await createOrganization(db(), {
        members: [{ userId: bAdmin.userId, role: 'org_admin' }],
      });
      const patientB = await createPatientRow(db(), orgB, { familyName: 'Bravo' });
      const published = await call(bAdmin, 'POST', '/api/consent-documents', {
        kind: 'terms',
        title: 'Terms of B',
        body: 'Only for organization B',
        required: true,
      });
      expect(published.statusCode).toBe(201);
      const documentB = published.json<{ document: { id: string } }>().document.id;
      const recorded = await call(bAdmin, 'POST', `/api/patients/${patientB}/consents`, {
        documentId: documentB,
        channel: 'paper',
      });
      expect(recorded.statusCode).toBe(201);
      const consentB = recorded.json<{ consent: { id: string } }>().consent.id;

      // The stray runs organization A (same role B's admin has) and was never a member of B;
      // their session still names B, as a stale or tampered choice would.
      const stray = await createActor(node.app, ['clinician']);
      const orgA = await createOrganization(db(), {
        members: [{ userId: stray.userId, role: 'org_admin' }],
      });
      await db()
        .updateTable('sessions')
        .set({ active_organization_id: orgB })
        .where('id', '=', stray.sessionId)
        .execute();

      const MISSING = '00000000-0000-4000-8000-00000000000b';
      const p = `/api/patients/${patientB}`;
      const refused: Array<readonly [Method, string, unknown]> = [
        ...memberRoutes(orgB, bAdmin.userId),
        ['GET', p, undefined],
        ['GET', `${p}/consents`, undefined],
        ['POST', `${p}/consents`, { documentId: documentB, channel: 'paper' }],
        ['POST', `${p}/consents/${consentB}/withdraw`, {}],
      ];
      for (const [method, url, body] of refused) {
        const response = await call(stray, method, url, body);
        expect(response.statusCode, `${method} ${url}`).toBe(404);
        expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
        // Exactly the answer for a missing object: nothing tells B's records exist.
        const elsewhere = url.replaceAll(patientB, MISSING).replaceAll(orgB, MISSING_ORG);
        const missing = await call(stray, method, elsewhere, body);
        expect(missing.statusCode, `${method} ${url} (missing)`).toBe(404);
        expect(missing.json<{ detail?: string }>().detail).toBe(
          response.json<{ detail?: string }>().detail,
        );
      }
      // The session works in the one organization the stray belongs to, never in B.
      expect((await call(stray, 'GET', PROBE)).json()).toEqual({ organizationId: orgA });
      const listing = await call(stray, 'GET', '/api/organizations');
      expect(listing.json()).toMatchObject({ activeOrganizationId: orgA });
      const search = await call(stray, 'POST', '/api/patients/search', {
        includeArchived: true,
        limit: 100,
      });
      const found = search.json<{ patients: Array<{ id: string }> }>().patients.map((x) => x.id);
      expect(found).not.toContain(patientB);
      const documents = await call(stray, 'GET', '/api/consent-documents');
      const docIds = documents
        .json<{ documents: Array<{ id: string }> }>()
        .documents.map((d) => d.id);
      expect(docIds).not.toContain(documentB);
      // Nothing of B changed: its members, the consent, no new consent.
      expect(await roleOf(orgB, bAdmin.userId)).toBe('org_admin');
      const consents = await db()
        .selectFrom('patient_consents')
        .select(['id', 'withdrawn_at'])
        .where('patient_id', '=', patientB)
        .execute();
      expect(consents).toEqual([{ id: consentB, withdrawn_at: null }]);
    });

    it('Z4: the membership list shows only the caller’s own organizations', async () => {
      const response = await call(outsider, 'GET', '/api/organizations');
      const ids = response
        .json<{ organizations: Array<{ id: string }> }>()
        .organizations.map((o) => o.id);
      expect(ids).toEqual([otherOrgId]);
    });
  });

  describe('Z2/Z3 scopes and organization roles', () => {
    it('Z3: a clinician member gets 403 on managing members, but may list them', async () => {
      const target = await createUser(db(), { roles: ['clinician'] });
      await addRow(orgId, target.userId, 'clinician');
      const routes = memberRoutes(orgId, target.userId);
      for (const [method, url, body] of routes) {
        const response = await call(member, method, url, body);
        if (method === 'GET') {
          expect(response.statusCode).toBe(200);
        } else {
          expect(response.statusCode, `${method} ${url}`).toBe(403);
          expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
        }
      }
      // Not even on themselves: a clinician cannot promote themselves to org_admin.
      const self = await call(
        member,
        'PUT',
        `/api/organizations/${orgId}/members/${member.userId}`,
        {
          role: 'org_admin',
        },
      );
      expect(self.statusCode).toBe(403);
      expect(await roleOf(orgId, member.userId)).toBe('clinician');
      expect(await roleOf(orgId, target.userId)).toBe('clinician');
    });

    it('Z2: a platform admin without orgs:members gets 403 on the members routes', async () => {
      for (const [method, url, body] of memberRoutes(orgId, member.userId)) {
        const response = await call(admin, method, url, body);
        expect(response.statusCode, `${method} ${url}`).toBe(403);
      }
      for (const [method, url] of [
        ['GET', '/api/organizations'],
        ['PUT', '/api/organizations/active'],
      ] as const) {
        const response = await call(
          admin,
          method,
          url,
          method === 'PUT' ? { organizationId: orgId } : undefined,
        );
        expect(response.statusCode).toBe(403);
      }
    });

    it('Z2: a clinician (even an org admin) gets 403 on the organization administration routes', async () => {
      for (const [method, url, body] of adminRoutes(orgId, 'Sneaky Clinic')) {
        const response = await call(orgAdmin, method, url, body);
        expect(response.statusCode, `${method} ${url}`).toBe(403);
      }
      const sneaky = await db()
        .selectFrom('organizations')
        .select('id')
        .where('name', '=', 'Sneaky Clinic')
        .executeTakeFirst();
      expect(sneaky).toBeUndefined();
    });

    it('Z1: every route answers 401 without credentials', async () => {
      for (const [method, url, body] of [
        ...memberRoutes(orgId, member.userId),
        ['GET', '/api/organizations', undefined],
        ['PUT', '/api/organizations/active', { organizationId: orgId }],
        ...adminRoutes(orgId, 'Anonymous Clinic'),
      ] as const) {
        expect((await call(null, method, url, body)).statusCode, `${method} ${url}`).toBe(401);
      }
    });

    it('Z2: a machine client is refused on every route, whatever scopes it holds', async () => {
      const client = {
        authorization: await machineClientAuthorization(node.app, [
          'orgs:read',
          'orgs:members',
          'orgs:manage',
        ]),
      };
      for (const [method, url, body] of [
        ...memberRoutes(orgId, member.userId),
        ['GET', '/api/organizations', undefined],
        ['PUT', '/api/organizations/active', { organizationId: orgId }],
        ...adminRoutes(orgId, 'Machine Clinic'),
      ] as const) {
        const response = await call(client, method, url, body);
        expect(response.statusCode, `${method} ${url}`).toBe(403);
        // Refused as a caller these routes do not serve, before any step-up is asked for (the
        // role change demands one, which a machine client could never give).
        expect(response.json<{ code: string }>().code).toBe('FORBIDDEN');
      }
      expect(await roleOf(orgId, member.userId)).toBe('clinician');
    });

    it('Z5: changing an organization role needs a fresh MFA check (step-up)', async () => {
      const stale = await mintSession(node.app, orgAdmin, { mfa: false });
      const response = await call(
        stale,
        'PUT',
        `/api/organizations/${orgId}/members/${member.userId}`,
        {
          role: 'org_admin',
        },
      );
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'STEP_UP_REQUIRED' });
      expect(await roleOf(orgId, member.userId)).toBe('clinician');
    });
  });

  describe('active organization', () => {
    it('NO_ACTIVE_ORGANIZATION with two memberships until one is chosen', async () => {
      const clinician = await createActor(node.app, ['clinician']);
      await createOrganization(db(), {
        members: [{ userId: clinician.userId, role: 'clinician' }],
      });
      const second = await createOrganization(db(), {
        members: [{ userId: clinician.userId, role: 'clinician' }],
      });
      const before = await call(clinician, 'GET', PROBE);
      expect(before.statusCode).toBe(409);
      expect(before.json()).toMatchObject({ code: 'NO_ACTIVE_ORGANIZATION' });
      expect(
        (await call(clinician, 'PUT', '/api/organizations/active', { organizationId: second }))
          .statusCode,
      ).toBe(200);
      expect((await call(clinician, 'GET', PROBE)).json()).toEqual({ organizationId: second });
      // Another session of the same person has made no choice yet.
      const otherSession = await mintSession(node.app, clinician);
      expect((await call(otherSession, 'GET', PROBE)).statusCode).toBe(409);
      expect(await activeOf(otherSession.sessionId)).toBeNull();
    });

    it('Z4: removal clears the active organization of the removed member’s sessions', async () => {
      const clinician = await createActor(node.app, ['clinician']);
      await addRow(orgId, clinician.userId, 'clinician');
      const elsewhere = await createOrganization(db(), {
        members: [{ userId: clinician.userId, role: 'clinician' }],
      });
      // A third membership: after the removal the choice is still ambiguous.
      await createOrganization(db(), {
        members: [{ userId: clinician.userId, role: 'clinician' }],
      });
      await call(clinician, 'PUT', '/api/organizations/active', { organizationId: orgId });
      expect((await call(clinician, 'GET', PROBE)).json()).toEqual({ organizationId: orgId });
      // A session that chose another organization keeps its choice.
      const otherSession = await mintSession(node.app, clinician);
      await call(otherSession, 'PUT', '/api/organizations/active', { organizationId: elsewhere });

      const removed = await call(
        orgAdmin,
        'DELETE',
        `/api/organizations/${orgId}/members/${clinician.userId}`,
      );
      expect(removed.statusCode).toBe(204);
      expect(await activeOf(clinician.sessionId)).toBeNull();
      expect(await activeOf(otherSession.sessionId)).toBe(elsewhere);
      const probe = await call(clinician, 'GET', PROBE);
      expect(probe.statusCode).toBe(409);
      expect(probe.json()).toMatchObject({ code: 'NO_ACTIVE_ORGANIZATION' });
      const listing = await call(clinician, 'GET', '/api/organizations');
      expect(
        listing.json<{ activeOrganizationId: string | null }>().activeOrganizationId,
      ).toBeNull();
      expect((await call(clinician, 'GET', `/api/organizations/${orgId}/members`)).statusCode).toBe(
        404,
      );
      const audit = await db()
        .selectFrom('audit_events')
        .select('details')
        .where('action', '=', 'org.member_removed')
        .where('target_id', '=', clinician.userId)
        .executeTakeFirstOrThrow();
      expect(audit.details).toMatchObject({ organizationId: orgId, sessionsCleared: 1 });
    });
  });

  describe('last org_admin guard', () => {
    it('the last org_admin can be neither demoted nor removed (409)', async () => {
      const solo = await createActor(node.app, ['clinician']);
      const soloOrg = await createOrganization(db(), {
        members: [{ userId: solo.userId, role: 'org_admin' }],
      });
      const url = `/api/organizations/${soloOrg}/members/${solo.userId}`;
      const demote = await call(solo, 'PUT', url, { role: 'clinician' });
      expect(demote.statusCode).toBe(409);
      expect(demote.json()).toMatchObject({ code: 'CONFLICT' });
      const remove = await call(solo, 'DELETE', url);
      expect(remove.statusCode).toBe(409);
      expect(await roleOf(soloOrg, solo.userId)).toBe('org_admin');
    });

    it('racing demotions and removals of two org_admins always leave one (row locks)', async () => {
      for (let round = 0; round < 4; round += 1) {
        const a = await createActor(node.app, ['clinician']);
        const b = await createActor(node.app, ['clinician']);
        const raceOrg = await createOrganization(db(), {
          members: [
            { userId: a.userId, role: 'org_admin' },
            { userId: b.userId, role: 'org_admin' },
          ],
        });
        const urlA = `/api/organizations/${raceOrg}/members/${a.userId}`;
        const urlB = `/api/organizations/${raceOrg}/members/${b.userId}`;
        const [first, second] = await Promise.all(
          round % 2 === 0
            ? [
                call(a, 'PUT', urlA, { role: 'clinician' }),
                call(b, 'PUT', urlB, { role: 'clinician' }),
              ]
            : [call(a, 'DELETE', urlB), call(b, 'DELETE', urlA)],
        );
        const codes = [first.statusCode, second.statusCode].sort();
        // One wins; the other finds itself the last admin (409) or no longer an admin (403/404).
        expect(codes.filter((c) => c === 200 || c === 204)).toHaveLength(1);
        expect([403, 404, 409]).toContain(codes.find((c) => c !== 200 && c !== 204));
        const admins = await db()
          .selectFrom('organization_members')
          .select('user_id')
          .where('organization_id', '=', raceOrg)
          .where('role', '=', 'org_admin')
          .execute();
        expect(admins).toHaveLength(1);
      }
    });
  });

  describe('A11 invitations', () => {
    it('an invitation creates an invited user and the membership together, and mails the link', async () => {
      const email = uniqueEmail('joiner');
      const response = await call(orgAdmin, 'POST', `/api/organizations/${orgId}/members`, {
        email,
        role: 'clinician',
        displayName: 'Joiner',
      });
      expect(response.statusCode).toBe(201);
      const userId = response.json<{ member: { userId: string } }>().member.userId;
      const user = await db()
        .selectFrom('users')
        .select(['status', 'roles', 'password_hash'])
        .where('id', '=', userId)
        .executeTakeFirstOrThrow();
      expect(user).toEqual({ status: 'invited', roles: ['clinician'], password_hash: null });
      expect(await roleOf(orgId, userId)).toBe('clinician');
      const mails = (await listDevMailbox(node.config.dataDir)).filter((m) => m.to === email);
      expect(mails).toHaveLength(1);
      expect(mails[0]?.text).toMatch(/\/invite#token=[A-Za-z0-9_-]+/);
      const invitations = await db()
        .selectFrom('one_time_tokens')
        .select('id')
        .where('user_id', '=', userId)
        .where('purpose', '=', 'invitation')
        .execute();
      expect(invitations).toHaveLength(1);
    });

    it('a membership that cannot commit takes the invitation with it: no user, no link, no mail', async () => {
      // The module's own context and identity's front door, built as app.ts builds them.
      const log = createLogger({ level: 'silent' });
      const mailer = createDevMailbox({ dir: node.config.dataDir, from: node.config.mail.from });
      const context: ModuleContext = {
        db: db(),
        mailer,
        now: () => new Date(),
        log,
        publicOrigin: node.config.publicOrigin,
        settings: {},
      };
      const identity = createIdentity(node.config, node.app.database, log, mailer).api;
      const email = uniqueEmail('rolledback');
      let calls = 0;
      await expect(
        addMember(
          context,
          identity,
          {
            organizationId: orgId,
            email,
            role: 'clinician',
            actorId: orgAdmin.userId,
            requestId: 'test-request',
            clientAddress: '127.0.0.1',
            // Passes the look-up, then fails inside the invitation's transaction (a demotion).
            authorize: async () => {
              calls += 1;
              if (calls > 1) throw new HavenError('FORBIDDEN');
            },
          },
          'by_acceptance',
        ),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(calls).toBe(2);
      const user = await db()
        .selectFrom('users')
        .select('id')
        .where('email_normalized', '=', email.toLowerCase())
        .executeTakeFirst();
      expect(user).toBeUndefined();
      expect((await listDevMailbox(node.config.dataDir)).filter((m) => m.to === email)).toEqual([]);
    });

    it('A11: an org admin cannot take over or reset another account by inviting its email', async () => {
      const researcher = await createUser(db(), { roles: ['researcher'] });
      const pendingAdmin = await createUser(db(), { roles: ['admin'], status: 'invited' });
      for (const email of [researcher.email, pendingAdmin.email]) {
        const response = await call(orgAdmin, 'POST', `/api/organizations/${orgId}/members`, {
          email,
          role: 'org_admin',
        });
        // Invited like anyone (the org admin learns nothing); the account itself is untouched.
        expect(response.statusCode).toBe(201);
        expect(response.json()).toMatchObject({ member: { status: 'invited' } });
      }
      const rows = await db()
        .selectFrom('users')
        .select(['id', 'roles', 'status'])
        .where('id', 'in', [researcher.userId, pendingAdmin.userId])
        .orderBy('email')
        .execute();
      expect(rows.map((r) => r.roles).sort()).toEqual([['admin'], ['researcher']]);
      expect(await roleOf(orgId, researcher.userId)).toBeUndefined();
      expect(await roleOf(orgId, pendingAdmin.userId)).toBeUndefined();
      // No account link, so no password can be set through it: only the notice to sign in.
      const mails = (await listDevMailbox(node.config.dataDir)).filter(
        (m) => m.to === pendingAdmin.email,
      );
      expect(mails.map((m) => m.subject)).toEqual([
        'You were invited to join an organization in Haven',
      ]);
      expect(mails[0]?.text).not.toContain('#token=');
    });
  });

  describe('L3 audit', () => {
    it('L3: every organization change writes an audit row with the acting person, in order', async () => {
      const created = await call(admin, 'POST', '/api/admin/organizations', {
        name: `Audited ${Date.now()}`,
      });
      const auditedOrg = created.json<{ organization: { id: string } }>().organization.id;
      const head = await createUser(db(), { roles: ['clinician'] });
      const headActor = await mintSession(node.app, { ...head, roles: ['clinician'] });
      await call(admin, 'POST', `/api/admin/organizations/${auditedOrg}/members`, {
        email: head.email,
        role: 'org_admin',
      });
      const newcomer = uniqueEmail('audited');
      const invited = await call(headActor, 'POST', `/api/organizations/${auditedOrg}/members`, {
        email: newcomer,
        role: 'clinician',
      });
      const newcomerId = invited.json<{ member: { userId: string } }>().member.userId;
      const memberUrl = `/api/organizations/${auditedOrg}/members/${newcomerId}`;
      expect((await call(headActor, 'PUT', memberUrl, { role: 'org_admin' })).statusCode).toBe(200);
      expect((await call(headActor, 'DELETE', memberUrl)).statusCode).toBe(204);

      const rows = await db()
        .selectFrom('audit_events')
        .select(['action', 'actor_id', 'target_id', 'details', 'outcome'])
        .where((eb) =>
          eb.or([
            eb('target_id', '=', auditedOrg),
            eb('target_id', 'in', [head.userId, newcomerId]),
          ]),
        )
        .where('action', 'like', 'org.%')
        .orderBy('seq')
        .execute();
      expect(rows.map((r) => [r.action, r.actor_id])).toEqual([
        ['org.created', admin.userId],
        ['org.member_added', admin.userId],
        ['org.member_added', head.userId],
        ['org.member_invited', head.userId],
        ['org.member_role_changed', head.userId],
        ['org.member_removed', head.userId],
      ]);
      expect(rows.every((r) => r.outcome === 'success')).toBe(true);
      // No email address or name leaks into the audit details.
      const serialized = JSON.stringify(rows.map((r) => r.details));
      expect(serialized).not.toContain('@');
    });
  });
});
