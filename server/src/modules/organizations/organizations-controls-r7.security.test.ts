// Organization controls a seventh mutation hunt found no test for (R1): adding members by email
// (which may mail invitations and gives access to the organization's patients) and removing
// members count in the strict sensitive rate class, not the lenient write one. A change to an
// organization (its country, which decides its patients' address rules) is audited (L3).
import { expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS, createUser } from '../../../test/actors.js';
import { describeClinic } from '../../../test/clinical-actors.js';

describeClinic(
  'organizations rate classes (round 7)',
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_SENSITIVE: '2/60' } },
  (clinic) => {
    const from = (
      authorization: string,
      remoteAddress: string,
      method: 'POST' | 'DELETE',
      url: string,
      payload?: object,
    ) =>
      clinic.app.inject({
        method,
        url,
        remoteAddress,
        headers: { authorization },
        ...(payload === undefined ? {} : { payload }),
      });

    it('R1 — adding members to an organization counts in the strict sensitive class: the third in the window is 429', async () => {
      const orgAdmin = await clinic.actor(['clinician']);
      const organizationId = await clinic.organization({ members: [[orgAdmin, 'org_admin']] });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const colleague = await createUser(clinic.db, { roles: ['clinician'] });
        const res = await from(
          orgAdmin.authorization,
          '203.0.113.72',
          'POST',
          `/api/organizations/${organizationId}/members`,
          { email: colleague.email, role: 'clinician' },
        );
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([201, 201, 429]);
    });

    it('R1 — removing members of an organization counts in the strict sensitive class: the third in the window is 429', async () => {
      const orgAdmin = await clinic.actor(['clinician']);
      const members = await Promise.all(
        [0, 1, 2].map(() => createUser(clinic.db, { roles: ['clinician'] })),
      );
      const organizationId = await clinic.organization({
        members: [[orgAdmin, 'org_admin'], ...members.map((m) => [m, 'clinician'] as const)],
      });
      const statuses: number[] = [];
      for (const member of members) {
        const res = await from(
          orgAdmin.authorization,
          '203.0.113.73',
          'DELETE',
          `/api/organizations/${organizationId}/members/${member.userId}`,
        );
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([204, 204, 429]);
      // The third member is still there: the refusal came before the removal.
      expect(
        await clinic.rows('organization_members', { user_id: members[2]!.userId }),
      ).toHaveLength(1);
    });
  },
);

describeClinic('organizations controls (round 7)', (clinic) => {
  it('L3 — a platform admin’s change of an organization’s country is audited with the acting admin and the old and new code', async () => {
    const admin = await clinic.actor(['admin']);
    const organizationId = await clinic.organization({ name: 'Harbour Clinic R7' });
    const before = await clinic.db
      .selectFrom('organizations')
      .select('country')
      .where('id', '=', organizationId)
      .executeTakeFirstOrThrow();
    const country = before.country === 'DE' ? 'FR' : 'DE';
    const changed = await clinic.call(
      admin,
      'PATCH',
      `/api/admin/organizations/${organizationId}`,
      {
        country,
      },
    );
    expect(changed.statusCode, changed.body).toBe(200);
    const events = await clinic.db
      .selectFrom('audit_events')
      .select(['actor_id', 'target_type', 'outcome', 'details'])
      .where('action', '=', 'org.updated')
      .where('target_id', '=', organizationId)
      .execute();
    expect(events).toEqual([
      {
        actor_id: admin.userId,
        target_type: 'organization',
        outcome: 'success',
        details: { countryBefore: before.country, country },
      },
    ]);
  });
});
