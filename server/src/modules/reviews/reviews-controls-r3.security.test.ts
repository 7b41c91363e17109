// Reviews controls whose removal no test noticed (round 3): a participant's timing event has its
// own small body limit (T4); a removed researcher cannot come back through the participant door
// (Z4); a disabled account is given no cases (Z4); a timing event is audited (L3); a CSV upload
// holds at most 1,000 cases (V1); the study archive and the team changes count in the strict
// sensitive rate class (R1).
import { beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS, uniqueEmail } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import {
  addParticipant,
  addStudyMember,
  createStudyWorld,
  insertAssignment,
  insertCase,
  insertPublishedQuestionnaire,
  type StudyWorld,
} from '../../../test/review-actors.js';

describeClinic('reviews controls (round 3)', (clinic) => {
  let world: StudyWorld;
  let participant: Actor;
  let assignmentId: string;

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app);
    await insertPublishedQuestionnaire(clinic.db, world.studyId);
    participant = await addParticipant(clinic.app, world.studyId);
    const caseId = await insertCase(clinic.db, world.studyId, 'case-r3-1');
    assignmentId = await insertAssignment(clinic.db, world.studyId, participant.userId, caseId);
  });

  it('T4/review-event-body-limit: a timing event over 1 KiB is refused with 413 before it is parsed, far below the global 1 MiB', async () => {
    const bodyOf = (bytes: number) => {
      const json = JSON.stringify({ type: 'case_opened', clientAt: '2026-01-01T00:00:00Z' });
      return `${json.slice(0, -1)}${' '.repeat(bytes - json.length)}}`;
    };
    const send = (bytes: number) =>
      clinic.app.inject({
        method: 'POST',
        url: `/api/reviews/assignments/${assignmentId}/events`,
        headers: { authorization: participant.authorization, 'content-type': 'application/json' },
        payload: bodyOf(bytes),
      });
    const atLimit = await send(1024);
    expect(atLimit.statusCode, atLimit.body).toBe(204);
    const over = await send(8192);
    expect(over.statusCode, over.body).toBe(413);
    expect(over.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('Z4/rejoin-same-role: a removed researcher cannot be brought back by a non-owner adding them as a participant', async () => {
    const team = await createStudyWorld(clinic.app);
    const colleague = await clinic.actor(['researcher']);
    await clinic.addMember(team.organizationId, colleague, 'researcher');
    await addStudyMember(clinic.db, team.studyId, colleague.userId, 'researcher');
    // An account that is both a researcher of the organization and a participant account.
    const both = await clinic.actor(['researcher', 'participant']);
    await clinic.addMember(team.organizationId, both, 'researcher');
    const base = `/api/studies/${team.studyId}`;
    const added = await clinic.call(team.owner, 'POST', `${base}/researchers`, {
      email: both.email,
    });
    expect(added.statusCode, added.body).toBe(201);
    const removed = await clinic.call(team.owner, 'DELETE', `${base}/members/${both.userId}`);
    expect(removed.statusCode, removed.body).toBe(204);

    // Only the owner may add researchers; the colleague tries the participant door instead.
    const back = await clinic.call(colleague, 'POST', `${base}/participants`, {
      email: both.email,
    });
    expect(back.statusCode, back.body).toBe(409);
    expect(back.json().detail).toContain('cannot come back in another role');
    const row = await clinic.db
      .selectFrom('study_members')
      .select(['role', 'removed_at'])
      .where('study_id', '=', team.studyId)
      .where('user_id', '=', both.userId)
      .executeTakeFirstOrThrow();
    expect(row.role).toBe('researcher');
    expect(row.removed_at).toBeInstanceOf(Date);
  });

  it('Z4/assign-enabled-accounts: a participant whose account was disabled is given no new cases', async () => {
    const team = await createStudyWorld(clinic.app);
    const disabled = await addParticipant(clinic.app, team.studyId, 'Dr Disabled');
    const caseId = await insertCase(clinic.db, team.studyId, 'case-r3-disabled');
    await clinic.db
      .updateTable('users')
      .set({ status: 'disabled' })
      .where('id', '=', disabled.userId)
      .execute();
    const res = await clinic.call(team.owner, 'POST', `/api/studies/${team.studyId}/assignments`, {
      assignments: [{ participantId: disabled.userId, caseId }],
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(JSON.stringify(res.json().errors)).toContain('is not a participant of this study');
    const rows = await clinic.db
      .selectFrom('review_assignments')
      .select('id')
      .where('study_id', '=', team.studyId)
      .execute();
    expect(rows).toEqual([]);
  });

  it('L3/timing-audited: the first opening of a case is audited by ids; a repeated stamp adds no event', async () => {
    const caseId = await insertCase(clinic.db, world.studyId, 'case-r3-timing');
    const timed = await insertAssignment(clinic.db, world.studyId, participant.userId, caseId);
    const events = () =>
      clinic.db
        .selectFrom('audit_events')
        .select(['actor_id', 'target_type', 'target_id', 'details'])
        .where('action', '=', 'review.timing_recorded')
        .where('target_id', '=', timed)
        .execute();
    const send = () =>
      clinic.call(participant, 'POST', `/api/reviews/assignments/${timed}/events`, {
        type: 'form_opened',
        clientAt: '2026-01-01T00:00:00Z',
      });
    expect((await send()).statusCode).toBe(204);
    expect(await events()).toEqual([
      {
        actor_id: participant.userId,
        target_type: 'review_assignment',
        target_id: timed,
        details: { assignmentId: timed, studyId: world.studyId, event: 'form_opened' },
      },
    ]);
    expect((await send()).statusCode).toBe(204);
    expect(await events()).toHaveLength(1);
  });

  it('V1/case-csv-upload-cap: a CSV upload of more than 1,000 cases is refused at the case past the cap; nothing is written', async () => {
    const team = await createStudyWorld(clinic.app, { status: 'draft' });
    const rows = ['case_id,path,label,value,unit,ai_score,ai_explanation'];
    for (let i = 1; i <= 1001; i += 1) rows.push(`c-${i},vitals/heart_rate,Heart rate,${i},bpm,,`);
    const res = await clinic.app.inject({
      method: 'POST',
      url: `/api/studies/${team.studyId}/cases/import`,
      headers: { authorization: team.owner.authorization, 'content-type': 'text/csv' },
      payload: rows.join('\n'),
    });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(400);
    expect(res.json().errors).toContainEqual({
      field: 'line 1002: case_id',
      message: expect.stringContaining('at most 1,000 cases'),
    });
    const stored = await clinic.db
      .selectFrom('review_cases')
      .select('id')
      .where('study_id', '=', team.studyId)
      .execute();
    expect(stored).toEqual([]);
  });
});

describeClinic(
  'reviews rate classes (round 3)',
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_SENSITIVE: '2/60' } },
  (clinic) => {
    let world: StudyWorld;

    const from = (
      actor: Actor,
      remoteAddress: string,
      method: 'GET' | 'POST' | 'DELETE',
      url: string,
      payload?: object,
    ) =>
      clinic.app.inject({
        method,
        url,
        remoteAddress,
        headers: { authorization: actor.authorization },
        ...(payload === undefined ? {} : { payload }),
      });

    beforeAll(async () => {
      world = await createStudyWorld(clinic.app);
      await insertPublishedQuestionnaire(clinic.db, world.studyId);
      await insertCase(clinic.db, world.studyId, 'case-rate-1');
    });

    it('R1/export-archive-sensitive-class: the study archive (every answer, participant and case) counts in the strict sensitive class', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await from(
          world.owner,
          '203.0.113.40',
          'GET',
          `/api/studies/${world.studyId}/exports/archive`,
        );
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([200, 200, 429]);
    });

    it('R1/team-changes-sensitive-class: adding participants by email (which mails them) counts in the strict sensitive class', async () => {
      const other = await createStudyWorld(clinic.app);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await from(
          other.owner,
          '203.0.113.50',
          'POST',
          `/api/studies/${other.studyId}/participants`,
          { email: uniqueEmail() },
        );
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([201, 201, 429]);
    });

    it('R1/researcher-add-sensitive-class: adding researchers (who then read every answer) counts in the strict sensitive class', async () => {
      const other = await createStudyWorld(clinic.app);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const researcher = await clinic.actor(['researcher']);
        await clinic.addMember(other.organizationId, researcher, 'researcher');
        const res = await from(
          other.owner,
          '203.0.113.60',
          'POST',
          `/api/studies/${other.studyId}/researchers`,
          { email: researcher.email },
        );
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([201, 201, 429]);
    });

    it("R1/member-removal-sensitive-class: removing members from a study's team counts in the strict sensitive class", async () => {
      const other = await createStudyWorld(clinic.app);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const member = await addParticipant(clinic.app, other.studyId);
        const res = await from(
          other.owner,
          '203.0.113.70',
          'DELETE',
          `/api/studies/${other.studyId}/members/${member.userId}`,
        );
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([204, 204, 429]);
    });
  },
);
