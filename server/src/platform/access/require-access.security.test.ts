// Threats against the one access check (Z4, Z5, Z3): reading another organization's patient,
// another patient's record, a record under an expired, revoked or someone else's grant, writing
// under a grant, administering as a plain member, and telling "forbidden" from "missing" by the
// answer. Every call goes through a probe route, so the principal is a real session's.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';
import {
  callAs,
  createActor,
  createOrganization,
  createPatientRow,
  createUser,
  machineClientAuthorization,
  mintSession,
  type Actor,
} from '../../../test/actors.js';
import type { DatabaseSchema } from '../db/schema.js';
import { requireScopes } from '../http/route-contract.js';
import { OWN_RECORD, requireAccess, type Permission } from './index.js';

type Db = Kysely<DatabaseSchema>;

const PROBE = '/test/require-access';
const ENV = { HAVEN_RATE_READ: '10000/60', HAVEN_RATE_WRITE: '10000/60' };
const Id = Type.String({ maxLength: 36 });

/**
 * Asks requireAccess whatever the body says, as the calling session. Open to machine clients and
 * connected apps at the access hook, as no records route is, so requireAccess itself must refuse
 * them (the layer beneath the hook).
 */
function registerProbe(app: FastifyInstance): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    PROBE,
    {
      config: {
        access: requireScopes(['account:read'], { serves: ['machine-client', 'delegated-app'] }),
        rateClass: 'read',
      },
      schema: {
        body: Type.Object(
          {
            permission: Type.String({ maxLength: 40 }),
            patientId: Type.Optional(Id),
            grantId: Type.Optional(Id),
            ownRecord: Type.Optional(Type.Boolean()),
            via: Type.Optional(Type.Literal('organization')),
            organizationId: Type.Optional(Id),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              userId: Id,
              organizationId: Id,
              patientId: Type.Optional(Id),
              via: Type.Optional(Type.String({ maxLength: 20 })),
              grantId: Type.Optional(Id),
              role: Type.Optional(Type.String({ maxLength: 20 })),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { permission, patientId, grantId, ownRecord, via, organizationId } = request.body;
      const db = app.database.db;
      // The wire carries any string: the probe is how an unlisted permission reaches the check.
      const asked = permission as Permission;
      if (asked.startsWith('organization:')) {
        return requireAccess(db, request, asked as 'organization:read', { organizationId });
      }
      const id = patientId ?? '';
      const target = ownRecord
        ? OWN_RECORD
        : via
          ? { patientId: id, via }
          : { patientId: id, grantId };
      const access = await requireAccess(db, request, asked as 'patient:read', target);
      const { basis } = access;
      return {
        userId: access.userId,
        organizationId: access.organizationId,
        patientId: access.patientId,
        via: basis.via,
        ...(basis.via === 'break_glass' ? { grantId: basis.grantId } : {}),
        ...(basis.via === 'organization' ? { role: basis.role } : {}),
      };
    },
  );
}

describeEachEngine('requireAccess', (engine) => {
  let harness: TestApp;
  let db: Db;
  let clinician: Actor;
  let orgAdmin: Actor;
  let outsider: Actor;
  let unaffiliated: Actor;
  let patient: Actor;
  let unlinkedPatient: Actor;
  let admin: Actor;
  let otherAdmin: Actor;
  let organizationId: string;
  let patientId: string;
  let neighbourId: string;
  let foreignPatientId: string;

  const ask = (actor: Actor, body: Record<string, unknown>) =>
    callAs(harness.app, actor, 'POST', PROBE, body);

  /** A grant row as the break-glass module writes it; `state` ages or revokes it. */
  async function insertGrant(
    holder: Actor,
    forPatient: string,
    state: 'active' | 'expired' | 'revoked' = 'active',
  ): Promise<string> {
    const now = Date.now();
    const row = await db
      .insertInto('break_glass_grants')
      .values({
        admin_id: holder.userId,
        patient_id: forPatient,
        organization_id: organizationId,
        reason: 'Unconscious patient, record needed now',
        created_at: new Date(now - 60_000),
        expires_at: new Date(state === 'expired' ? now - 1_000 : now + 600_000),
        revoked_at: state === 'revoked' ? new Date(now - 1_000) : null,
        revoked_by: state === 'revoked' ? otherAdmin.userId : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /**
   * The 404 every denial must be: same code, status and detail as a missing resource of the
   * kind (the patient, or with `kind` 'organization' the organization).
   */
  async function expectSameNotFound(
    actor: Actor,
    body: Record<string, unknown>,
    kind: 'patient' | 'organization' = 'patient',
  ) {
    const denied = await ask(actor, body);
    const missing = await ask(actor, { ...body, [`${kind}Id`]: randomUUID() });
    expect(denied.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    const shape = (json: Record<string, unknown>) => ({ ...json, requestId: undefined });
    expect(shape(denied.json())).toEqual(shape(missing.json()));
    expect(denied.json()).toMatchObject({
      code: 'NOT_FOUND',
      detail: `The ${kind} was not found.`,
    });
  }

  /** A new clinician who is the org admin of an organization of their own. */
  async function adminOfOwnOrganization() {
    const actor = await createActor(harness.app, ['clinician']);
    const ownOrganizationId = await createOrganization(db, {
      members: [{ userId: actor.userId, role: 'org_admin' }],
    });
    return { actor, ownOrganizationId };
  }

  /** Both patient permissions allowed for `actor` on the record `body` names, answering `access`. */
  async function expectReadAndWrite(
    actor: Actor,
    body: Record<string, unknown>,
    access: Record<string, unknown>,
  ) {
    for (const permission of ['patient:read', 'patient:write']) {
      const res = await ask(actor, { ...body, permission });
      expect(res.statusCode, permission).toBe(200);
      expect(res.json()).toEqual(access);
    }
  }

  beforeAll(async () => {
    harness = await createTestApp(engine, { env: ENV, build: { modules: [registerProbe] } });
    db = harness.database.db;
    clinician = await createActor(harness.app, ['clinician']);
    orgAdmin = await createActor(harness.app, ['clinician']);
    outsider = await createActor(harness.app, ['clinician']);
    unaffiliated = await createActor(harness.app, ['clinician']);
    admin = await createActor(harness.app, ['admin']);
    otherAdmin = await createActor(harness.app, ['admin']);
    organizationId = await createOrganization(db, {
      members: [
        { userId: clinician.userId, role: 'clinician' },
        { userId: orgAdmin.userId, role: 'org_admin' },
      ],
    });
    const otherOrganizationId = await createOrganization(db, {
      members: [{ userId: outsider.userId, role: 'org_admin' }],
    });
    const user = await createUser(db, { roles: ['patient'] });
    patient = await mintSession(harness.app, { ...user, roles: ['patient'] });
    unlinkedPatient = await createActor(harness.app, ['patient']);
    patientId = await createPatientRow(db, organizationId, { portalUserId: user.userId });
    neighbourId = await createPatientRow(db, organizationId);
    foreignPatientId = await createPatientRow(db, otherOrganizationId);
  });
  afterAll(async () => {
    await harness.close();
  });

  it('Z4: a member of the patient’s organization may read and write the record', async () => {
    await expectReadAndWrite(
      clinician,
      { patientId },
      {
        userId: clinician.userId,
        organizationId,
        patientId,
        via: 'organization',
        role: 'clinician',
      },
    );
  });

  it('Z4: cross-tenant read: a member of another organization gets the 404 of a missing patient', async () => {
    await expectSameNotFound(outsider, { permission: 'patient:read', patientId });
    await expectSameNotFound(outsider, { permission: 'patient:write', patientId });
    // And the other way round: the member cannot reach the outsider's patients either.
    await expectSameNotFound(clinician, {
      permission: 'patient:read',
      patientId: foreignPatientId,
    });
  });

  it('Z4: enumeration: a missing patient id answers the same 404 as a forbidden one', async () => {
    await expectSameNotFound(clinician, {
      permission: 'patient:read',
      patientId: foreignPatientId,
    });
  });

  it('Z4: staff without an active organization get 409 NO_ACTIVE_ORGANIZATION, whatever the id', async () => {
    for (const id of [patientId, randomUUID()]) {
      const res = await ask(unaffiliated, { permission: 'patient:read', patientId: id });
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'NO_ACTIVE_ORGANIZATION' });
    }
  });

  it('Z4: patient self: a patient reaches their own record and no other', async () => {
    const own = { userId: patient.userId, organizationId, patientId, via: 'self' };
    await expectReadAndWrite(patient, { patientId }, own);
    for (const permission of ['patient:read', 'patient:write']) {
      await expectSameNotFound(patient, { permission, patientId: neighbourId });
      await expectSameNotFound(patient, { permission, patientId: foreignPatientId });
    }
    const linked = await ask(patient, { permission: 'patient:read', ownRecord: true });
    expect(linked.json()).toMatchObject({ patientId, via: 'self' });
  });

  it('Z4: a patient account with no linked record gets 404 for its own record', async () => {
    const res = await ask(unlinkedPatient, { permission: 'patient:read', ownRecord: true });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      code: 'NOT_FOUND',
      detail: 'No patient record is linked to your account.',
    });
    await expectSameNotFound(unlinkedPatient, { permission: 'patient:read', patientId });
  });

  it('Z5: an active grant of this admin on this patient allows a read, and only a read', async () => {
    const grantId = await insertGrant(admin, patientId);
    const res = await ask(admin, { permission: 'patient:read', patientId, grantId });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      userId: admin.userId,
      organizationId,
      patientId,
      via: 'break_glass',
      grantId,
    });
    await expectSameNotFound(admin, { permission: 'patient:write', patientId, grantId });
  });

  it('Z5: an expired or revoked grant answers the 404 of a missing patient', async () => {
    for (const state of ['expired', 'revoked'] as const) {
      const grantId = await insertGrant(admin, patientId, state);
      await expectSameNotFound(admin, { permission: 'patient:read', patientId, grantId });
    }
  });

  it('Z5: another admin’s grant, a grant on another patient or no grant at all answer 404', async () => {
    const othersGrant = await insertGrant(otherAdmin, patientId);
    await expectSameNotFound(admin, {
      permission: 'patient:read',
      patientId,
      grantId: othersGrant,
    });
    const neighbourGrant = await insertGrant(admin, neighbourId);
    await expectSameNotFound(admin, {
      permission: 'patient:read',
      patientId,
      grantId: neighbourGrant,
    });
    await expectSameNotFound(admin, {
      permission: 'patient:read',
      patientId,
      grantId: randomUUID(),
    });
    await expectSameNotFound(admin, { permission: 'patient:read', patientId });
  });

  it('Z4: only organization administrators administer; a member gets 403, an outsider 404', async () => {
    const asAdmin = await ask(orgAdmin, { permission: 'organization:administer', organizationId });
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.json()).toEqual({ userId: orgAdmin.userId, organizationId, role: 'org_admin' });
    const asMember = await ask(clinician, { permission: 'organization:administer' });
    expect(asMember.statusCode).toBe(403);
    expect(asMember.json()).toMatchObject({
      code: 'FORBIDDEN',
      detail: 'Only organization administrators can do this.',
    });
    const read = await ask(clinician, { permission: 'organization:read', organizationId });
    expect(read.json()).toMatchObject({ organizationId, role: 'clinician' });
    const administer = { permission: 'organization:administer', organizationId };
    await expectSameNotFound(outsider, administer, 'organization');
  });

  it('Z4: a session naming an organization its user is not a member of reaches none of its patients and cannot read or administer it (404)', async () => {
    // An org admin of their own organization (the role that administers) whose session still
    // names the patient's organization, where they were never a member.
    const { actor: stray, ownOrganizationId: strayOrganizationId } = await adminOfOwnOrganization();
    await db
      .updateTable('sessions')
      .set({ active_organization_id: organizationId })
      .where('id', '=', stray.sessionId)
      .execute();
    for (const permission of ['patient:read', 'patient:write']) {
      await expectSameNotFound(stray, { permission, patientId });
      await expectSameNotFound(stray, { permission, patientId: neighbourId });
    }
    for (const permission of ['organization:read', 'organization:administer']) {
      await expectSameNotFound(stray, { permission, organizationId }, 'organization');
    }
    // Without a named organization the session works in the one the stray belongs to.
    const own = await ask(stray, { permission: 'organization:administer' });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({
      userId: stray.userId,
      organizationId: strayOrganizationId,
      role: 'org_admin',
    });
  });

  it('Z4: staff routes reach a record through membership alone, never as its patient', async () => {
    const staff = { via: 'organization' };
    await expectReadAndWrite(
      clinician,
      { patientId, ...staff },
      {
        userId: clinician.userId,
        organizationId,
        patientId,
        via: 'organization',
        role: 'clinician',
      },
    );
    for (const permission of ['patient:read', 'patient:write']) {
      await expectSameNotFound(outsider, { permission, patientId, ...staff });
      await expectSameNotFound(clinician, { permission, patientId: foreignPatientId, ...staff });
      // The patient the record is linked to holds no staff scope: their own record is a 404 here.
      await expectSameNotFound(patient, { permission, patientId, ...staff });
    }
    // A grant is no way in either: the admin holds no staff scope.
    const grantId = await insertGrant(admin, patientId);
    await expectSameNotFound(admin, { permission: 'patient:read', patientId, ...staff });
    expect((await ask(admin, { permission: 'patient:read', patientId, grantId })).statusCode).toBe(
      200,
    );
  });

  it('Z4: listing and adding patients needs membership and the staff scope; others get 404', async () => {
    for (const permission of ['organization:list_patients', 'organization:add_patients']) {
      const res = await ask(clinician, { permission });
      expect(res.statusCode, permission).toBe(200);
      expect(res.json()).toEqual({ userId: clinician.userId, organizationId, role: 'clinician' });
      const named = await ask(clinician, { permission, organizationId });
      expect(named.json()).toMatchObject({ organizationId });
      // A patient (no staff scope) and an admin (no membership) are refused like a stranger.
      for (const actor of [patient, admin]) {
        const denied = await ask(actor, { permission, organizationId });
        expect(denied.statusCode, permission).toBe(404);
        expect(denied.json()).toMatchObject({ code: 'NOT_FOUND' });
      }
      await expectSameNotFound(outsider, { permission, organizationId }, 'organization');
    }
  });

  it('Z4: a named organization is reached by membership, active or not; a stranger gets the 404 of a missing one', async () => {
    // The outsider's session works in their own organization; naming the member's one is a
    // membership check, not a comparison with the active one.
    const { actor: both, ownOrganizationId: secondId } = await adminOfOwnOrganization();
    await db
      .insertInto('organization_members')
      .values({ organization_id: organizationId, user_id: both.userId, role: 'clinician' })
      .execute();
    for (const [id, role] of [
      [organizationId, 'clinician'],
      [secondId, 'org_admin'],
    ] as const) {
      const res = await ask(both, { permission: 'organization:read', organizationId: id });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ userId: both.userId, organizationId: id, role });
    }
    // With two memberships and none chosen, the unnamed (active) organization is still a 409.
    const unnamed = await ask(both, { permission: 'organization:read' });
    expect(unnamed.json()).toMatchObject({ code: 'NO_ACTIVE_ORGANIZATION' });
    const asMember = await ask(both, { permission: 'organization:administer', organizationId });
    expect(asMember.statusCode).toBe(403);
    for (const permission of ['organization:read', 'organization:administer']) {
      await expectSameNotFound(outsider, { permission, organizationId }, 'organization');
      await expectSameNotFound(patient, { permission, organizationId }, 'organization');
    }
  });

  it('Z3: deny by default: a permission not in the table grants nothing (404)', async () => {
    for (const permission of [
      'study:delete',
      'assignment:write',
      'patient:delete',
      'patient',
      '',
    ]) {
      const res = await ask(clinician, { permission, patientId });
      expect(res.statusCode, permission).toBe(404);
      expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('Z3: machine clients get 403: records are read by people only', async () => {
    const client = await machineClientAuthorization(harness.app, ['account:read', 'patients:read']);
    const res = await harness.app.inject({
      method: 'POST',
      url: PROBE,
      headers: { authorization: client },
      payload: { permission: 'patient:read', patientId },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
  });
});
