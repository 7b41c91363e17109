// A11, Z4: a researcher adding a participant by email invites an existing account, which takes
// part only when its owner accepts, signed in. Until then the invitation grants nothing, and
// only its invitee sees or answers it. Each test names the threat; every one fails with the
// control it names removed (scripts/mutation/mutants.ts).
import { expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createActor, createUser, mintSession } from '../../../../test/actors.js';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import {
  createStudyWorld,
  insertCase,
  insertPublishedQuestionnaire,
  inviteToStudy,
  type StudyWorld,
} from '../../../../test/review-actors.js';
import { listDevMailbox } from '../../../platform/mail.js';
import * as m0018 from '../../../platform/db/migrations/0018_study_participant_invitations.js';

interface OwnInvitationBody {
  studyId: string;
  studyTitle: string;
  organizationName: string;
  invitedBy?: string;
  expiresAt: string;
  canAccept: boolean;
  reason?: string;
}

describeClinic('reviews: invitations to take part', (clinic) => {
  const call = clinic.call;
  const invitationsOf = async (invitee: Actor) => {
    const listed = await call(invitee, 'GET', '/api/account/study-invitations');
    expect(listed.statusCode, listed.body).toBe(200);
    return listed.json<{ invitations: OwnInvitationBody[] }>().invitations;
  };
  const accept = (invitee: Actor, studyId: string) =>
    call(invitee, 'POST', `/api/account/study-invitations/${studyId}/accept`, {});
  const decline = (invitee: Actor, studyId: string) =>
    call(invitee, 'DELETE', `/api/account/study-invitations/${studyId}`);
  const roleOf = async (studyId: string, userId: string) =>
    (await clinic.db
      .selectFrom('study_members')
      .select(['role', 'removed_at'])
      .where('study_id', '=', studyId)
      .where('user_id', '=', userId)
      .executeTakeFirst()) ?? null;

  const activate = (userId: string) =>
    clinic.db.updateTable('users').set({ status: 'active' }).where('id', '=', userId).execute();

  /** An active study with a published questionnaire, `invitee` invited by its owner's API. */
  async function invitedTo(
    invitee: { email: string },
    typedName = 'Typed Rater',
  ): Promise<StudyWorld> {
    const world = await createStudyWorld(clinic.app, { status: 'active' });
    await insertPublishedQuestionnaire(clinic.db, world.studyId);
    const added = await call(world.owner, 'POST', `/api/studies/${world.studyId}/participants`, {
      email: invitee.email,
      displayName: typedName,
    });
    expect(added.statusCode, added.body).toBe(201);
    return world;
  }

  it('Z4/study-invite-grants-nothing: an invited account reaches neither the study nor work assigned to it until it accepts', async () => {
    const invitee = await createActor(clinic.app, ['participant'], { displayName: 'Dr Own Name' });
    const world = await invitedTo(invitee);
    const caseId = await insertCase(clinic.db, world.studyId, 'case-invited');
    const assigned = await call(world.owner, 'POST', `/api/studies/${world.studyId}/assignments`, {
      assignments: [{ participantId: invitee.userId, caseId }],
    });
    expect(assigned.statusCode, assigned.body).toBe(201);
    const [assignment] = await clinic.rows('review_assignments', { study_id: world.studyId });
    const assignmentId = String(assignment?.id);

    const reach = async () => ({
      listed: (await call(invitee, 'GET', '/api/reviews/studies'))
        .json<{ studies: Array<{ id: string }> }>()
        .studies.some((s) => s.id === world.studyId),
      next: (await call(invitee, 'GET', `/api/reviews/studies/${world.studyId}/next`)).statusCode,
      assignment: (await call(invitee, 'GET', `/api/reviews/assignments/${assignmentId}`))
        .statusCode,
    });
    expect(await reach()).toEqual({ listed: false, next: 404, assignment: 404 });
    // The researchers' dashboard names them as typed, not by their account's name.
    const dashboard = await call(world.owner, 'GET', `/api/studies/${world.studyId}/dashboard`);
    expect(dashboard.json<{ participants: Array<{ displayName: string }> }>().participants).toEqual(
      [expect.objectContaining({ displayName: 'Typed Rater' })],
    );

    const accepted = await accept(invitee, world.studyId);
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toEqual({
      joined: { studyId: world.studyId, studyTitle: 'Pneumonia triage study' },
    });
    expect(await reach()).toEqual({ listed: true, next: 200, assignment: 200 });
    // Taking part is no invitation any more: "declining" it now is a 404, not a way to leave.
    expect((await decline(invitee, world.studyId)).statusCode).toBe(404);
    expect(await roleOf(world.studyId, invitee.userId)).toEqual({
      role: 'participant',
      removed_at: null,
    });
    const team = await call(world.owner, 'GET', `/api/studies/${world.studyId}/members`);
    expect(team.json<{ members: Array<{ userId: string }> }>().members).toContainEqual(
      expect.objectContaining({
        userId: invitee.userId,
        displayName: 'Dr Own Name',
        status: 'active',
      }),
    );
  });

  it('A11/study-invite-own-only: the invitee alone sees the invitation (study, organization, who invited) and answers it', async () => {
    const invitee = await createActor(clinic.app, ['participant']);
    const someoneElse = await createActor(clinic.app, ['participant']);
    const world = await invitedTo(invitee);
    const [own, ...more] = await invitationsOf(invitee);
    expect(more).toEqual([]);
    expect(own).toEqual({
      studyId: world.studyId,
      studyTitle: 'Pneumonia triage study',
      organizationName: expect.any(String),
      invitedBy: 'Dr Research Owner',
      expiresAt: expect.any(String),
      canAccept: true,
    });
    expect(new Date(own!.expiresAt).getTime()).toBeGreaterThan(Date.now() + 71 * 3_600_000);
    expect(await invitationsOf(someoneElse)).toEqual([]);
    expect((await accept(someoneElse, world.studyId)).statusCode).toBe(404);
    expect((await decline(someoneElse, world.studyId)).statusCode).toBe(404);
    // The owner (on the team) cannot answer it for them either.
    expect((await accept(world.owner, world.studyId)).statusCode).toBe(404);
    expect(await roleOf(world.studyId, invitee.userId)).toEqual({
      role: 'invited',
      removed_at: null,
    });
    expect(await roleOf(world.studyId, someoneElse.userId)).toBeNull();
  });

  it('A11/study-invite-who-may-accept: a non-participant account, one pending when invited, or a closed study cannot accept (409, told only to the invitee)', async () => {
    const clinician = await createActor(clinic.app, ['clinician']);
    const staffWorld = await invitedTo(clinician);
    const [forStaff] = await invitationsOf(clinician);
    expect(forStaff).toMatchObject({
      canAccept: false,
      reason: expect.stringContaining('only participant accounts'),
    });
    const refused = await accept(clinician, staffWorld.studyId);
    expect(refused.statusCode).toBe(409);
    expect(await roleOf(staffWorld.studyId, clinician.userId)).toMatchObject({ role: 'invited' });

    // Pending with a password when invited (a self sign-up's, chosen by whoever typed the
    // address in): never acceptable, even once the account is active.
    const signedUp = await createUser(clinic.db, { roles: ['participant'], status: 'invited' });
    await clinic.db
      .updateTable('users')
      .set({ password_hash: 'chosen-by-someone-else' })
      .where('id', '=', signedUp.userId)
      .execute();
    const signedUpWorld = await invitedTo(signedUp);
    await activate(signedUp.userId);
    const confirmed = await mintSession(clinic.app, { ...signedUp, roles: ['participant'] });
    const [forSignedUp] = await invitationsOf(confirmed);
    expect(forSignedUp).toMatchObject({
      canAccept: false,
      reason: expect.stringContaining('before your account was confirmed'),
    });
    expect((await accept(confirmed, signedUpWorld.studyId)).statusCode).toBe(409);

    // Invited by Haven and not set up yet (no password): told to finish setting up first, and
    // accepts once they have.
    const newcomer = await createUser(clinic.db, { roles: ['participant'], status: 'invited' });
    const newcomerWorld = await invitedTo(newcomer);
    const mails = (await listDevMailbox(clinic.harness.config.dataDir)).filter(
      (m) => m.to === newcomer.email,
    );
    expect(mails.at(-1)?.text).toContain('First finish setting up your Haven account');
    await activate(newcomer.userId);
    const setUp = await mintSession(clinic.app, { ...newcomer, roles: ['participant'] });
    expect((await invitationsOf(setUp))[0]).toMatchObject({ canAccept: true });
    expect((await accept(setUp, newcomerWorld.studyId)).statusCode).toBe(200);

    const participant = await createActor(clinic.app, ['participant']);
    const closing = await invitedTo(participant);
    await clinic.db
      .updateTable('studies')
      .set({ status: 'closed' })
      .where('id', '=', closing.studyId)
      .execute();
    const [forClosed] = await invitationsOf(participant);
    expect(forClosed).toMatchObject({
      canAccept: false,
      reason: expect.stringContaining('has closed'),
    });
    expect((await accept(participant, closing.studyId)).statusCode).toBe(409);
    expect(await roleOf(closing.studyId, participant.userId)).toMatchObject({ role: 'invited' });
  });

  it('A11/study-invite-expiry: an expired invitation is not listed and cannot be accepted, but can be declined', async () => {
    const invitee = await createActor(clinic.app, ['participant']);
    const world = await createStudyWorld(clinic.app, { status: 'active' });
    await inviteToStudy(clinic.db, world.studyId, invitee.userId, {
      answerBy: new Date(Date.now() - 1000),
    });
    expect(await invitationsOf(invitee)).toEqual([]);
    expect((await accept(invitee, world.studyId)).statusCode).toBe(404);
    expect(await roleOf(world.studyId, invitee.userId)).toMatchObject({ role: 'invited' });
    expect((await decline(invitee, world.studyId)).statusCode).toBe(204);
  });

  it('L3: declining takes the invitee off the team (audited); a declined invitation cannot be accepted', async () => {
    const invitee = await createActor(clinic.app, ['participant']);
    const world = await invitedTo(invitee);
    expect((await decline(invitee, world.studyId)).statusCode).toBe(204);
    expect(await roleOf(world.studyId, invitee.userId)).toMatchObject({
      role: 'invited',
      removed_at: expect.any(Date),
    });
    expect(await invitationsOf(invitee)).toEqual([]);
    expect((await accept(invitee, world.studyId)).statusCode).toBe(404);
    expect((await decline(invitee, world.studyId)).statusCode).toBe(404);
    const team = await call(world.owner, 'GET', `/api/studies/${world.studyId}/members`);
    expect(team.json<{ members: Array<{ role: string }> }>().members.map((m) => m.role)).toEqual([
      'owner',
    ]);
    expect(
      await clinic.rows('audit_events', {
        action: 'study.invitation_declined',
        actor_id: invitee.userId,
      }),
    ).toHaveLength(1);
  });

  it('A11/downgrade: migration 0018 undone turns an open invitation into a removed participant (granting nothing), and redone', async () => {
    const invitee = await createActor(clinic.app, ['participant']);
    const world = await invitedTo(invitee);
    const migrationDb = clinic.db as unknown as Kysely<unknown>;
    await m0018.down(migrationDb);
    const row = await sql<{ role: string; removed_at: Date | null }>`
      SELECT role, removed_at FROM study_members
      WHERE study_id = ${world.studyId} AND user_id = ${invitee.userId}`.execute(clinic.db);
    expect(row.rows).toEqual([{ role: 'participant', removed_at: expect.any(Date) }]);
    await m0018.up(migrationDb);
    expect(await roleOf(world.studyId, invitee.userId)).toMatchObject({ role: 'participant' });
    expect(
      (await call(invitee, 'GET', `/api/reviews/studies/${world.studyId}/next`)).statusCode,
    ).toBe(404);
  });
});
