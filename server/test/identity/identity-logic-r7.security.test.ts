// Business-logic round 7 (identity): an administrator's invitations of one new email sent at once
// (a double click, a retried request) both found no account, both inserted one, and the loser hit
// the unique email index: a 500 INTERNAL_ERROR (on PostgreSQL, where the requests really run side
// by side). The loser now answers 409, like the organization and study invitations already did.
import { expect, it } from 'vitest';
import { describeClinic } from '../clinical-actors.js';

describeClinic('identity logic r7: racing invitations of one email', (clinic) => {
  it('V4/A11 race: concurrent invitations of one new email answer 201 or 409, never 500, and make one account', async () => {
    const admin = await clinic.actor(['admin']);
    const email = 'racing-invitee@example.org';
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        clinic.call(admin, 'POST', '/api/admin/invitations', { email, role: 'clinician' }),
      ),
    );
    const statuses = answers.map((answer) => answer.statusCode);
    expect(
      statuses.filter((status) => status >= 500),
      JSON.stringify(statuses),
    ).toEqual([]);
    expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
    expect(statuses).toContain(201);
    const accounts = await clinic.rows('users', { email_normalized: email });
    expect(accounts).toHaveLength(1);
    expect(accounts[0]).toMatchObject({ status: 'invited', roles: ['clinician'] });
  });
});
