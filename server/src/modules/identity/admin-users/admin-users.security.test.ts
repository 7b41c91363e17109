// User administration over HTTP against the real app, on two nodes (Z3, Z5, A7, L3): deny by
// default, step-up for role changes, disabling that reaches every node, audited actions.
import { beforeAll, expect, it } from 'vitest';
import { useBrowserNodes, type Browser } from '../../../../test/browsers.js';
import { describeEachEngine } from '../../../../test/databases.js';
import type { Role } from '../../../platform/db/schema.js';
import { listDevMailbox } from '../../../platform/mail.js';
import { generateTotpSecret } from '../mfa/totp.js';

const SECRET = generateTotpSecret();

interface ListedUser {
  id: string;
  email: string;
  status: string;
}

describeEachEngine('admin users', (engine) => {
  const site = useBrowserNodes(engine, {
    env: { HAVEN_RATE_AUTH: '1000/60', HAVEN_RATE_SENSITIVE: '1000/60' },
    nodes: [{}, {}],
  });
  const { call, staleMfa } = site;
  let adminId: string;
  let admin: Browser;

  /** Every user here has the one authenticator, so every sign-in passes MFA. */
  const createUser = (email: string, roles: Role[], displayName?: string) =>
    site.createUser(email, roles, { displayName, totpSecret: SECRET });
  const signIn = (email: string, userId: string) =>
    site.signIn(email, { totp: { userId, secret: SECRET } });
  const totpCode = (userId: string) => site.totpCode(userId, SECRET);
  const passwordStep = (email: string) => site.passwordStep(email);

  beforeAll(async () => {
    adminId = await createUser('admin@example.org', ['admin'], 'Ada Admin');
    admin = await signIn('admin@example.org', adminId);
  });

  const someId = '00000000-0000-4000-8000-000000000000';
  const ADMIN_ROUTES: Array<['GET' | 'POST' | 'PUT' | 'DELETE', string, object?]> = [
    ['GET', '/api/admin/users'],
    ['POST', '/api/admin/invitations', { email: 'x@example.org', role: 'patient' }],
    ['POST', `/api/admin/users/${someId}/invitation`, {}],
    ['PUT', `/api/admin/users/${someId}/roles`, { roles: ['patient'] }],
    ['POST', `/api/admin/users/${someId}/disable`, {}],
    ['POST', `/api/admin/users/${someId}/enable`, {}],
    ['GET', `/api/admin/users/${someId}/sessions`],
    ['DELETE', `/api/admin/users/${someId}/sessions`],
  ];

  it('Z3: a non-admin (even with a fresh MFA) gets 403 on every admin route', async () => {
    const clinicianId = await createUser('not-admin@example.org', ['clinician']);
    const clinician = await signIn('not-admin@example.org', clinicianId);
    for (const [method, url, payload] of ADMIN_ROUTES) {
      const response = await call(clinician, method, url, payload);
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json(), `${method} ${url}`).toMatchObject({ code: 'FORBIDDEN' });
    }
    const anonymous = await site.node.app.inject({ url: '/api/admin/users' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('Z3/A7: disabling a user ends their sessions on every node and blocks sign-in; enabling restores it', async () => {
    const userId = await createUser('to-disable@example.org', ['researcher']);
    const victim = await signIn('to-disable@example.org', userId);
    expect((await call(victim, 'GET', '/api/auth/me', undefined, site.nodes[1])).statusCode).toBe(
      200,
    );

    const disabled = await call(admin, 'POST', `/api/admin/users/${userId}/disable`, {});
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ user: { id: userId, status: 'disabled' } });
    expect((await call(victim, 'GET', '/api/auth/me')).statusCode).toBe(401);
    const deadline = Date.now() + 1000;
    let onB = (await call(victim, 'GET', '/api/auth/me', undefined, site.nodes[1])).statusCode;
    while (onB === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      onB = (await call(victim, 'GET', '/api/auth/me', undefined, site.nodes[1])).statusCode;
    }
    expect(onB).toBe(401);
    expect((await passwordStep('to-disable@example.org')).json()).toMatchObject({
      code: 'INVALID_CREDENTIALS',
    });

    const self = await call(admin, 'POST', `/api/admin/users/${adminId}/disable`, {});
    expect(self.statusCode).toBe(409);

    const enabled = await call(admin, 'POST', `/api/admin/users/${userId}/enable`, {});
    expect(enabled.json()).toMatchObject({ user: { status: 'active' } });
    expect((await passwordStep('to-disable@example.org')).json()).toEqual({
      status: 'mfa_required',
    });
    const audited = await site.database.db
      .selectFrom('audit_events')
      .select(['action', 'actor_id', 'target_id'])
      .where('target_id', '=', userId)
      .where('action', 'like', 'admin.%')
      .orderBy('seq')
      .execute();
    expect(audited).toEqual([
      { action: 'admin.user_disabled', actor_id: adminId, target_id: userId },
      { action: 'admin.user_enabled', actor_id: adminId, target_id: userId },
    ]);
  });

  it('Z5: a role change needs step-up, ends the user sessions, and the new scopes apply at the next sign-in', async () => {
    const userId = await createUser('promoted@example.org', ['clinician']);
    const user = await signIn('promoted@example.org', userId);
    const before = (await call(user, 'GET', '/api/auth/me')).json<{ scopes: string[] }>();
    expect(before.scopes).not.toContain('studies:read');

    await staleMfa(admin, adminId);
    const url = `/api/admin/users/${userId}/roles`;
    const refused = await call(admin, 'PUT', url, { roles: ['clinician', 'researcher'] });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'STEP_UP_REQUIRED' });
    const stepUp = await call(admin, 'POST', '/api/auth/step-up', {
      code: await totpCode(adminId),
    });
    expect(stepUp.statusCode).toBe(200);

    const changed = await call(admin, 'PUT', url, { roles: ['clinician', 'researcher'] });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ user: { roles: ['clinician', 'researcher'] } });
    expect((await call(user, 'GET', '/api/auth/me')).statusCode).toBe(401);
    const again = await signIn('promoted@example.org', userId);
    const after = (await call(again, 'GET', '/api/auth/me')).json<{ scopes: string[] }>();
    expect(after.scopes).toContain('studies:read');

    expect((await call(admin, 'PUT', url, { roles: ['wizard'] })).statusCode).toBe(400);
    const demoteSelf = await call(admin, 'PUT', `/api/admin/users/${adminId}/roles`, {
      roles: ['clinician'],
    });
    expect(demoteSelf.statusCode).toBe(409);
  });

  it('A9: a role that requires MFA is refused for an active account without it (it could no longer sign in); an invitee may get it', async () => {
    const patientId = await site.createUser('no-mfa.patient@example.org', ['patient']);
    const inviteeId = await site.createUser('no-mfa.invitee@example.org', ['patient'], {
      status: 'invited',
    });
    await staleMfa(admin, adminId);
    const stepUp = await call(admin, 'POST', '/api/auth/step-up', {
      code: await totpCode(adminId),
    });
    expect(stepUp.statusCode).toBe(200);

    for (const roles of [['clinician'], ['patient', 'researcher'], ['admin']]) {
      const refused = await call(admin, 'PUT', `/api/admin/users/${patientId}/roles`, { roles });
      expect(refused.statusCode, roles.join(' ')).toBe(409);
      expect(refused.json()).toMatchObject({
        code: 'CONFLICT',
        detail: 'This role requires MFA; the user must set it up first.',
      });
    }
    const unchanged = await site.database.db
      .selectFrom('users')
      .select('roles')
      .where('id', '=', patientId)
      .executeTakeFirstOrThrow();
    expect(unchanged.roles).toEqual(['patient']);

    // A role without MFA still changes, and an invitee enrols when accepting the invitation.
    const stillPatient = await call(admin, 'PUT', `/api/admin/users/${patientId}/roles`, {
      roles: ['patient'],
    });
    expect(stillPatient.statusCode).toBe(200);
    const invitee = await call(admin, 'PUT', `/api/admin/users/${inviteeId}/roles`, {
      roles: ['clinician'],
    });
    expect(invitee.statusCode).toBe(200);
    expect(invitee.json()).toMatchObject({ user: { roles: ['clinician'] } });
  });

  it('Z3: search by email or name prefix with keyset pagination and a status filter', async () => {
    for (let i = 0; i < 5; i++) {
      await createUser(`page-${i}@example.org`, ['patient'], `Pager Person ${i}`);
    }
    const seen: ListedUser[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/admin/users?query=page-&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await call(admin, 'GET', query)).json<{
        users: ListedUser[];
        nextCursor: string | null;
      }>();
      expect(page.users.length).toBeLessThanOrEqual(2);
      seen.push(...page.users);
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen.map((u) => u.email).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => `page-${i}@example.org`),
    );
    const byName = (await call(admin, 'GET', '/api/admin/users?query=pers')).json<{
      users: ListedUser[];
    }>();
    expect(byName.users).toHaveLength(5);
    // A LIKE wildcard typed into the search is a literal character.
    const wildcard = (await call(admin, 'GET', '/api/admin/users?query=%25')).json<{
      users: ListedUser[];
    }>();
    expect(wildcard.users).toEqual([]);
    const disabled = (await call(admin, 'GET', '/api/admin/users?status=disabled')).json<{
      users: ListedUser[];
    }>();
    expect(disabled.users.every((u) => u.status === 'disabled')).toBe(true);
    expect((await call(admin, 'GET', '/api/admin/users?limit=101')).statusCode).toBe(400);
  });

  it("A7/L3: an admin lists and ends a user's sessions", async () => {
    const userId = await createUser('sessions-of@example.org', ['clinician']);
    const user = await signIn('sessions-of@example.org', userId);
    const url = `/api/admin/users/${userId}/sessions`;
    const listed = (await call(admin, 'GET', url)).json<{ sessions: unknown[] }>();
    expect(listed.sessions).toHaveLength(1);
    expect((await call(admin, 'DELETE', url)).json()).toEqual({ revoked: 1 });
    expect((await call(user, 'GET', '/api/auth/me')).statusCode).toBe(401);
    expect((await call(admin, 'GET', `/api/admin/users/${someId}/sessions`)).statusCode).toBe(404);
  });

  it('A11: invite, resend (the old link stops working), and 409 for an existing account', async () => {
    const invited = await call(admin, 'POST', '/api/admin/invitations', {
      email: 'newcomer@example.org',
      role: 'patient',
    });
    expect(invited.statusCode).toBe(201);
    const { userId } = invited.json<{ userId: string; expiresAt: string }>();
    const tokens = () =>
      site.database.db
        .selectFrom('one_time_tokens')
        .select(['id', 'used_at'])
        .where('user_id', '=', userId)
        .where('purpose', '=', 'invitation')
        .orderBy('created_at')
        .execute();
    const resent = await call(admin, 'POST', `/api/admin/users/${userId}/invitation`, {});
    expect(resent.statusCode).toBe(200);
    const [first, second] = await tokens();
    expect(first?.used_at).not.toBeNull();
    expect(second?.used_at).toBeNull();
    const mails = (await listDevMailbox(site.node.config.dataDir)).filter(
      (m) => m.to === 'newcomer@example.org',
    );
    expect(mails).toHaveLength(2);
    const existing = await call(admin, 'POST', '/api/admin/invitations', {
      email: 'admin@example.org',
      role: 'patient',
    });
    expect(existing.statusCode).toBe(409);
  });
});
