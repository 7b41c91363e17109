// A11, Z4: an org admin adding a member by email learns nothing about the account behind the
// address, and an existing account joins only when its owner accepts. Each test names the
// threat; every one fails with the control it names removed (scripts/mutation/mutants.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';
import {
  callAs,
  createActor,
  createOrganization,
  createUser,
  memberRoleOf,
  uniqueEmail,
  type Actor,
} from '../../../test/actors.js';
import { listDevMailbox } from '../../platform/mail.js';

const ENV = {
  HAVEN_RATE_READ: '10000/60',
  HAVEN_RATE_WRITE: '10000/60',
  HAVEN_RATE_SENSITIVE: '10000/60',
};

interface MemberBody {
  userId: string;
  email: string;
  displayName: string;
  role: string;
  status: string;
  addedAt: string;
}
interface OwnInvitationBody {
  id: string;
  organizationId: string;
  role: string;
  canAccept: boolean;
}

type Method = Parameters<typeof callAs>[2];

describeEachEngine('organization invitations security', (engine) => {
  let node: TestApp;
  let orgAdmin: Actor;
  let orgId: string;
  const db = () => node.database.db;
  const call = (actor: Actor | null, method: Method, url: string, payload?: unknown) =>
    callAs(node.app, actor, method, url, payload);
  const membersUrl = () => `/api/organizations/${orgId}/members`;
  const invite = (email: string, role = 'clinician', displayName?: string) =>
    call(orgAdmin, 'POST', membersUrl(), {
      email,
      role,
      ...(displayName === undefined ? {} : { displayName }),
    });
  const ownInvitations = async (invitee: Actor) => {
    const listed = await call(invitee, 'GET', '/api/account/organization-invitations');
    expect(listed.statusCode).toBe(200);
    return listed.json<{ invitations: OwnInvitationBody[] }>().invitations;
  };
  const invitationTo = async (invitee: Actor, organizationId: string) => {
    const found = (await ownInvitations(invitee)).find((i) => i.organizationId === organizationId);
    if (!found) throw new Error('no invitation listed');
    return found.id;
  };
  const acceptUrl = (id: string) => `/api/account/organization-invitations/${id}/accept`;

  beforeAll(async () => {
    node = await createTestApp(engine, { env: ENV });
    orgAdmin = await createActor(node.app, ['clinician']);
    orgId = await createOrganization(db(), {
      members: [{ userId: orgAdmin.userId, role: 'org_admin' }],
    });
  });
  afterAll(async () => {
    await node.close();
  });

  describe('A11/Z4 no account oracle', () => {
    it('A11/Z4: an org admin adding any email gets the same answer whether an account exists, and what it is', async () => {
      const accounts = [
        await createUser(db(), { roles: ['clinician'], displayName: 'Dr Secret Name' }),
        await createUser(db(), { roles: ['clinician'], status: 'invited' }),
        await createUser(db(), { roles: ['patient'], displayName: 'A Patient Elsewhere' }),
        await createUser(db(), { roles: ['researcher'] }),
        await createUser(db(), { roles: ['clinician'], status: 'disabled' }),
        await createUser(db(), { roles: ['admin'], status: 'invited' }),
      ];
      const emails = [uniqueEmail('nobody'), ...accounts.map((a) => a.email)];
      const before = await db()
        .selectFrom('users')
        .select(['id', 'roles', 'status', 'display_name'])
        .where(
          'id',
          'in',
          accounts.map((a) => a.userId),
        )
        .orderBy('id')
        .execute();

      const answers: MemberBody[] = [];
      for (const email of emails) {
        const response = await invite(email);
        expect(response.statusCode, email).toBe(201);
        const { member } = response.json<{ member: MemberBody }>();
        expect(Object.keys(member).sort(), email).toEqual(
          ['addedAt', 'displayName', 'email', 'role', 'status', 'userId'].sort(),
        );
        expect(member, email).toMatchObject({
          email,
          displayName: email.split('@')[0],
          role: 'clinician',
          status: 'invited',
        });
        answers.push(member);
      }
      // No answer carries an existing account's id, and the list shows each as answered.
      for (const account of accounts) {
        expect(answers.map((a) => a.userId)).not.toContain(account.userId);
      }
      const listed = await call(orgAdmin, 'GET', membersUrl());
      const members = listed.json<{ members: MemberBody[] }>().members;
      for (const answer of answers) {
        expect(members.find((m) => m.userId === answer.userId)).toEqual(answer);
      }
      const text = listed.body + answers.map((a) => JSON.stringify(a)).join('');
      expect(text).not.toContain('Dr Secret Name');
      expect(text).not.toContain('A Patient Elsewhere');
      // Nobody existing joined, and no account changed.
      for (const account of accounts) {
        expect(await memberRoleOf(db(), orgId, account.userId)).toBeUndefined();
      }
      const after = await db()
        .selectFrom('users')
        .select(['id', 'roles', 'status', 'display_name'])
        .where(
          'id',
          'in',
          accounts.map((a) => a.userId),
        )
        .orderBy('id')
        .execute();
      expect(after).toEqual(before);
    });

    it('A11/Z4: the name an org admin gives is the one shown, not the account’s own', async () => {
      const account = await createUser(db(), {
        roles: ['clinician'],
        displayName: 'Real Name Kept',
      });
      const response = await invite(account.email, 'clinician', 'Dr Typed');
      expect(response.json<{ member: MemberBody }>().member.displayName).toBe('Dr Typed');
      // The second add answers as a second add of an unknown email does: 409, same words.
      const again = await invite(account.email);
      const unknown = uniqueEmail('twice');
      await invite(unknown);
      const unknownAgain = await invite(unknown);
      expect(again.statusCode).toBe(409);
      expect(unknownAgain.statusCode).toBe(409);
      expect(again.json<{ detail: string }>().detail).toBe(
        unknownAgain.json<{ detail: string }>().detail,
      );
    });
  });

  it('Z4: an organization’s member list shows only its own invitations', async () => {
    const otherAdmin = await createActor(node.app, ['clinician']);
    const otherOrg = await createOrganization(db(), {
      members: [{ userId: otherAdmin.userId, role: 'org_admin' }],
    });
    const elsewhere = await createUser(db(), { roles: ['clinician'] });
    const invited = await call(otherAdmin, 'POST', `/api/organizations/${otherOrg}/members`, {
      email: elsewhere.email,
      role: 'clinician',
    });
    expect(invited.statusCode).toBe(201);
    const listed = await call(orgAdmin, 'GET', membersUrl());
    expect(listed.statusCode).toBe(200);
    expect(listed.body).not.toContain(elsewhere.email);
    expect(listed.body).not.toContain(invited.json<{ member: MemberBody }>().member.userId);
  });

  describe('A11 joining by acceptance', () => {
    it('A11: an invited existing account gets nothing of the organization until it accepts', async () => {
      const invitee = await createActor(node.app, ['clinician']);
      expect((await invite(invitee.email)).statusCode).toBe(201);
      const memberships = await call(invitee, 'GET', '/api/organizations');
      expect(memberships.json<{ organizations: unknown[] }>().organizations).toEqual([]);
      const choose = await call(invitee, 'PUT', '/api/organizations/active', {
        organizationId: orgId,
      });
      expect([403, 404]).toContain(choose.statusCode);
      expect((await call(invitee, 'GET', membersUrl())).statusCode).toBe(404);

      const accepted = await call(
        invitee,
        'POST',
        acceptUrl(await invitationTo(invitee, orgId)),
        {},
      );
      expect(accepted.statusCode, accepted.body).toBe(200);
      expect(await memberRoleOf(db(), orgId, invitee.userId)).toBe('clinician');
      expect((await call(invitee, 'GET', membersUrl())).statusCode).toBe(200);
      expect(await ownInvitations(invitee)).toEqual([]);
    });

    it('A11: an account that cannot join in the role is refused at acceptance and stays out', async () => {
      const patient = await createActor(node.app, ['patient']);
      expect((await invite(patient.email)).statusCode).toBe(201);
      const [listed] = await ownInvitations(patient);
      expect(listed).toMatchObject({ organizationId: orgId, canAccept: false });
      const refused = await call(patient, 'POST', acceptUrl(listed?.id ?? ''), {});
      expect(refused.statusCode).toBe(409);
      expect(await memberRoleOf(db(), orgId, patient.userId)).toBeUndefined();
      // Declining ends it, audited.
      const declined = await call(
        patient,
        'DELETE',
        `/api/account/organization-invitations/${listed?.id ?? ''}`,
      );
      expect(declined.statusCode).toBe(204);
      expect(await ownInvitations(patient)).toEqual([]);
      const audit = await db()
        .selectFrom('audit_events')
        .select('actor_id')
        .where('action', '=', 'org.invitation_declined')
        .where('actor_id', '=', patient.userId)
        .execute();
      expect(audit).toHaveLength(1);
    });
  });

  describe('Z4 only the invitee answers', () => {
    it('Z4: another person, the org admin included, can neither see, accept nor decline an invitation (404)', async () => {
      const invitee = await createActor(node.app, ['clinician']);
      const stranger = await createActor(node.app, ['clinician']);
      await invite(invitee.email);
      const id = await invitationTo(invitee, orgId);
      expect(await ownInvitations(stranger)).toEqual([]);
      for (const actor of [stranger, orgAdmin]) {
        const accepted = await call(actor, 'POST', acceptUrl(id), {});
        expect(accepted.statusCode).toBe(404);
        const declined = await call(actor, 'DELETE', `/api/account/organization-invitations/${id}`);
        expect(declined.statusCode).toBe(404);
      }
      expect(await memberRoleOf(db(), orgId, stranger.userId)).toBeUndefined();
      expect(await invitationTo(invitee, orgId)).toBe(id);
    });

    it('A11: an expired invitation is not listed and cannot be accepted', async () => {
      const invitee = await createActor(node.app, ['clinician']);
      await invite(invitee.email);
      const id = await invitationTo(invitee, orgId);
      await db()
        .updateTable('organization_invitations')
        .set({ expires_at: new Date(Date.now() - 60_000) })
        .where('id', '=', id)
        .execute();
      expect(await ownInvitations(invitee)).toEqual([]);
      expect((await call(invitee, 'POST', acceptUrl(id), {})).statusCode).toBe(404);
      expect(await memberRoleOf(db(), orgId, invitee.userId)).toBeUndefined();
    });

    it('A11: an invitation the org admin withdrew cannot be accepted; its role changes only within staff', async () => {
      const invitee = await createActor(node.app, ['clinician']);
      const answer = await invite(invitee.email);
      const listId = answer.json<{ member: MemberBody }>().member.userId;
      const id = await invitationTo(invitee, orgId);
      const toResearcher = await call(orgAdmin, 'PUT', `${membersUrl()}/${listId}`, {
        role: 'researcher',
      });
      expect(toResearcher.statusCode).toBe(409);
      const withdrawn = await call(orgAdmin, 'DELETE', `${membersUrl()}/${listId}`);
      expect(withdrawn.statusCode).toBe(204);
      expect((await call(invitee, 'POST', acceptUrl(id), {})).statusCode).toBe(404);
      expect(await memberRoleOf(db(), orgId, invitee.userId)).toBeUndefined();
      const listed = await call(orgAdmin, 'GET', membersUrl());
      expect(listed.json<{ members: MemberBody[] }>().members.map((m) => m.userId)).not.toContain(
        listId,
      );
    });
  });

  it('A11: the invitee is told by mail, without the organization’s name', async () => {
    const invitee = await createUser(db(), { roles: ['clinician'] });
    await invite(invitee.email, 'org_admin');
    const mails = (await listDevMailbox(node.config.dataDir)).filter((m) => m.to === invitee.email);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.subject).toBe('You were invited to join an organization in Haven');
    expect(mails[0]?.text).toContain('Organization administrator');
    const name = await db()
      .selectFrom('organizations')
      .select('name')
      .where('id', '=', orgId)
      .executeTakeFirstOrThrow();
    expect(mails[0]?.text).not.toContain(name.name);
  });
});
