// Organizations over HTTP against the real app: creation and search by platform admins,
// memberships and the active organization, and member management by org admins.
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser, uniqueEmail } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { listDevMailbox } from '../../platform/mail.js';

interface OrganizationBody {
  id: string;
  name: string;
  country: string;
  createdAt: string;
  memberCount: number;
}
interface MemberBody {
  userId: string;
  email: string;
  displayName: string;
  role: string;
  status: string;
  addedAt: string;
}

describeClinic('organizations', (clinic) => {
  const db = () => clinic.db;
  const call = clinic.call;
  let admin: Actor;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
  });

  const auditRows = (action: string, targetId?: string) => {
    let query = db()
      .selectFrom('audit_events')
      .select(['actor_id', 'action', 'target_type', 'target_id', 'details'])
      .where('action', '=', action);
    if (targetId) query = query.where('target_id', '=', targetId);
    return query.orderBy('seq').execute();
  };
  const mailsTo = async (to: string) =>
    (await listDevMailbox(clinic.harness.config.dataDir)).filter((m) => m.to === to);
  const roleIn = async (organizationId: string, userId: string) =>
    (
      await db()
        .selectFrom('organization_members')
        .select('role')
        .where('organization_id', '=', organizationId)
        .where('user_id', '=', userId)
        .executeTakeFirst()
    )?.role;
  /** The invitee's open invitation to the organization, accepted; the answer. */
  const accept = async (invitee: Actor, organizationId: string) => {
    const listed = await call(invitee, 'GET', '/api/account/organization-invitations');
    expect(listed.statusCode).toBe(200);
    const invitation = listed
      .json<{ invitations: Array<{ id: string; organizationId: string }> }>()
      .invitations.find((i) => i.organizationId === organizationId);
    expect(invitation).toBeDefined();
    return call(
      invitee,
      'POST',
      `/api/account/organization-invitations/${invitation?.id ?? ''}/accept`,
      {},
    );
  };

  describe('administration', () => {
    it('creates an organization (201, memberCount 0) and audits org.created', async () => {
      const response = await call(admin, 'POST', '/api/admin/organizations', {
        name: '  Northside Clinic  ',
      });
      expect(response.statusCode).toBe(201);
      const { organization } = response.json<{ organization: OrganizationBody }>();
      expect(organization).toEqual({
        id: expect.any(String),
        name: 'Northside Clinic',
        country: 'US',
        createdAt: expect.any(String),
        memberCount: 0,
      });
      const audits = await auditRows('org.created', organization.id);
      expect(audits).toHaveLength(1);
      expect(audits[0]?.actor_id).toBe(admin.userId);
      expect(audits[0]?.target_type).toBe('organization');
    });

    it('keeps the country an organization works in: set at creation, changed later, audited, named in memberships', async () => {
      const created = await call(admin, 'POST', '/api/admin/organizations', {
        name: 'Thames Surgery',
        country: 'GB',
      });
      expect(created.statusCode).toBe(201);
      const { organization } = created.json<{ organization: OrganizationBody }>();
      expect(organization).toMatchObject({ name: 'Thames Surgery', country: 'GB' });

      const changed = await call(admin, 'PATCH', `/api/admin/organizations/${organization.id}`, {
        country: 'IE',
      });
      expect(changed.statusCode).toBe(200);
      expect(changed.json()).toMatchObject({
        organization: { id: organization.id, country: 'IE' },
      });
      const audits = await auditRows('org.updated', organization.id);
      expect(audits.map((row) => row.details)).toEqual([{ countryBefore: 'GB', country: 'IE' }]);
      expect(audits[0]?.actor_id).toBe(admin.userId);

      const listed = await call(admin, 'GET', '/api/admin/organizations?q=Thames');
      expect(listed.json()).toMatchObject({ organizations: [{ country: 'IE' }] });
      const member = await clinic.actor(['clinician']);
      await clinic.addMember(organization.id, member, 'clinician');
      const memberships = await call(member, 'GET', '/api/organizations');
      expect(memberships.json()).toMatchObject({
        organizations: [{ id: organization.id, country: 'IE' }],
      });
    });

    it('refuses a country it cannot format phone numbers for, naming the field (400, not 500)', async () => {
      for (const country of ['ZZ', 'gb', 'GBR', '']) {
        const response = await call(admin, 'POST', '/api/admin/organizations', {
          name: `Nowhere ${country}`,
          country,
        });
        expect(response.statusCode, country).toBe(400);
        expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      const zz = await call(admin, 'POST', '/api/admin/organizations', {
        name: 'Nowhere Clinic',
        country: 'ZZ',
      });
      expect(zz.json()).toMatchObject({ errors: [{ field: 'country' }] });
      const missing = await call(
        admin,
        'PATCH',
        '/api/admin/organizations/00000000-0000-4000-8000-000000000000',
        { country: 'FR' },
      );
      expect(missing.statusCode).toBe(404);
    });

    it('refuses a duplicate name, case-insensitively, with 409 (not 500)', async () => {
      const first = await call(admin, 'POST', '/api/admin/organizations', {
        name: 'Lakeside Care',
      });
      expect(first.statusCode).toBe(201);
      for (const name of ['lakeside care', 'LAKESIDE CARE ', 'Lakeside Care']) {
        const again = await call(admin, 'POST', '/api/admin/organizations', { name });
        expect(again.statusCode).toBe(409);
        expect(again.json()).toMatchObject({ code: 'CONFLICT' });
      }
    });

    it('serializes racing creations of one name into one 201 and one 409', async () => {
      const [a, b] = await Promise.all([
        call(admin, 'POST', '/api/admin/organizations', { name: 'Race Clinic' }),
        call(admin, 'POST', '/api/admin/organizations', { name: 'race clinic' }),
      ]);
      expect([a.statusCode, b.statusCode].sort()).toEqual([201, 409]);
    });

    it('refuses blank, over-long and control-character names with 400', async () => {
      for (const name of ['', '   ', 'x'.repeat(121), 'Bad\u0007Name', 'Bad\nName']) {
        const response = await call(admin, 'POST', '/api/admin/organizations', { name });
        expect(response.statusCode, JSON.stringify(name)).toBe(400);
      }
      const extra = await call(admin, 'POST', '/api/admin/organizations', {
        name: 'Fine',
        id: '00000000-0000-4000-8000-000000000000',
      });
      expect(extra.statusCode).toBe(400);
    });

    it('lists organizations by name with keyset pagination, member counts and escaped search', async () => {
      const tag = `zz${Date.now().toString(36)}`;
      const names = [`${tag} Beta`, `${tag} alpha`, `${tag} Gamma 100%`, `${tag} Gamma 1000`];
      const ids: Record<string, string> = {};
      for (const name of names) {
        const created = await call(admin, 'POST', '/api/admin/organizations', { name });
        ids[name] = created.json<{ organization: OrganizationBody }>().organization.id;
      }
      const member = await createUser(db(), { roles: ['clinician'] });
      await clinic.addMember(ids[`${tag} Beta`] ?? '', member, 'clinician');

      const seen: OrganizationBody[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/api/admin/organizations?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await call(admin, 'GET', url);
        expect(page.statusCode).toBe(200);
        const body = page.json<{ organizations: OrganizationBody[]; nextCursor: string | null }>();
        expect(body.organizations.length).toBeLessThanOrEqual(2);
        seen.push(...body.organizations);
        cursor = body.nextCursor;
      } while (cursor);
      expect(seen.map((o) => o.name)).toEqual([
        `${tag} alpha`,
        `${tag} Beta`,
        `${tag} Gamma 100%`,
        `${tag} Gamma 1000`,
      ]);
      expect(seen.find((o) => o.name === `${tag} Beta`)?.memberCount).toBe(1);

      // '%' is a literal character, not "anything".
      const percent = await call(
        admin,
        'GET',
        `/api/admin/organizations?q=${encodeURIComponent('0%')}`,
      );
      expect(
        percent.json<{ organizations: OrganizationBody[] }>().organizations.map((o) => o.name),
      ).toEqual([`${tag} Gamma 100%`]);
      const underscore = await call(admin, 'GET', `/api/admin/organizations?q=${tag}_`);
      expect(underscore.json<{ organizations: OrganizationBody[] }>().organizations).toEqual([]);
      const upper = await call(
        admin,
        'GET',
        `/api/admin/organizations?q=${tag.toUpperCase()}%20GAMMA`,
      );
      expect(upper.json<{ organizations: OrganizationBody[] }>().organizations).toHaveLength(2);
    });

    it('answers 400 for a malformed cursor, limit or a NUL in the search', async () => {
      for (const query of ['cursor=nope', 'limit=0', 'limit=101', 'q=%00', 'extra=1']) {
        const response = await call(admin, 'GET', `/api/admin/organizations?${query}`);
        expect(response.statusCode, query).toBe(400);
      }
    });
  });

  describe('adding members', () => {
    let orgId: string;
    beforeAll(async () => {
      orgId = await clinic.organization();
    });

    it('invites an unknown email: invited clinician, membership and an invitation mail', async () => {
      const email = uniqueEmail('newcomer');
      const response = await call(admin, 'POST', `/api/admin/organizations/${orgId}/members`, {
        email,
        role: 'org_admin',
        displayName: 'Dr New',
      });
      expect(response.statusCode).toBe(201);
      const { member } = response.json<{ member: MemberBody }>();
      expect(member).toMatchObject({
        email,
        displayName: 'Dr New',
        role: 'org_admin',
        status: 'invited',
      });
      const user = await db()
        .selectFrom('users')
        .select(['roles', 'status'])
        .where('id', '=', member.userId)
        .executeTakeFirstOrThrow();
      expect(user).toEqual({ roles: ['clinician'], status: 'invited' });
      const mails = await mailsTo(email);
      expect(mails).toHaveLength(1);
      expect(mails[0]?.text).toContain('/invite#token=');
      expect((await auditRows('org.member_invited', member.userId)).length).toBe(1);
      const added = await auditRows('org.member_added', member.userId);
      expect(added[0]?.details).toMatchObject({
        organizationId: orgId,
        role: 'org_admin',
        via: 'invitation',
      });
    });

    it('adds an existing active clinician at once and tells them by mail without the organization name', async () => {
      const existing = await createUser(db(), { roles: ['clinician'], displayName: 'Dr Existing' });
      const response = await call(admin, 'POST', `/api/admin/organizations/${orgId}/members`, {
        email: existing.email.toUpperCase(),
        role: 'clinician',
      });
      expect(response.statusCode).toBe(201);
      expect(response.json<{ member: MemberBody }>().member).toMatchObject({
        userId: existing.userId,
        displayName: 'Dr Existing',
        role: 'clinician',
        status: 'active',
      });
      const mails = await mailsTo(existing.email);
      expect(mails).toHaveLength(1);
      expect(mails[0]?.subject).toBe('You were added to an organization in Haven');
      const orgName = await db()
        .selectFrom('organizations')
        .select('name')
        .where('id', '=', orgId)
        .executeTakeFirstOrThrow();
      expect(mails[0]?.text).not.toContain(orgName.name);
      const added = await auditRows('org.member_added', existing.userId);
      expect(added[0]?.details).toMatchObject({ organizationId: orgId, via: 'existing_account' });
    });

    it('a platform admin adding an account an org admin had invited spends that invitation', async () => {
      const lead = await clinic.actor(['clinician']);
      const shared = await clinic.organization({ members: [[lead, 'org_admin']] });
      const invitee = await clinic.actor(['clinician']);
      const invited = await call(lead, 'POST', `/api/organizations/${shared}/members`, {
        email: invitee.email,
        role: 'clinician',
      });
      expect(invited.statusCode).toBe(201);
      const added = await call(admin, 'POST', `/api/admin/organizations/${shared}/members`, {
        email: invitee.email,
        role: 'clinician',
      });
      expect(added.statusCode, added.body).toBe(201);
      const listed = await call(lead, 'GET', `/api/organizations/${shared}/members`);
      const entries = listed
        .json<{ members: MemberBody[] }>()
        .members.filter((m) => m.email === invitee.email);
      expect(entries).toEqual([
        expect.objectContaining({ userId: invitee.userId, status: 'active' }),
      ]);
      const own = await call(invitee, 'GET', '/api/account/organization-invitations');
      expect(own.json()).toEqual({ invitations: [] });
    });

    it('adds an existing invited clinician without resetting their invitation', async () => {
      const pending = await createUser(db(), { roles: ['clinician'], status: 'invited' });
      const response = await call(admin, 'POST', `/api/admin/organizations/${orgId}/members`, {
        email: pending.email,
        role: 'clinician',
      });
      expect(response.statusCode).toBe(201);
      expect(response.json<{ member: MemberBody }>().member.status).toBe('invited');
      expect(await auditRows('org.member_invited', pending.userId)).toHaveLength(0);
    });

    it('refuses other existing accounts and existing members with 409', async () => {
      const researcher = await createUser(db(), { roles: ['researcher'] });
      const patient = await createUser(db(), { roles: ['patient'] });
      const disabled = await createUser(db(), { roles: ['clinician'], status: 'disabled' });
      const member = await createUser(db(), { roles: ['clinician'] });
      await call(admin, 'POST', `/api/admin/organizations/${orgId}/members`, {
        email: member.email,
        role: 'clinician',
      });
      for (const email of [researcher.email, patient.email, disabled.email, member.email]) {
        const response = await call(admin, 'POST', `/api/admin/organizations/${orgId}/members`, {
          email,
          role: 'clinician',
        });
        expect(response.statusCode, email).toBe(409);
        expect(response.json()).toMatchObject({ code: 'CONFLICT', detail: expect.any(String) });
      }
      const roles = await db()
        .selectFrom('users')
        .select('roles')
        .where('id', '=', researcher.userId)
        .executeTakeFirstOrThrow();
      expect(roles.roles).toEqual(['researcher']);
    });

    it('answers 404 for an unknown organization and 400 for a bad body', async () => {
      const missing = await call(
        admin,
        'POST',
        '/api/admin/organizations/00000000-0000-4000-8000-000000000000/members',
        { email: uniqueEmail(), role: 'clinician' },
      );
      expect(missing.statusCode).toBe(404);
      for (const body of [
        { email: 'not-an-email', role: 'clinician' },
        { email: uniqueEmail(), role: 'owner' },
        { email: uniqueEmail(), role: 'clinician', displayName: 'a\u0000b' },
        { email: uniqueEmail(), role: 'clinician', extra: true },
      ]) {
        const response = await call(
          admin,
          'POST',
          `/api/admin/organizations/${orgId}/members`,
          body,
        );
        expect(response.statusCode, JSON.stringify(body)).toBe(400);
      }
    });
  });

  describe('memberships and the active organization', () => {
    it('lists own memberships with roles; a single membership is the active one', async () => {
      const clinician = await clinic.actor(['clinician']);
      const orgId = await clinic.organization({
        name: `Solo ${Date.now()}`,
        members: [[clinician, 'clinician']],
      });
      const response = await call(clinician, 'GET', '/api/organizations');
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        organizations: [
          { id: orgId, name: expect.stringMatching(/^Solo /), country: 'US', role: 'clinician' },
        ],
        activeOrganizationId: orgId,
      });
    });

    it('chooses the active organization among several; the choice is per session', async () => {
      const clinician = await clinic.actor(['clinician']);
      const first = await clinic.organization({ members: [[clinician, 'clinician']] });
      const second = await clinic.organization({ members: [[clinician, 'org_admin']] });
      const before = await call(clinician, 'GET', '/api/organizations');
      expect(
        before.json<{ activeOrganizationId: string | null }>().activeOrganizationId,
      ).toBeNull();
      expect(before.json<{ organizations: unknown[] }>().organizations).toHaveLength(2);

      const chosen = await call(clinician, 'PUT', '/api/organizations/active', {
        organizationId: second,
      });
      expect(chosen.statusCode).toBe(200);
      expect(chosen.json()).toEqual({ activeOrganizationId: second, role: 'org_admin' });
      const after = await call(clinician, 'GET', '/api/organizations');
      expect(after.json<{ activeOrganizationId: string }>().activeOrganizationId).toBe(second);
      const session = await db()
        .selectFrom('sessions')
        .select('active_organization_id')
        .where('id', '=', clinician.sessionId)
        .executeTakeFirstOrThrow();
      expect(session.active_organization_id).toBe(second);
      expect(await auditRows('org.active_selected', second)).toHaveLength(1);

      const switched = await call(clinician, 'PUT', '/api/organizations/active', {
        organizationId: first,
      });
      expect(switched.json()).toEqual({ activeOrganizationId: first, role: 'clinician' });
    });
  });

  describe('member management by org admins', () => {
    let orgAdmin: Actor;
    let orgId: string;
    beforeAll(async () => {
      orgAdmin = await clinic.actor(['clinician'], { displayName: 'Alice Admin' });
      orgId = await clinic.organization({ members: [[orgAdmin, 'org_admin']] });
    });

    it('lists members to any member, in name order, and audits the listing', async () => {
      const colleague = await clinic.actor(['clinician'], {
        displayName: 'Bob Colleague',
      });
      await clinic.addMember(orgId, colleague, 'clinician');
      const response = await call(colleague, 'GET', `/api/organizations/${orgId}/members`);
      expect(response.statusCode).toBe(200);
      const { members } = response.json<{ members: MemberBody[] }>();
      expect(members.map((m) => m.displayName)).toEqual(['Alice Admin', 'Bob Colleague']);
      expect(members[0]).toEqual({
        userId: orgAdmin.userId,
        email: orgAdmin.email,
        displayName: 'Alice Admin',
        role: 'org_admin',
        status: 'active',
        addedAt: expect.any(String),
      });
      expect((await auditRows('org.members_listed', orgId)).length).toBeGreaterThan(0);
    });

    it('invites a new member, and invites an existing clinician, who joins on accepting (A11)', async () => {
      const email = uniqueEmail('invitee');
      const invited = await call(orgAdmin, 'POST', `/api/organizations/${orgId}/members`, {
        email,
        role: 'clinician',
      });
      expect(invited.statusCode).toBe(201);
      expect(invited.json<{ member: MemberBody }>().member).toMatchObject({
        email,
        role: 'clinician',
        status: 'invited',
        displayName: email.split('@')[0],
      });
      const existing = await clinic.actor(['clinician'], { displayName: 'Dr Kept Private' });
      const added = await call(orgAdmin, 'POST', `/api/organizations/${orgId}/members`, {
        email: existing.email,
        role: 'org_admin',
      });
      expect(added.statusCode).toBe(201);
      const shown = added.json<{ member: MemberBody }>().member;
      expect(shown).toMatchObject({
        email: existing.email,
        role: 'org_admin',
        status: 'invited',
        displayName: existing.email.split('@')[0],
      });
      expect(shown.userId).not.toBe(existing.userId);
      expect(await roleIn(orgId, existing.userId)).toBeUndefined();
      const [notice] = await mailsTo(existing.email);
      expect(notice?.subject).toBe('You were invited to join an organization in Haven');
      expect(notice?.text).toContain('as: Organization administrator');

      const joined = await accept(existing, orgId);
      expect(joined.statusCode, joined.body).toBe(200);
      expect(joined.json()).toMatchObject({ joined: { organizationId: orgId, role: 'org_admin' } });
      expect(await roleIn(orgId, existing.userId)).toBe('org_admin');
      const listed = await call(orgAdmin, 'GET', `/api/organizations/${orgId}/members`);
      const members = listed.json<{ members: MemberBody[] }>().members;
      expect(members.find((m) => m.userId === existing.userId)).toMatchObject({
        displayName: 'Dr Kept Private',
        status: 'active',
      });
      expect(members.some((m) => m.userId === shown.userId)).toBe(false);
      const added2 = await auditRows('org.member_added', existing.userId);
      expect(added2[0]?.actor_id).toBe(existing.userId);
      expect(added2[0]?.details).toMatchObject({
        organizationId: orgId,
        via: 'accepted_invitation',
      });
    });

    it('changes a role (audited with the previous role) and accepts an unchanged one', async () => {
      const member = await createUser(db(), { roles: ['clinician'] });
      await clinic.addMember(orgId, member, 'clinician');
      const url = `/api/organizations/${orgId}/members/${member.userId}`;
      const promoted = await call(orgAdmin, 'PUT', url, { role: 'org_admin' });
      expect(promoted.statusCode).toBe(200);
      expect(promoted.json<{ member: MemberBody }>().member.role).toBe('org_admin');
      const audits = await auditRows('org.member_role_changed', member.userId);
      expect(audits).toHaveLength(1);
      expect(audits[0]?.details).toMatchObject({
        organizationId: orgId,
        role: 'org_admin',
        previous: 'clinician',
      });
      const same = await call(orgAdmin, 'PUT', url, { role: 'org_admin' });
      expect(same.statusCode).toBe(200);
      expect(await auditRows('org.member_role_changed', member.userId)).toHaveLength(1);
      const demoted = await call(orgAdmin, 'PUT', url, { role: 'clinician' });
      expect(demoted.json<{ member: MemberBody }>().member.role).toBe('clinician');
    });

    it('removes a member (204, audited) and answers 404 for a non-member target', async () => {
      const member = await createUser(db(), { roles: ['clinician'] });
      await clinic.addMember(orgId, member, 'clinician');
      const url = `/api/organizations/${orgId}/members/${member.userId}`;
      const removed = await call(orgAdmin, 'DELETE', url);
      expect(removed.statusCode).toBe(204);
      expect(removed.body).toBe('');
      const audits = await auditRows('org.member_removed', member.userId);
      expect(audits).toHaveLength(1);
      expect(audits[0]?.details).toMatchObject({ organizationId: orgId, role: 'clinician' });
      const again = await call(orgAdmin, 'DELETE', url);
      expect(again.statusCode).toBe(404);
      const put = await call(orgAdmin, 'PUT', url, { role: 'org_admin' });
      expect(put.statusCode).toBe(404);
      // Re-adding after removal works: membership is a fresh row.
      const readd = await call(orgAdmin, 'POST', `/api/organizations/${orgId}/members`, {
        email: member.email,
        role: 'clinician',
      });
      expect(readd.statusCode).toBe(201);
    });

    it('lets an org admin step down once another org admin exists', async () => {
      const solo = await clinic.actor(['clinician']);
      const other = await clinic.actor(['clinician']);
      const soloOrg = await clinic.organization({ members: [[solo, 'org_admin']] });
      const self = `/api/organizations/${soloOrg}/members/${solo.userId}`;
      expect((await call(solo, 'PUT', self, { role: 'clinician' })).statusCode).toBe(409);
      expect((await call(solo, 'DELETE', self)).statusCode).toBe(409);
      await call(solo, 'POST', `/api/organizations/${soloOrg}/members`, {
        email: other.email,
        role: 'org_admin',
      });
      // An invitation is not an administrator: stepping down waits for the acceptance.
      expect((await call(solo, 'PUT', self, { role: 'clinician' })).statusCode).toBe(409);
      expect((await accept(other, soloOrg)).statusCode).toBe(200);
      expect((await call(solo, 'PUT', self, { role: 'clinician' })).statusCode).toBe(200);
      // Now a plain clinician: managing is refused.
      expect((await call(solo, 'DELETE', self)).statusCode).toBe(403);
    });
  });

  describe('researchers (issue 10): the organization role researcher', () => {
    let orgAdmin: Actor;
    let orgId: string;
    const membersUrl = () => `/api/organizations/${orgId}/members`;
    beforeAll(async () => {
      orgAdmin = await clinic.actor(['clinician']);
      orgId = await clinic.organization({ members: [[orgAdmin, 'org_admin']] });
    });

    it('invites an existing researcher account as a researcher, who joins on accepting, and invites an unknown email as one', async () => {
      const researcher = await clinic.actor(['researcher']);
      const added = await call(orgAdmin, 'POST', membersUrl(), {
        email: researcher.email,
        role: 'researcher',
      });
      expect(added.statusCode, added.body).toBe(201);
      expect(added.json<{ member: MemberBody }>().member).toMatchObject({
        role: 'researcher',
        status: 'invited',
      });
      expect((await accept(researcher, orgId)).statusCode).toBe(200);
      expect(await roleIn(orgId, researcher.userId)).toBe('researcher');
      const email = uniqueEmail('new-researcher');
      const invited = await call(orgAdmin, 'POST', membersUrl(), { email, role: 'researcher' });
      expect(invited.statusCode, invited.body).toBe(201);
      const { member } = invited.json<{ member: MemberBody }>();
      expect(member).toMatchObject({ email, role: 'researcher', status: 'invited' });
      const account = await db()
        .selectFrom('users')
        .select('roles')
        .where('id', '=', member.userId)
        .executeTakeFirstOrThrow();
      expect(account.roles).toEqual(['researcher']);
    });

    it('lets a clinician account not join as a researcher, nor a researcher account as staff: its owner is told why (409)', async () => {
      const clinician = await clinic.actor(['clinician']);
      const asResearcher = await call(orgAdmin, 'POST', membersUrl(), {
        email: clinician.email,
        role: 'researcher',
      });
      // The org admin is told nothing about the account: the same answer as for anyone.
      expect(asResearcher.statusCode).toBe(201);
      const refused = await accept(clinician, orgId);
      expect(refused.statusCode).toBe(409);
      expect(refused.json<{ detail: string }>().detail).toContain(
        'Your account cannot join as a researcher',
      );
      const researcher = await clinic.actor(['researcher']);
      const asStaff = await call(orgAdmin, 'POST', membersUrl(), {
        email: researcher.email,
        role: 'org_admin',
      });
      expect(asStaff.statusCode).toBe(201);
      const listed = await call(researcher, 'GET', '/api/account/organization-invitations');
      expect(listed.json()).toMatchObject({
        invitations: [
          {
            organizationId: orgId,
            role: 'org_admin',
            canAccept: false,
            reason: expect.stringContaining('cannot join as staff'),
          },
        ],
      });
      expect((await accept(researcher, orgId)).statusCode).toBe(409);
      const rows = await db()
        .selectFrom('organization_members')
        .select('user_id')
        .where('organization_id', '=', orgId)
        .where('user_id', 'in', [clinician.userId, researcher.userId])
        .execute();
      expect(rows).toEqual([]);
    });

    it('refuses changing a researcher membership to clinician or org_admin, and staff to researcher (409)', async () => {
      const researcher = await createUser(db(), { roles: ['researcher'] });
      await clinic.addMember(orgId, researcher, 'researcher');
      const url = `${membersUrl()}/${researcher.userId}`;
      for (const role of ['clinician', 'org_admin']) {
        const changed = await call(orgAdmin, 'PUT', url, { role });
        expect(changed.statusCode, role).toBe(409);
        expect(changed.json<{ detail: string }>().detail).toContain('A researcher cannot become');
      }
      const clinician = await createUser(db(), { roles: ['clinician'] });
      await clinic.addMember(orgId, clinician, 'clinician');
      const toResearcher = await call(orgAdmin, 'PUT', `${membersUrl()}/${clinician.userId}`, {
        role: 'researcher',
      });
      expect(toResearcher.statusCode).toBe(409);
      const roles = await db()
        .selectFrom('organization_members')
        .select(['user_id', 'role'])
        .where('organization_id', '=', orgId)
        .where('user_id', 'in', [researcher.userId, clinician.userId])
        .orderBy('role')
        .execute();
      expect(roles).toEqual([
        { user_id: clinician.userId, role: 'clinician' },
        { user_id: researcher.userId, role: 'researcher' },
      ]);
      expect(await auditRows('org.member_role_changed', researcher.userId)).toEqual([]);
    });
  });
});
