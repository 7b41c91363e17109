// Threats against the resolvers' own checks that the route layer would otherwise hide (Z2, Z4):
// requireAccess is the last line when a route declares too little, so each resolver must refuse
// on its own. Found by mutating the resolvers: a member of an organization whose account lacks
// the staff or study scope must not list or add its patients or start studies there, whatever
// the route in front of the call declares. Every call goes through a probe route that declares
// only account:read, so nothing but requireAccess stands between the caller and the answer.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';
import { callAs, createActor, createOrganization, type Actor } from '../../../test/actors.js';
import { requireScopes } from '../http/route-contract.js';
import { requireAccess } from './index.js';

const PROBE = '/test/access-controls';
const ENV = { HAVEN_RATE_READ: '10000/60', HAVEN_RATE_WRITE: '10000/60' };
const Id = Type.String({ maxLength: 36 });

/** Asks requireAccess for an organization permission, as the calling session. */
function registerProbe(app: FastifyInstance): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    PROBE,
    {
      config: { access: requireScopes(['account:read']), rateClass: 'read' },
      schema: {
        body: Type.Object(
          {
            permission: Type.Union([
              Type.Literal('organization:list_patients'),
              Type.Literal('organization:add_patients'),
              Type.Literal('organization:run_studies'),
            ]),
            organizationId: Type.Optional(Id),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { userId: Id, organizationId: Id, role: Type.String({ maxLength: 20 }) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { permission, organizationId } = request.body;
      return requireAccess(app.database.db, request, permission, { organizationId });
    },
  );
}

describeEachEngine('requireAccess: resolver-level controls', (engine) => {
  let harness: TestApp;
  let clinician: Actor;
  let staff: Actor;
  let researcher: Actor;
  let researcherAsClinicianMember: Actor;
  let organizationId: string;

  const ask = (actor: Actor, body: Record<string, unknown>) =>
    callAs(harness.app, actor, 'POST', PROBE, body);

  beforeAll(async () => {
    harness = await createTestApp(engine, { env: ENV, build: { modules: [registerProbe] } });
    clinician = await createActor(harness.app, ['clinician']);
    staff = await createActor(harness.app, ['clinician']);
    researcher = await createActor(harness.app, ['researcher']);
    researcherAsClinicianMember = await createActor(harness.app, ['researcher']);
    organizationId = await createOrganization(harness.database.db, {
      members: [
        { userId: clinician.userId, role: 'researcher' },
        { userId: staff.userId, role: 'clinician' },
        { userId: researcher.userId, role: 'researcher' },
        { userId: researcherAsClinicianMember.userId, role: 'clinician' },
      ],
    });
  });
  afterAll(async () => {
    await harness.close();
  });

  it('Z2/Z4: a member without patients:read or patients:write neither lists nor adds the organization’s patients (404)', async () => {
    for (const actor of [researcher, researcherAsClinicianMember]) {
      for (const permission of ['organization:list_patients', 'organization:add_patients']) {
        for (const body of [{ permission }, { permission, organizationId }]) {
          const res = await ask(actor, body);
          expect(res.statusCode, `${permission} ${JSON.stringify(body)}`).toBe(404);
          expect(res.json()).toMatchObject({
            code: 'NOT_FOUND',
            detail: 'The organization was not found.',
          });
        }
      }
    }
    // A clinical membership with the staff scope is allowed: the refusal above is the scope's.
    const allowed = await ask(staff, { permission: 'organization:list_patients' });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toEqual({ userId: staff.userId, organizationId, role: 'clinician' });
  });

  it('Z4/IDOR: a researcher member whose account holds the staff scopes neither lists nor adds the organization’s patients (403)', async () => {
    for (const permission of ['organization:list_patients', 'organization:add_patients']) {
      for (const body of [{ permission }, { permission, organizationId }]) {
        const res = await ask(clinician, body);
        expect(res.statusCode, `${permission} ${JSON.stringify(body)}`).toBe(403);
        expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
      }
    }
  });

  it('Z2/Z3: a member holding the researcher membership role but not studies:manage starts no study there (404)', async () => {
    for (const body of [
      { permission: 'organization:run_studies' },
      { permission: 'organization:run_studies', organizationId },
    ]) {
      const res = await ask(clinician, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(404);
      expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
    // A researcher account with the same membership role is allowed: the refusal is the scope's.
    const allowed = await ask(researcher, { permission: 'organization:run_studies' });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toEqual({
      userId: researcher.userId,
      organizationId,
      role: 'researcher',
    });
  });
});
