// Z3/Z4: an organization membership needs the account role it was granted for (clinician or org
// admin memberships the clinician role, researcher memberships the researcher role). An admin's
// role change used to leave the membership behind: an org admin made a patient kept running the
// organization's storage, a researcher made a clinician reached its patients (probe authz). The
// admin API now refuses such a change, naming the organizations, until the membership is gone;
// the access checks refuse a stale membership on their own as well
// (clinical/researcher-member-phi, files/stale-membership-buckets).
import { beforeAll, expect, it } from 'vitest';
import type { Actor } from '../actors.js';
import { describeClinic } from '../clinical-actors.js';

describeClinic('account roles and organization memberships (Z3/Z4)', (clinic) => {
  let admin: Actor;
  let clinician: Actor;
  let researcher: Actor;
  let organizationId: string;

  const rolesOf = async (userId: string) =>
    (await clinic.rows('users', { id: userId }))[0]?.roles as string[] | undefined;
  const changeRoles = (userId: string, roles: string[]) =>
    clinic.call(admin, 'PUT', `/api/admin/users/${userId}/roles`, { roles });

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
    clinician = await clinic.actor(['clinician']);
    researcher = await clinic.actor(['researcher']);
    organizationId = await clinic.organization({
      name: 'St Brigid Clinic',
      members: [
        [clinician, 'org_admin'],
        [researcher, 'researcher'],
      ],
    });
    await clinic.organization({ name: 'Harbour Health', members: [[clinician, 'clinician']] });
  });

  it("Z4/stale-membership: an admin cannot take the clinician role from an organization's staff while they are members; the answer names the organizations", async () => {
    const refused = await changeRoles(clinician.userId, ['patient']);
    expect(refused.statusCode, refused.body).toBe(409);
    const problem = refused.json<{ code: string; detail: string }>();
    expect(problem.code).toBe('CONFLICT');
    expect(problem.detail).toContain('Harbour Health (clinician)');
    expect(problem.detail).toContain('St Brigid Clinic (organization administrator)');
    expect(problem.detail).toContain('clinician role');
    expect(await rolesOf(clinician.userId)).toEqual(['clinician']);
  });

  it('Z4/stale-membership: nor the researcher role from a researcher member, even for clinical roles', async () => {
    const refused = await changeRoles(researcher.userId, ['clinician']);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json<{ detail: string }>().detail).toContain('St Brigid Clinic (researcher)');
    expect(await rolesOf(researcher.userId)).toEqual(['researcher']);
  });

  it('a change that keeps the roles the memberships need is made; once the membership is gone, so is the refused one', async () => {
    const widened = await changeRoles(researcher.userId, ['researcher', 'clinician']);
    expect(widened.statusCode, widened.body).toBe(200);
    await clinic.db
      .deleteFrom('organization_members')
      .where('organization_id', '=', organizationId)
      .where('user_id', '=', researcher.userId)
      .execute();
    const narrowed = await changeRoles(researcher.userId, ['clinician']);
    expect(narrowed.statusCode, narrowed.body).toBe(200);
    expect(await rolesOf(researcher.userId)).toEqual(['clinician']);
  });
});
