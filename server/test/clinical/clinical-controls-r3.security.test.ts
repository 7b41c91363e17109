// Clinical controls whose removal no test noticed (round 3): the recent-patients list leaves out
// records seen only under a break-glass grant (Z5); a patient's access list shows batched
// listings of their own organization only, and the recent list's listing is one of them (Z4,
// L3); clinical data needs a person's own session, not an app's token (Z4); a break-glass grant
// opens a record only to a caller still holding the break-glass scope (Z5).
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { requireAccess } from '../../src/platform/access/index.js';
import { recordAudit } from '../../src/platform/audit/audit.js';
import { DELEGATION_GRANT_CLAIM } from '../../src/platform/auth/jwt-authenticator.js';
import { requireScopes } from '../../src/platform/http/route-contract.js';
import {
  GENEROUS_RATE_LIMITS,
  callAs,
  createOrganization,
  createPatientRow,
  createUser,
} from '../actors.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeClinic, type Actor, type Clinic } from '../clinical-actors.js';
import { describeEachEngine } from '../databases.js';
import { createHarnessAuthenticator, signTestToken } from '../tokens.js';

const REASON = 'Patient unconscious in ER, record needed';
const PROBE = '/api/test/grant-read';

interface AccessEntry {
  action: string;
  actor: { kind: string; displayName: string };
}

/** Asks requireAccess for a read under a grant, as the calling session. */
function grantReadProbe(app: FastifyInstance): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    PROBE,
    {
      config: { access: requireScopes(['account:read']), rateClass: 'read' },
      schema: {
        body: Type.Object(
          { patientId: Type.String({ maxLength: 36 }), grantId: Type.String({ maxLength: 36 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { via: Type.String({ maxLength: 20 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const access = await requireAccess(app.database.db, request, 'patient:read', request.body);
      return { via: access.basis.via };
    },
  );
}

async function chooseOrganization(clinic: Clinic, actor: Actor, organizationId: string) {
  const chosen = await clinic.call(actor, 'PUT', '/api/organizations/active', { organizationId });
  expect(chosen.statusCode, chosen.body).toBe(200);
}
async function recentIds(clinic: Clinic, actor: Actor): Promise<string[]> {
  const res = await clinic.call(actor, 'GET', '/api/patients/recent');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ patients: Array<{ id: string }> }>().patients.map((p) => p.id);
}
async function accessLog(clinic: Clinic, patient: Actor): Promise<AccessEntry[]> {
  const res = await clinic.call(patient, 'GET', '/api/portal/access-log?limit=100');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ entries: AccessEntry[] }>().entries;
}

describeClinic(
  'clinical controls (round 3)',
  { build: { modules: [grantReadProbe] } },
  (clinic) => {
    let organizationId: string;
    let otherOrganizationId: string;

    beforeAll(async () => {
      organizationId = await clinic.organization({ name: 'Harbor Clinic' });
      otherOrganizationId = await clinic.organization({ name: 'Faraway Clinic' });
    });

    it('Z5/recent-leaves-out-break-glass: a record read only under a break-glass grant is not on the reader’s recent list', async () => {
      const responder = await clinic.actor(['admin', 'clinician'], {
        displayName: 'Robin Responder',
      });
      await clinic.addMember(organizationId, responder, 'clinician');
      await chooseOrganization(clinic, responder, organizationId);
      const ownPatient = await clinic.patient(organizationId, { familyName: 'Ownpatient' });
      const emergency = await clinic.patient(organizationId, { familyName: 'Emergency' });

      const opened = await clinic.call(responder, 'GET', `/api/patients/${ownPatient}`);
      expect(opened.statusCode, opened.body).toBe(200);
      const granted = await clinic.call(responder, 'POST', '/api/break-glass/grants', {
        patientId: emergency,
        reason: REASON,
      });
      expect(granted.statusCode, granted.body).toBe(201);
      const grantId = granted.json<{ grant: { id: string } }>().grant.id;
      const read = await clinic.call(responder, 'GET', `/api/break-glass/grants/${grantId}/record`);
      expect(read.statusCode, read.body).toBe(200);
      // The read under the grant is a patient.read of the responder, newer than the staff read.
      const [event] = await clinic.db
        .selectFrom('audit_events')
        .select(['actor_id', 'details'])
        .where('action', '=', 'patient.read')
        .where('target_id', '=', emergency)
        .execute();
      expect(event).toMatchObject({ actor_id: responder.userId, details: { grantId } });

      expect(await recentIds(clinic, responder)).toEqual([ownPatient]);
    });

    it('Z4/access-log-batched-organization: a batched listing of another organization is not on the patient’s access list, even naming their id', async () => {
      const { patientId, patient } = await clinic.portalPatient(organizationId, {
        familyName: 'Listedonce',
      });
      const stranger = await clinic.actor(['clinician'], { displayName: 'Faraway Stranger' });
      const local = await clinic.actor(['clinician'], { displayName: 'Harbor Local' });
      for (const [actor, organization] of [
        [stranger, otherOrganizationId],
        [local, organizationId],
      ] as const) {
        await recordAudit(clinic.db, {
          actor: { type: 'user', id: actor.userId },
          action: 'patient.listed',
          target: { type: 'organization', id: organization },
          outcome: 'success',
          details: { count: 1, part: 1, parts: 1, patientIds1: patientId },
        });
      }
      const entries = await accessLog(clinic, patient);
      const listers = entries
        .filter((entry) => entry.action === 'patient.listed')
        .map((entry) => entry.actor.displayName);
      expect(listers).toEqual(['Harbor Local']);
    });

    it('L3/recent-listing-organization: a clinician’s recent list is on the listed patient’s access list', async () => {
      const { patientId, patient } = await clinic.portalPatient(organizationId, {
        familyName: 'Recentlyseen',
      });
      const clinician = await clinic.actor(['clinician'], { displayName: 'Dr Recent' });
      await clinic.addMember(organizationId, clinician, 'clinician');
      await chooseOrganization(clinic, clinician, organizationId);
      const opened = await clinic.call(clinician, 'GET', `/api/patients/${patientId}`);
      expect(opened.statusCode, opened.body).toBe(200);
      expect(await recentIds(clinic, clinician)).toEqual([patientId]);
      const [newest] = await accessLog(clinic, patient);
      expect(newest).toMatchObject({
        action: 'patient.listed',
        actor: { kind: 'staff', displayName: 'Dr Recent' },
      });
    });

    it('Z5/break-glass-needs-scope: a grant opens the record only while its holder has the break-glass scope', async () => {
      const patientId = await clinic.patient(organizationId, { familyName: 'Scopebound' });
      const admin = await clinic.actor(['admin']);
      // A former admin: the grant row is theirs, the session no longer carries breakglass:request.
      const demoted = await clinic.actor(['clinician']);
      const grantOf = async (holder: Actor) => {
        const row = await clinic.db
          .insertInto('break_glass_grants')
          .values({
            admin_id: holder.userId,
            patient_id: patientId,
            organization_id: organizationId,
            reason: REASON,
            created_at: new Date(Date.now() - 60_000),
            expires_at: new Date(Date.now() + 600_000),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        return row.id;
      };
      const allowed = await clinic.call(admin, 'POST', PROBE, {
        patientId,
        grantId: await grantOf(admin),
      });
      expect(allowed.statusCode, allowed.body).toBe(200);
      expect(allowed.json()).toEqual({ via: 'break_glass' });
      const refused = await clinic.call(demoted, 'POST', PROBE, {
        patientId,
        grantId: await grantOf(demoted),
      });
      expect(refused.statusCode, refused.body).toBe(404);
      expect(refused.json().code).toBe('NOT_FOUND');
    });
  },
);

/**
 * A clinical read as the patients routes make it: requireAccess on one patient record. It is
 * declared open to connected apps, as no real clinical route is, so an app's token gets past the
 * access hook and it is requireAccess itself that must refuse it (the layer beneath).
 */
function patientReadProbe(app: FastifyInstance): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    `${PROBE}/:patientId`,
    {
      config: {
        access: requireScopes(['patients:read'], { serves: ['delegated-app'] }),
        rateClass: 'read',
      },
      schema: {
        params: Type.Object(
          { patientId: Type.String({ maxLength: 36 }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { via: Type.String({ maxLength: 20 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const access = await requireAccess(app.database.db, request, 'patient:read', {
        patientId: request.params.patientId,
      });
      return { via: access.basis.via };
    },
  );
}

// Over HTTP an app's token never holds a staff scope (the OAuth module narrows it to the
// delegated ones), so the session check is proven where it stands: in the one access check, with
// tokens the harness signs and the scopes left as they are.
describeEachEngine('clinical data needs a session (round 3)', (engine) => {
  let t: TestApp;
  let userId: string;
  let patientId: string;

  beforeAll(async () => {
    t = await createTestApp(engine, {
      env: GENEROUS_RATE_LIMITS,
      build: { authenticator: createHarnessAuthenticator(), modules: [patientReadProbe] },
    });
    ({ userId } = await createUser(t.database.db, { roles: ['clinician'] }));
    const organizationId = await createOrganization(t.database.db, {
      members: [{ userId, role: 'clinician' }],
    });
    patientId = await createPatientRow(t.database.db, organizationId, {
      familyName: 'Sessionless',
    });
  });
  afterAll(() => t.close());

  const bearer = async (claims: { sid?: string; extra?: Record<string, string> }) => ({
    authorization: `Bearer ${await signTestToken({ sub: userId, scope: 'patients:read', ...claims })}`,
  });

  it('Z4/clinical-needs-session: an app’s token for the person is refused a clinical read even holding the staff scope', async () => {
    const session = await bearer({ sid: randomUUID() });
    const allowed = await callAs(t.app, session, 'GET', `${PROBE}/${patientId}`);
    expect(allowed.statusCode, allowed.body).toBe(200);
    expect(allowed.json()).toEqual({ via: 'organization' });
    const app = await bearer({
      extra: { client_id: 'third-party-app', [DELEGATION_GRANT_CLAIM]: randomUUID() },
    });
    const refused = await callAs(t.app, app, 'GET', `${PROBE}/${patientId}`);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().code).toBe('FORBIDDEN');
  });
});
