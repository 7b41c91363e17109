// One role story (issue 14): an organization administrator is named so wherever a person reads
// their role, though their account role is only 'clinician'. The invitation mail (first and
// re-sent), the invitation page's answer, the notice to an existing account and the users list
// all carry the membership role, in the words the SPA shows (personRoleLabel, via the contract).
import { beforeAll, expect, it } from 'vitest';
import { createUser, uniqueEmail } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { listDevMailbox } from '../../platform/mail.js';
import { personRoleLabel } from '../identity/schemas.js';

interface ListedUser {
  id: string;
  email: string;
  roles: string[];
  organizationRoles: string[];
}

describeClinic('one role story', (clinic) => {
  const call = clinic.call;
  let admin: Actor;
  let orgId: string;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
    orgId = await clinic.organization();
  });

  const mailsTo = async (to: string) =>
    (await listDevMailbox(clinic.harness.config.dataDir)).filter((m) => m.to === to);
  const tokenOf = (text: string) => /#token=([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? '';
  const listed = async (email: string): Promise<ListedUser | undefined> => {
    const page = await call(admin, 'GET', `/api/admin/users?query=${encodeURIComponent(email)}`);
    expect(page.statusCode, page.body).toBe(200);
    return page.json<{ users: ListedUser[] }>().users.find((u) => u.email === email);
  };

  it('names each role in human words, the membership role over the account role', () => {
    expect(personRoleLabel(['clinician'], 'org_admin')).toBe('Organization administrator');
    expect(personRoleLabel(['clinician'], 'clinician')).toBe('Clinician');
    expect(personRoleLabel(['clinician'])).toBe('Clinician');
    expect(personRoleLabel(['researcher'], 'researcher')).toBe('Researcher');
    expect(personRoleLabel(['admin'])).toBe('Administrator');
    expect(personRoleLabel(['patient'])).toBe('Patient');
    expect(personRoleLabel(['participant'])).toBe('Participant');
    expect(personRoleLabel(['admin', 'clinician'], 'org_admin')).toBe(
      'Administrator and organization administrator',
    );
    expect(personRoleLabel([])).toBe('No role');
  });

  it('invites an org admin as "Organization administrator" in the mail, the invitation page and the users list', async () => {
    const email = uniqueEmail('org-admin-invitee');
    const response = await call(admin, 'POST', `/api/admin/organizations/${orgId}/members`, {
      email,
      role: 'org_admin',
    });
    expect(response.statusCode, response.body).toBe(201);

    const [mail] = await mailsTo(email);
    expect(mail?.text).toContain('You have been invited to Haven as: Organization administrator.');
    // Issue 14 item 7: the mail names who invites and for which clinic.
    const orgName = (await clinic.rows('organizations', { id: orgId }))[0]?.name as string;
    const adminName = (await clinic.rows('users', { id: admin.userId }))[0]?.display_name as string;
    expect(mail?.subject).toBe(`Join ${orgName} on Haven`);
    expect(mail?.text).toContain(`${adminName} at ${orgName} has invited you to Haven.`);
    expect(mail?.text).toMatch(/The link expires on \w+day \d{1,2} \w+ \d{4} at \d{2}:\d{2} UTC\./);
    expect(mail?.text.toLowerCase()).not.toContain('clinician');

    const inspected = await clinic.app.inject({
      method: 'POST',
      url: '/api/onboarding/invitations/inspect',
      headers: { origin: clinic.harness.config.publicOrigin },
      payload: { token: tokenOf(mail?.text ?? '') },
    });
    expect(inspected.statusCode, inspected.body).toBe(200);
    expect(inspected.json()).toMatchObject({ role: 'clinician', organizationRole: 'org_admin' });

    const user = await listed(email);
    expect(user).toMatchObject({ roles: ['clinician'], organizationRoles: ['org_admin'] });

    // A re-sent invitation says the same.
    const resent = await call(admin, 'POST', `/api/admin/users/${user?.id ?? ''}/invitation`, {});
    expect(resent.statusCode, resent.body).toBe(200);
    const mails = await mailsTo(email);
    expect(mails).toHaveLength(2);
    for (const sent of mails) {
      expect(sent.text).toContain('as: Organization administrator.');
    }
  });

  it('invites a plain clinician member, and an account with no organization, by their role', async () => {
    const member = uniqueEmail('clinician-invitee');
    const added = await call(admin, 'POST', `/api/admin/organizations/${orgId}/members`, {
      email: member,
      role: 'clinician',
    });
    expect(added.statusCode, added.body).toBe(201);
    expect((await mailsTo(member))[0]?.text).toContain('invited to Haven as: Clinician.');
    expect(await listed(member)).toMatchObject({ organizationRoles: ['clinician'] });

    const loner = uniqueEmail('researcher-invitee');
    const invited = await call(admin, 'POST', '/api/admin/invitations', {
      email: loner,
      role: 'researcher',
    });
    expect(invited.statusCode, invited.body).toBe(201);
    expect((await mailsTo(loner))[0]?.text).toContain('invited to Haven as: Researcher.');
    expect(await listed(loner)).toMatchObject({ roles: ['researcher'], organizationRoles: [] });
  });

  it('tells an existing clinician made org admin of an organization their role in the same words', async () => {
    const existing = await createUser(clinic.db, { roles: ['clinician'] });
    const response = await call(admin, 'POST', `/api/admin/organizations/${orgId}/members`, {
      email: existing.email,
      role: 'org_admin',
    });
    expect(response.statusCode, response.body).toBe(201);
    const [notice] = await mailsTo(existing.email);
    expect(notice?.text).toContain(
      'added you to an organization in Haven as: Organization administrator.',
    );
  });
});
