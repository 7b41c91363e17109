// Threats against the study and assignment kinds of the one access check (Z4, Z2): reaching
// another team's study, another participant's assignment, acting after being removed from the
// team or from the organization, a participant running the study, a researcher acting without
// the scope, and telling "not yours" from "missing" by the answer. Every call goes through a
// probe route, so the principal is a real session's.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';
import { callAs, createActor, type Actor } from '../../../test/actors.js';
import {
  addParticipant,
  addStudyMember,
  createStudyWorld,
  insertAssignment,
  insertCase,
  type StudyWorld,
} from '../../../test/review-actors.js';
import { requireScopes } from '../http/route-contract.js';
import { requireAccess } from './index.js';

const PROBE = '/test/study-access';
const ENV = { HAVEN_RATE_READ: '10000/60' };
const Id = Type.String({ maxLength: 36 });

/** Asks requireAccess for a study or assignment permission, as the calling session. */
function registerProbe(app: FastifyInstance): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    PROBE,
    {
      config: { access: requireScopes(['account:read']), rateClass: 'read' },
      schema: {
        body: Type.Object(
          {
            permission: Type.String({ maxLength: 40 }),
            studyId: Type.Optional(Id),
            assignmentId: Type.Optional(Id),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { userId: Id, studyId: Id, role: Type.Optional(Type.String({ maxLength: 20 })) },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const { permission, studyId = '', assignmentId = '' } = request.body;
      const db = app.database.db;
      if (permission.startsWith('assignment:')) {
        const access = await requireAccess(db, request, permission as 'assignment:read', {
          assignmentId,
        });
        return { userId: access.userId, studyId: access.studyId };
      }
      const access = await requireAccess(db, request, permission as 'study:read', { studyId });
      return { userId: access.userId, studyId: access.studyId, role: access.role };
    },
  );
}

const RESEARCH_ACTIONS = ['study:read', 'study:manage', 'study:export'] as const;

describeEachEngine('requireAccess: studies and assignments', (engine) => {
  let harness: TestApp;
  let world: StudyWorld;
  let otherWorld: StudyWorld;
  let colleague: Actor;
  let participant: Actor;
  let otherParticipant: Actor;
  let assignmentId: string;

  const ask = (actor: Actor, body: Record<string, unknown>) =>
    callAs(harness.app, actor, 'POST', PROBE, body);

  /** Denied and missing must be the same 404, detail included. */
  async function expectSameNotFound(
    actor: Actor,
    body: Record<string, unknown>,
    kind: 'study' | 'assignment',
  ) {
    const denied = await ask(actor, body);
    const missing = await ask(actor, { ...body, [`${kind}Id`]: randomUUID() });
    expect(denied.statusCode, JSON.stringify(body)).toBe(404);
    expect(missing.statusCode).toBe(404);
    const shape = (json: Record<string, unknown>) => ({ ...json, requestId: undefined });
    expect(shape(denied.json())).toEqual(shape(missing.json()));
    expect(denied.json()).toMatchObject({
      code: 'NOT_FOUND',
      detail: `The ${kind} was not found.`,
    });
  }

  beforeAll(async () => {
    harness = await createTestApp(engine, { env: ENV, build: { modules: [registerProbe] } });
    const db = harness.database.db;
    world = await createStudyWorld(harness.app);
    otherWorld = await createStudyWorld(harness.app);
    colleague = await createActor(harness.app, ['researcher']);
    await db
      .insertInto('organization_members')
      .values({
        organization_id: world.organizationId,
        user_id: colleague.userId,
        role: 'researcher',
      })
      .execute();
    await addStudyMember(db, world.studyId, colleague.userId, 'researcher');
    participant = await addParticipant(harness.app, world.studyId);
    otherParticipant = await addParticipant(harness.app, world.studyId, 'Dr Other');
    const caseId = await insertCase(db, world.studyId, 'case-1');
    assignmentId = await insertAssignment(db, world.studyId, participant.userId, caseId);
  });
  afterAll(async () => {
    await harness.close();
  });

  it('Z4: the owner and a researcher on the team read, manage and export; only the owner administers', async () => {
    for (const permission of RESEARCH_ACTIONS) {
      for (const [actor, role] of [
        [world.owner, 'owner'],
        [colleague, 'researcher'],
      ] as const) {
        const res = await ask(actor, { permission, studyId: world.studyId });
        expect(res.statusCode, `${permission} ${role}`).toBe(200);
        expect(res.json()).toEqual({ userId: actor.userId, studyId: world.studyId, role });
      }
    }
    expect(
      (await ask(world.owner, { permission: 'study:administer', studyId: world.studyId }))
        .statusCode,
    ).toBe(200);
    await expectSameNotFound(
      colleague,
      { permission: 'study:administer', studyId: world.studyId },
      'study',
    );
  });

  it('Z4: a researcher of another study gets the 404 of a missing study for every action', async () => {
    for (const permission of [...RESEARCH_ACTIONS, 'study:administer', 'study:participate']) {
      await expectSameNotFound(otherWorld.owner, { permission, studyId: world.studyId }, 'study');
    }
  });

  it('Z4: a participant takes part but never runs the study; a researcher never takes part', async () => {
    const res = await ask(participant, { permission: 'study:participate', studyId: world.studyId });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ role: 'participant' });
    for (const permission of [...RESEARCH_ACTIONS, 'study:administer']) {
      await expectSameNotFound(participant, { permission, studyId: world.studyId }, 'study');
    }
    await expectSameNotFound(
      world.owner,
      { permission: 'study:participate', studyId: world.studyId },
      'study',
    );
  });

  it('Z4: a participant reaches their own assignment only; another participant gets the 404 of a missing one', async () => {
    for (const permission of ['assignment:read', 'assignment:answer']) {
      const own = await ask(participant, { permission, assignmentId });
      expect(own.statusCode, permission).toBe(200);
      expect(own.json()).toEqual({ userId: participant.userId, studyId: world.studyId });
      await expectSameNotFound(otherParticipant, { permission, assignmentId }, 'assignment');
      // The study's researchers do not answer for a participant either.
      await expectSameNotFound(world.owner, { permission, assignmentId }, 'assignment');
    }
  });

  it('Z4: a removed team member reaches nothing, participant or researcher', async () => {
    const db = harness.database.db;
    const leaving = await addParticipant(harness.app, world.studyId, 'Dr Leaving');
    const caseId = await insertCase(db, world.studyId, `case-${randomUUID()}`);
    const theirs = await insertAssignment(db, world.studyId, leaving.userId, caseId);
    expect(
      (await ask(leaving, { permission: 'assignment:answer', assignmentId: theirs })).statusCode,
    ).toBe(200);
    await db
      .updateTable('study_members')
      .set({ removed_at: new Date() })
      .where('study_id', '=', world.studyId)
      .where('user_id', '=', leaving.userId)
      .execute();
    await expectSameNotFound(
      leaving,
      { permission: 'study:participate', studyId: world.studyId },
      'study',
    );
    await expectSameNotFound(
      leaving,
      { permission: 'assignment:answer', assignmentId: theirs },
      'assignment',
    );

    const formerColleague = await createActor(harness.app, ['researcher']);
    await addStudyMember(db, world.studyId, formerColleague.userId, 'researcher');
    await db
      .insertInto('organization_members')
      .values({
        organization_id: world.organizationId,
        user_id: formerColleague.userId,
        role: 'researcher',
      })
      .execute();
    expect(
      (await ask(formerColleague, { permission: 'study:read', studyId: world.studyId })).statusCode,
    ).toBe(200);
    await db
      .updateTable('study_members')
      .set({ removed_at: new Date() })
      .where('study_id', '=', world.studyId)
      .where('user_id', '=', formerColleague.userId)
      .execute();
    await expectSameNotFound(
      formerColleague,
      { permission: 'study:read', studyId: world.studyId },
      'study',
    );
  });

  it('Z4: a researcher who left the study’s organization reaches none of its studies', async () => {
    const db = harness.database.db;
    const leaver = await createActor(harness.app, ['researcher']);
    await db
      .insertInto('organization_members')
      .values({ organization_id: world.organizationId, user_id: leaver.userId, role: 'researcher' })
      .execute();
    await addStudyMember(db, world.studyId, leaver.userId, 'researcher');
    expect(
      (await ask(leaver, { permission: 'study:manage', studyId: world.studyId })).statusCode,
    ).toBe(200);
    await db
      .deleteFrom('organization_members')
      .where('organization_id', '=', world.organizationId)
      .where('user_id', '=', leaver.userId)
      .execute();
    await expectSameNotFound(
      leaver,
      { permission: 'study:manage', studyId: world.studyId },
      'study',
    );
  });

  it('Z2: a team member without the action’s scope is refused like a stranger', async () => {
    // A participant-role account listed as researcher (a data error) still cannot manage: the
    // study scopes come from the researcher role only.
    const db = harness.database.db;
    const mislisted = await createActor(harness.app, ['participant']);
    await addStudyMember(db, otherWorld.studyId, mislisted.userId, 'researcher');
    await db
      .insertInto('organization_members')
      .values({
        organization_id: otherWorld.organizationId,
        user_id: mislisted.userId,
        role: 'researcher',
      })
      .execute();
    for (const permission of RESEARCH_ACTIONS) {
      await expectSameNotFound(mislisted, { permission, studyId: otherWorld.studyId }, 'study');
    }
  });
});
