// Studies and their teams over HTTP against the real app (docs/api/reviews.md): the routes end to
// end, and the threats against them — a researcher of another study or organization (Z4), a
// caller without the scope (Z2), a clinician or outsider starting a study in an organization
// (organization:run_studies), a removed member, a researcher probing which emails have accounts
// through participant invitations, and the audit trail of every change (L3).
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser, uniqueEmail } from '../../../../test/actors.js';
import { describeClinic, type Actor, type Method } from '../../../../test/clinical-actors.js';
import {
  addParticipant,
  addStudyMember,
  createStudyWorld,
  insertCase,
  insertPublishedQuestionnaire,
  insertStudy,
  type StudyWorld,
} from '../../../../test/review-actors.js';
import { devMailboxDir, listDevMailbox, type MailMessage } from '../../../platform/mail.js';

interface StudyBody {
  id: string;
  organizationId: string;
  organizationName: string;
  title: string;
  description?: string;
  status: string;
  role: string;
  counts: { cases: number; participants: number; assignments: number; answers: number };
  questionnaire: { versionId: string; version: number } | null;
}
interface MemberBody {
  userId: string;
  displayName: string;
  email: string;
  role: string;
  status: string;
  addedAt: string;
}

describeClinic('reviews: studies and their team', (clinic) => {
  const call = clinic.call;
  let world: StudyWorld;
  let owner: Actor;
  let colleague: Actor;

  const auditRows = (action: string, targetId?: string) => {
    let query = clinic.db
      .selectFrom('audit_events')
      .select(['actor_id', 'action', 'target_type', 'target_id', 'details'])
      .where('action', '=', action);
    if (targetId) query = query.where('target_id', '=', targetId);
    return query.orderBy('seq').execute();
  };
  const teamRow = (studyId: string, userId: string) =>
    clinic.db
      .selectFrom('study_members')
      .selectAll()
      .where('study_id', '=', studyId)
      .where('user_id', '=', userId)
      .executeTakeFirst();

  /** Every mail to `to` as written to the dev mailbox, HTML part included (listDevMailbox drops it). */
  async function mailsTo(to: string): Promise<MailMessage[]> {
    const folder = devMailboxDir(clinic.harness.config.dataDir);
    const mails: MailMessage[] = [];
    for (const name of (await readdir(folder)).filter((n) => n.endsWith('.json')).sort()) {
      const mail = JSON.parse(await readFile(path.join(folder, name), 'utf8')) as MailMessage;
      if (mail.to === to) mails.push(mail);
    }
    return mails;
  }
  /** What a participant's mail must name: the study's current title and its organization. */
  const studyNames = (studyId: string) =>
    clinic.db
      .selectFrom('studies as s')
      .innerJoin('organizations as o', 'o.id', 's.organization_id')
      .select(['s.title', 'o.name as organization'])
      .where('s.id', '=', studyId)
      .executeTakeFirstOrThrow();

  /** A researcher account that is a researcher member of the organization. */
  async function researcherOf(organizationId: string, displayName?: string): Promise<Actor> {
    const researcher = await clinic.actor(['researcher'], displayName ? { displayName } : {});
    await clinic.addMember(organizationId, researcher, 'researcher');
    return researcher;
  }

  beforeAll(async () => {
    world = await createStudyWorld(clinic.app, { status: 'draft' });
    owner = world.owner;
    colleague = await researcherOf(world.organizationId, 'Dr Colleague');
    await addStudyMember(clinic.db, world.studyId, colleague.userId, 'researcher');
  });

  describe('routes end to end', () => {
    it('L3: a researcher of the organization creates a study, becomes its owner, and it is audited', async () => {
      const created = await call(owner, 'POST', '/api/studies', {
        organizationId: world.organizationId,
        title: '  Sepsis alert study  ',
        description: 'Does an AI score change triage?',
      });
      expect(created.statusCode, created.body).toBe(201);
      const { study } = created.json<{ study: StudyBody }>();
      expect(study).toMatchObject({
        organizationId: world.organizationId,
        title: 'Sepsis alert study',
        description: 'Does an AI score change triage?',
        status: 'draft',
        role: 'owner',
        counts: { cases: 0, participants: 0, assignments: 0, answers: 0 },
        questionnaire: null,
      });
      expect(await teamRow(study.id, owner.userId)).toMatchObject({
        role: 'owner',
        removed_at: null,
      });
      const audits = await auditRows('study.created', study.id);
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({ actor_id: owner.userId, target_type: 'study' });
      expect(audits[0]?.details).toEqual({
        studyId: study.id,
        organizationId: world.organizationId,
      });
    });

    it('lists the studies of the team and the organizations where the caller may start one', async () => {
      const listed = await call(colleague, 'GET', '/api/studies');
      expect(listed.statusCode).toBe(200);
      const body = listed.json<{ studies: StudyBody[]; organizations: Array<{ id: string }> }>();
      expect(body.studies.map((s) => s.id)).toContain(world.studyId);
      expect(body.studies.find((s) => s.id === world.studyId)).not.toHaveProperty('description');
      expect(body.studies.find((s) => s.id === world.studyId)?.role).toBe('researcher');
      expect(body.organizations.map((o) => o.id)).toEqual([world.organizationId]);
    });

    it('reads and renames a study (audited with the fields, not their text)', async () => {
      const read = await call(colleague, 'GET', `/api/studies/${world.studyId}`);
      expect(read.statusCode).toBe(200);
      expect(read.json<{ study: StudyBody }>().study.role).toBe('researcher');
      const patched = await call(colleague, 'PATCH', `/api/studies/${world.studyId}`, {
        title: 'Pneumonia triage, wave 2',
      });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json<{ study: StudyBody }>().study.title).toBe('Pneumonia triage, wave 2');
      const audits = await auditRows('study.updated', world.studyId);
      expect(audits.at(-1)?.details).toEqual({ studyId: world.studyId, fields: 'title' });
      const empty = await call(colleague, 'PATCH', `/api/studies/${world.studyId}`, {});
      expect(empty.statusCode).toBe(400);
      const blank = await call(colleague, 'PATCH', `/api/studies/${world.studyId}`, {
        title: '   ',
      });
      expect(blank.statusCode).toBe(400);
    });

    it('activates only with a case and a published questionnaire (409 saying what is missing), then closes and reopens', async () => {
      const fresh = await createStudyWorld(clinic.app, { status: 'draft' });
      const { studyId, owner: me } = fresh;
      const url = `/api/studies/${studyId}/status`;
      const early = await call(me, 'POST', url, { status: 'active' });
      expect(early.statusCode).toBe(409);
      expect(early.json().detail).toBe(
        'The study cannot be activated yet: it needs at least one case and a published questionnaire version.',
      );
      const closeDraft = await call(me, 'POST', url, { status: 'closed' });
      expect(closeDraft.statusCode).toBe(409);
      await insertCase(clinic.db, studyId, 'case-1');
      const noQuestionnaire = await call(me, 'POST', url, { status: 'active' });
      expect(noQuestionnaire.statusCode).toBe(409);
      expect(noQuestionnaire.json().detail).toContain('a published questionnaire version');
      const versionId = await insertPublishedQuestionnaire(clinic.db, studyId);
      const active = await call(me, 'POST', url, { status: 'active' });
      expect(active.statusCode, active.body).toBe(200);
      expect(active.json<{ study: StudyBody }>().study).toMatchObject({
        status: 'active',
        counts: { cases: 1 },
        questionnaire: { versionId, version: 1 },
      });
      expect((await call(me, 'POST', url, { status: 'active' })).statusCode).toBe(200);
      expect((await call(me, 'POST', url, { status: 'closed' })).statusCode).toBe(200);
      const reopened = await call(me, 'POST', url, { status: 'active' });
      expect(reopened.json<{ study: StudyBody }>().study.status).toBe('active');
      const audits = await auditRows('study.status_changed', studyId);
      expect(audits.map((a) => a.details)).toEqual([
        { studyId, status: 'active', previous: 'draft' },
        { studyId, status: 'closed', previous: 'active' },
        { studyId, status: 'active', previous: 'closed' },
      ]);
      expect((await call(me, 'POST', url, { status: 'draft' })).statusCode).toBe(400);
    });

    it("Z4: only the owner changes the status; the study's researchers get 403 saying so", async () => {
      const refused = await call(colleague, 'POST', `/api/studies/${world.studyId}/status`, {
        status: 'active',
      });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().detail).toBe("Only the study's owner can change its status.");
    });

    it('lists the team, owner first', async () => {
      const listed = await call(colleague, 'GET', `/api/studies/${world.studyId}/members`);
      expect(listed.statusCode).toBe(200);
      const { members } = listed.json<{ members: MemberBody[] }>();
      expect(members.slice(0, 2)).toEqual([
        {
          userId: owner.userId,
          displayName: 'Dr Research Owner',
          email: owner.email,
          role: 'owner',
          status: 'active',
          addedAt: expect.any(String),
        },
        expect.objectContaining({ userId: colleague.userId, role: 'researcher' }),
      ]);
    });
  });

  describe('the research team', () => {
    it('L3: the owner adds a researcher of the organization (201, audited)', async () => {
      const newcomer = await researcherOf(world.organizationId);
      const added = await call(owner, 'POST', `/api/studies/${world.studyId}/researchers`, {
        email: newcomer.email.toUpperCase(),
      });
      expect(added.statusCode, added.body).toBe(201);
      expect(added.json<{ member: MemberBody }>().member).toMatchObject({
        userId: newcomer.userId,
        role: 'researcher',
      });
      const audits = await auditRows('study.member_added', newcomer.userId);
      expect(audits[0]?.details).toEqual({
        studyId: world.studyId,
        role: 'researcher',
        via: 'existing_account',
      });
      const again = await call(owner, 'POST', `/api/studies/${world.studyId}/researchers`, {
        email: newcomer.email,
      });
      expect(again.statusCode).toBe(409);
    });

    it('refuses anyone who is not a researcher of the organization with 409, and non-owners with 403', async () => {
      const clinicianMember = await clinic.actor(['clinician']);
      await clinic.addMember(world.organizationId, clinicianMember, 'clinician');
      const outsider = await clinic.actor(['researcher']);
      for (const email of [clinicianMember.email, outsider.email, uniqueEmail('nobody')]) {
        const refused = await call(owner, 'POST', `/api/studies/${world.studyId}/researchers`, {
          email,
        });
        expect(refused.statusCode, email).toBe(409);
        expect(refused.json().detail).toContain("Only researchers of the study's organization");
      }
      const newcomer = await researcherOf(world.organizationId);
      const byColleague = await call(
        colleague,
        'POST',
        `/api/studies/${world.studyId}/researchers`,
        {
          email: newcomer.email,
        },
      );
      expect(byColleague.statusCode).toBe(403);
      expect(await teamRow(world.studyId, newcomer.userId)).toBeUndefined();
    });

    it('removes a researcher only as the owner; the owner cannot be removed', async () => {
      const leaving = await researcherOf(world.organizationId);
      await addStudyMember(clinic.db, world.studyId, leaving.userId, 'researcher');
      const url = `/api/studies/${world.studyId}/members/${leaving.userId}`;
      const byColleague = await call(colleague, 'DELETE', url);
      expect(byColleague.statusCode).toBe(403);
      const removed = await call(owner, 'DELETE', url);
      expect(removed.statusCode).toBe(204);
      expect((await teamRow(world.studyId, leaving.userId))?.removed_at).toBeInstanceOf(Date);
      expect((await auditRows('study.member_removed', leaving.userId))[0]?.details).toEqual({
        studyId: world.studyId,
        role: 'researcher',
      });
      expect((await call(owner, 'DELETE', url)).statusCode).toBe(404);
      const ownerGone = await call(
        owner,
        'DELETE',
        `/api/studies/${world.studyId}/members/${owner.userId}`,
      );
      expect(ownerGone.statusCode).toBe(409);
      const byResearcher = await call(
        colleague,
        'DELETE',
        `/api/studies/${world.studyId}/members/${owner.userId}`,
      );
      expect(byResearcher.statusCode).toBe(409);
    });
  });

  describe('participants', () => {
    const participantsUrl = () => `/api/studies/${world.studyId}/participants`;

    it('A11: an existing participant account is invited, not joined: the typed name, "invited", a mail naming no study', async () => {
      const account = await createUser(clinic.db, {
        roles: ['participant'],
        displayName: 'Dr Rater',
      });
      const added = await call(colleague, 'POST', participantsUrl(), {
        email: account.email,
        displayName: 'Rater as typed',
      });
      expect(added.statusCode, added.body).toBe(201);
      expect(added.json()).toEqual({
        member: {
          userId: account.userId,
          displayName: 'Rater as typed',
          email: account.email,
          role: 'participant',
          status: 'invited',
          addedAt: expect.any(String),
        },
        invited: true,
      });
      // An invitation, not a participant: the team row grants nothing until it is accepted.
      expect(await teamRow(world.studyId, account.userId)).toMatchObject({
        role: 'invited',
        shown_name: 'Rater as typed',
        account_held_by_owner: true,
        removed_at: null,
      });
      const mails = (await listDevMailbox(clinic.harness.config.dataDir)).filter(
        (m) => m.to === account.email,
      );
      expect(mails).toHaveLength(1);
      const { title, organization } = await studyNames(world.studyId);
      expect(mails[0]?.subject).toBe('You were invited to take part in a study on Haven');
      expect(mails[0]?.text).toContain('A research team invited you to take part in a study');
      expect(mails[0]?.text).not.toContain(title);
      expect(mails[0]?.text).not.toContain(organization);
      expect((await auditRows('study.participant_invited', account.userId))[0]).toMatchObject({
        actor_id: colleague.userId,
        details: { studyId: world.studyId, via: 'existing_account' },
      });
      expect(await auditRows('study.member_added', account.userId)).toEqual([]);
      // Adding the address again: the same 409 as for an unknown email invited twice.
      const again = await call(colleague, 'POST', participantsUrl(), { email: account.email });
      expect(again.statusCode).toBe(409);
      expect(again.json<{ detail: string }>().detail).toBe('This person is already on the team.');
    });

    it('an unknown email is invited as a participant in the same transaction (invited: true)', async () => {
      const email = uniqueEmail('rater');
      const added = await call(colleague, 'POST', participantsUrl(), {
        email,
        displayName: 'Dr New Rater',
      });
      expect(added.statusCode, added.body).toBe(201);
      const body = added.json<{ member: MemberBody; invited: boolean }>();
      expect(body).toMatchObject({
        invited: true,
        member: { email, displayName: 'Dr New Rater', role: 'participant', status: 'invited' },
      });
      const user = await clinic.db
        .selectFrom('users')
        .select(['roles', 'status'])
        .where('id', '=', body.member.userId)
        .executeTakeFirstOrThrow();
      expect(user).toEqual({ roles: ['participant'], status: 'invited' });
      // The mail reads like the research team writing: the study, its organization, the inviter,
      // the role and the local-time expiry, in the text and the HTML part alike.
      const { title, organization } = await studyNames(world.studyId);
      const [mail, ...more] = await mailsTo(email);
      expect(more).toHaveLength(0);
      expect(mail?.subject).toBe(`Join the study "${title}" at ${organization} on Haven`);
      const studyLine = `They would like you to take part in the study "${title}" at ${organization}.`;
      for (const part of [mail?.text, mail?.html]) {
        expect(part).toContain('Dr Colleague has invited you to Haven.');
        expect(part).toContain(studyLine.replaceAll('"', part === mail?.html ? '&quot;' : '"'));
        expect(part).toContain('You have been invited to Haven as: Participant.');
        expect(part).toMatch(/The link expires on \w+day \d{1,2} \w+ \d{4} at \d{2}:\d{2} /);
      }
      expect(await auditRows('study.participant_invited', body.member.userId)).toHaveLength(1);
      expect((await auditRows('study.member_added', body.member.userId))[0]?.details).toEqual({
        studyId: world.studyId,
        role: 'participant',
        via: 'invitation',
      });
      // Inviting the same email again: the account now exists, on the team: 409.
      expect((await call(colleague, 'POST', participantsUrl(), { email })).statusCode).toBe(409);
    });

    it('V3: a hostile study title is escaped in the invitation HTML, cannot break the subject header, and is kept on a resent link', async () => {
      const hostileWorld = await createStudyWorld(clinic.app, { status: 'draft' });
      const { organization } = await studyNames(hostileWorld.studyId);
      // Accepted by the API: no controls, but a line separator (which a header parser may split
      // on) and markup, at the full 200 characters, so the subject must be shortened.
      const title = `<img src=x onerror=alert(1)> & "Trial"\u2028Bcc: victim@example.org `.padEnd(
        200,
        'x',
      );
      const renamed = await call(
        hostileWorld.owner,
        'PATCH',
        `/api/studies/${hostileWorld.studyId}`,
        {
          title,
        },
      );
      expect(renamed.statusCode, renamed.body).toBe(200);
      const email = uniqueEmail('hostile');
      const added = await call(
        hostileWorld.owner,
        'POST',
        `/api/studies/${hostileWorld.studyId}/participants`,
        { email },
      );
      expect(added.statusCode, added.body).toBe(201);
      const [mail] = await mailsTo(email);
      expect(mail?.subject.length).toBeLessThanOrEqual(200);
      expect(mail?.subject).toMatch(
        /^Join the study "<img src=x onerror=alert\(1\)> & "Trial" Bcc: /,
      );
      expect(mail?.subject).toMatch(new RegExp(`…" at ${organization} on Haven$`));
      expect(mail?.subject).not.toMatch(/[\p{Cc}\u2028\u2029]/u);
      expect(mail?.text).toContain(title);
      const html = mail?.html ?? '';
      expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Trial&quot;');
      expect(html).not.toContain('<img');

      // A platform administrator's resent link names the same study.
      const admin = await clinic.actor(['admin']);
      const { userId } = added.json<{ member: MemberBody }>().member;
      const resent = await call(admin, 'POST', `/api/admin/users/${userId}/invitation`, {});
      expect(resent.statusCode, resent.body).toBe(200);
      const mails = await mailsTo(email);
      expect(mails).toHaveLength(2);
      expect(mails[1]?.subject).toBe(mail?.subject);
      expect(mails[1]?.text).toContain(`the study "${title}" at ${organization}.`);
    });

    it('A11/Z4: an unknown email and every kind of account get the same answer and the same team row to researchers', async () => {
      const study = await createStudyWorld(clinic.app, { status: 'active' });
      const url = `/api/studies/${study.studyId}/participants`;
      const kinds = {
        unknown: { email: uniqueEmail('nobody') },
        participant: await createUser(clinic.db, { roles: ['participant'] }),
        clinician: await createUser(clinic.db, { roles: ['clinician'] }),
        researcher: await createUser(clinic.db, { roles: ['researcher'] }),
        patient: await createUser(clinic.db, { roles: ['patient'] }),
        admin: await createUser(clinic.db, { roles: ['admin'] }),
        disabled: await createUser(clinic.db, { roles: ['participant'], status: 'disabled' }),
        pending: await createUser(clinic.db, { roles: ['clinician'], status: 'invited' }),
      };
      const answers = new Map<string, unknown>();
      const ids = new Map<string, string>();
      // Typed in capitals: an existing account's stored address (lower case) must not show.
      const typed = (account: { email: string }) => account.email.toUpperCase();
      for (const [kind, account] of Object.entries(kinds)) {
        const added = await call(study.owner, 'POST', url, {
          email: typed(account),
          displayName: 'Typed Name',
        });
        expect(added.statusCode, `${kind}: ${added.body}`).toBe(201);
        const body = added.json<{ member: MemberBody; invited: boolean }>();
        ids.set(kind, body.member.userId);
        expect(body.member.email, kind).toBe(typed(account));
        // Everything but the ids and the address, which differ for every add anyway.
        answers.set(kind, {
          ...body,
          member: { ...body.member, userId: '', email: '', addedAt: '' },
        });
        const again = await call(study.owner, 'POST', url, { email: account.email });
        expect([again.statusCode, again.json<{ detail: string }>().detail], kind).toEqual([
          409,
          'This person is already on the team.',
        ]);
      }
      expect(new Set([...answers.values()].map((a) => JSON.stringify(a))).size).toBe(1);
      expect(answers.get('unknown')).toEqual({
        member: {
          userId: '',
          displayName: 'Typed Name',
          email: '',
          role: 'participant',
          status: 'invited',
          addedAt: '',
        },
        invited: true,
      });
      // An invitee who changes their address meanwhile: the team still sees the one it typed.
      await clinic.db
        .updateTable('users')
        .set({ email: 'moved@example.org', email_normalized: 'moved@example.org' })
        .where('id', '=', kinds.participant.userId)
        .execute();
      // The team list, the study's counts and the participants export read them all alike.
      const team = await call(study.owner, 'GET', `/api/studies/${study.studyId}/members`);
      const listed = team
        .json<{ members: MemberBody[] }>()
        .members.filter((m) => m.role !== 'owner');
      expect(listed).toHaveLength(Object.keys(kinds).length);
      expect(new Set(listed.map((m) => `${m.displayName}|${m.status}|${m.role}`))).toEqual(
        new Set(['Typed Name|invited|participant']),
      );
      expect(new Set(listed.map((m) => m.email))).toEqual(new Set(Object.values(kinds).map(typed)));
      const summary = await call(study.owner, 'GET', `/api/studies/${study.studyId}`);
      expect(summary.json<{ study: StudyBody }>().study.counts.participants).toBe(
        Object.keys(kinds).length,
      );
      const roster = await call(
        study.owner,
        'GET',
        `/api/studies/${study.studyId}/exports/participants?format=ndjson`,
      );
      expect(roster.statusCode, roster.body).toBe(200);
      const rows = roster.body
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { display_name: string; email: string; status: string });
      expect(new Set(rows.map((r) => r.email))).toEqual(new Set(Object.values(kinds).map(typed)));
      expect(rows).toHaveLength(Object.keys(kinds).length);
      expect(new Set(rows.map((r) => `${r.display_name}|${r.status}`))).toEqual(
        new Set(['Typed Name|invited']),
      );
      // Work can be assigned to each alike, by the id the answer gave (a disabled account too).
      const caseId = await insertCase(clinic.db, study.studyId, 'case-uniform');
      const assigned = await call(
        study.owner,
        'POST',
        `/api/studies/${study.studyId}/assignments`,
        {
          assignments: [...ids.values()].map((participantId) => ({ participantId, caseId })),
        },
      );
      expect(assigned.statusCode, assigned.body).toBe(201);
      // And by the address the team typed, in an assignment sheet (the moved invitee's too).
      await insertCase(clinic.db, study.studyId, 'case-sheet');
      const sheet = await clinic.app.inject({
        method: 'POST',
        url: `/api/studies/${study.studyId}/assignments/import`,
        headers: { authorization: study.owner.authorization, 'content-type': 'text/csv' },
        payload:
          'participant_email,case_id,path,collapse,highlight,top\n' +
          `${typed(kinds.participant)},case-sheet,,,,\n${typed(kinds.unknown)},case-sheet,,,,\n`,
      });
      expect(sheet.statusCode, sheet.body).toBe(201);
      expect(sheet.json<{ participants: number }>().participants).toBe(2);
    });

    it('a removed participant is invited back on the same row: they take part again only by accepting', async () => {
      const rater = await addParticipant(clinic.app, world.studyId, 'Dr Returning');
      const url = `/api/studies/${world.studyId}/members/${rater.userId}`;
      expect((await call(colleague, 'DELETE', url)).statusCode).toBe(204);
      expect((await teamRow(world.studyId, rater.userId))?.removed_at).toBeInstanceOf(Date);
      const back = await call(colleague, 'POST', participantsUrl(), { email: rater.email });
      expect(back.statusCode, back.body).toBe(201);
      expect(await teamRow(world.studyId, rater.userId)).toMatchObject({
        role: 'invited',
        removed_at: null,
      });
      const accepted = await call(
        rater,
        'POST',
        `/api/account/study-invitations/${world.studyId}/accept`,
        {},
      );
      expect(accepted.statusCode, accepted.body).toBe(200);
      expect(await teamRow(world.studyId, rater.userId)).toMatchObject({
        role: 'participant',
        shown_name: null,
        answer_by: null,
        removed_at: null,
      });
      expect((await auditRows('study.member_added', rater.userId)).at(-1)).toMatchObject({
        actor_id: rater.userId,
        details: { via: 'accepted_invitation' },
      });
    });
  });

  describe('who may do what', () => {
    let otherWorld: StudyWorld;
    let participant: Actor;
    let removedResearcher: Actor;

    /** Every study route, with a body that would succeed for the owner. */
    const routes = (studyId: string, memberId: string): Array<[Method, string, unknown?]> => [
      ['GET', `/api/studies/${studyId}`],
      ['PATCH', `/api/studies/${studyId}`, { title: 'Renamed' }],
      ['POST', `/api/studies/${studyId}/status`, { status: 'closed' }],
      ['GET', `/api/studies/${studyId}/members`],
      ['POST', `/api/studies/${studyId}/researchers`, { email: uniqueEmail('r') }],
      ['POST', `/api/studies/${studyId}/participants`, { email: uniqueEmail('p') }],
      ['DELETE', `/api/studies/${studyId}/members/${memberId}`],
      ['GET', `/api/studies/${studyId}/cases`],
      ['GET', `/api/studies/${studyId}/cases/${randomUUID()}`],
      [
        'POST',
        `/api/studies/${studyId}/cases`,
        { cases: [{ externalId: 'x-1', tree: [{ key: 'a', label: 'A', value: 1 }] }] },
      ],
    ];

    beforeAll(async () => {
      otherWorld = await createStudyWorld(clinic.app);
      participant = await addParticipant(clinic.app, world.studyId);
      removedResearcher = await researcherOf(world.organizationId);
      await addStudyMember(clinic.db, world.studyId, removedResearcher.userId, 'researcher');
      await clinic.db
        .updateTable('study_members')
        .set({ removed_at: new Date() })
        .where('study_id', '=', world.studyId)
        .where('user_id', '=', removedResearcher.userId)
        .execute();
    });

    it('Z4: a researcher of another study and organization gets the 404 of a missing study on every route', async () => {
      const target = await addParticipant(clinic.app, world.studyId);
      for (const [method, url, body] of routes(world.studyId, target.userId)) {
        const res = await call(otherWorld.owner, method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(404);
        const missing = await call(
          otherWorld.owner,
          method,
          url.replace(world.studyId, randomUUID()),
          body,
        );
        expect(missing.statusCode).toBe(404);
        expect(res.json().detail).toBe(missing.json().detail);
      }
      expect(await teamRow(world.studyId, target.userId)).toMatchObject({ removed_at: null });
    });

    it('Z4: a researcher of the same organization who is not on the team gets 404 on every route', async () => {
      const stranger = await researcherOf(world.organizationId);
      for (const [method, url, body] of routes(world.studyId, participant.userId)) {
        const res = await call(stranger, method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(404);
      }
      const listed = await call(stranger, 'GET', '/api/studies');
      expect(listed.json<{ studies: StudyBody[] }>().studies.map((s) => s.id)).not.toContain(
        world.studyId,
      );
    });

    it('Z4: a removed researcher reaches nothing and no longer sees the study listed', async () => {
      for (const [method, url, body] of routes(world.studyId, participant.userId)) {
        const res = await call(removedResearcher, method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(404);
      }
      const listed = await call(removedResearcher, 'GET', '/api/studies');
      expect(listed.json<{ studies: StudyBody[] }>().studies).toEqual([]);
    });

    it('Z4: a researcher who left the organization reaches none of its studies', async () => {
      const leaver = await researcherOf(world.organizationId);
      await addStudyMember(clinic.db, world.studyId, leaver.userId, 'researcher');
      expect((await call(leaver, 'GET', `/api/studies/${world.studyId}`)).statusCode).toBe(200);
      await clinic.db
        .deleteFrom('organization_members')
        .where('organization_id', '=', world.organizationId)
        .where('user_id', '=', leaver.userId)
        .execute();
      expect((await call(leaver, 'GET', `/api/studies/${world.studyId}`)).statusCode).toBe(404);
      const listed = await call(leaver, 'GET', '/api/studies');
      expect(listed.json<{ studies: StudyBody[] }>().studies).toEqual([]);
    });

    it('Z2: a participant of the study holds no studies scope: 403 on every study route', async () => {
      for (const [method, url, body] of [
        ['GET', '/api/studies'] as [Method, string],
        ['POST', '/api/studies', { organizationId: world.organizationId, title: 'Mine' }] as [
          Method,
          string,
          unknown,
        ],
        ...routes(world.studyId, participant.userId),
      ]) {
        const res = await call(participant, method, url, body);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
      }
    });

    it('Z2: a clinician and a machine client with the scopes are refused with 403; no token is 401', async () => {
      const clinician = await clinic.actor(['clinician']);
      const machine = await clinic.machineClient(['studies:read', 'studies:manage']);
      for (const caller of [clinician, machine]) {
        for (const [method, url, body] of routes(world.studyId, participant.userId)) {
          const res = await call(caller, method, url, body);
          expect(res.statusCode, `${method} ${url}`).toBe(403);
        }
      }
      expect((await call(null, 'GET', '/api/studies')).statusCode).toBe(401);
    });

    it('Z4: a participant account listed on the team as a researcher still manages nothing (scope)', async () => {
      const odd = await clinic.actor(['participant']);
      await clinic.addMember(world.organizationId, odd, 'researcher');
      await addStudyMember(clinic.db, otherWorld.studyId, odd.userId, 'researcher');
      const res = await call(odd, 'GET', `/api/studies/${otherWorld.studyId}`);
      expect(res.statusCode).toBe(403);
    });
  });

  describe('organization:run_studies', () => {
    it('a clinician member of the organization gets 403, and nothing is created', async () => {
      // A researcher account (it holds studies:manage) whose membership is a clinician one.
      const dual = await clinic.actor(['researcher', 'clinician']);
      await clinic.addMember(world.organizationId, dual, 'clinician');
      const res = await call(dual, 'POST', '/api/studies', {
        organizationId: world.organizationId,
        title: 'Not allowed',
      });
      expect(res.statusCode).toBe(403);
      expect(await clinic.rows('studies', { created_by: dual.userId })).toEqual([]);
      const clinician = await clinic.actor(['clinician']);
      await clinic.addMember(world.organizationId, clinician, 'clinician');
      const plain = await call(clinician, 'POST', '/api/studies', {
        organizationId: world.organizationId,
        title: 'Not allowed',
      });
      expect(plain.statusCode).toBe(403);
    });

    it('Z4: a researcher who is not a member gets the 404 of a missing organization', async () => {
      const outsider = await clinic.actor(['researcher']);
      const res = await call(outsider, 'POST', '/api/studies', {
        organizationId: world.organizationId,
        title: 'Not allowed',
      });
      expect(res.statusCode).toBe(404);
      const missing = await call(outsider, 'POST', '/api/studies', {
        organizationId: randomUUID(),
        title: 'Not allowed',
      });
      expect(missing.statusCode).toBe(404);
      expect(res.json().detail).toBe(missing.json().detail);
      expect(await clinic.rows('studies', { created_by: outsider.userId })).toEqual([]);
    });

    it('V1: a title with control characters or an unknown property is 400', async () => {
      for (const body of [
        { organizationId: world.organizationId, title: 'Bad\u0007title' },
        { organizationId: world.organizationId, title: 'Fine', status: 'active' },
        { organizationId: world.organizationId, title: 'Fine\u202Eevil' },
      ]) {
        const res = await call(owner, 'POST', '/api/studies', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
      }
    });
  });

  it('a study inserted for another owner is invisible to this owner (fixture sanity)', async () => {
    const studyId = await insertStudy(clinic.db, world.organizationId, colleague.userId);
    expect((await call(owner, 'GET', `/api/studies/${studyId}`)).statusCode).toBe(404);
  });
});
