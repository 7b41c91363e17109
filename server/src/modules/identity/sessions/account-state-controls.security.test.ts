// Threats against the account-state checks that stand behind the admin's disable (A6, A9, A10,
// A11), against a one-time token crossing purposes (A10), and against a step-up recorded on a
// session that has ended (Z5). Disabling an account revokes its sessions and pending states
// today, but the checks at refresh and at MFA completion are what hold when an account stops
// being active any other way (a direct status change, a future path that forgets to revoke).
// Each test changes only the account's status, so nothing but the check under test stands in
// the way.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../../test/app-harness.js';
import {
  cookieHeader,
  cookiesOf,
  insertAccount,
  PASSWORD,
  type Jar,
} from '../../../../test/proof/sign-in-kit.js';
import { describeEachEngine, useTestDatabase } from '../../../../test/databases.js';
import { NEW_PASSWORD } from '../../../../test/browsers.js';
import { createActor } from '../../../../test/actors.js';
import { findLiveSession } from '../mfa/repo.js';
import { issueOneTimeToken } from '../onboarding/one-time-tokens-repo.js';

const MASTER_KEY = randomBytes(32).toString('base64');

describeEachEngine('account-state controls', (engine) => {
  const database = useTestDatabase(engine);
  let node: TestApp;
  let origin: string;

  beforeAll(async () => {
    node = await createTestApp(engine, {
      database,
      env: { HAVEN_MASTER_KEY: MASTER_KEY, HAVEN_RATE_AUTH: '1000/60' },
    });
    origin = node.config.publicOrigin;
  });
  afterAll(async () => {
    await node.close();
  });

  const post = (url: string, jar: Jar, payload: object) =>
    node.app.inject({
      method: 'POST',
      url,
      headers: { origin, cookie: cookieHeader(jar) },
      payload,
    });
  const signIn = (email: string) =>
    node.app.inject({
      method: 'POST',
      url: '/api/auth/session',
      headers: { origin },
      payload: { email, password: PASSWORD },
    });
  const setStatus = (id: string, status: 'active' | 'disabled') =>
    database.db.updateTable('users').set({ status }).where('id', '=', id).execute();

  /** A link token of `purpose` for `userId`, as the mail would carry it. */
  const linkToken = async (purpose: 'password_reset' | 'invitation', userId: string) =>
    (
      await issueOneTimeToken(database.db, {
        purpose,
        userId,
        lifetimeMs: 30 * 60_000,
        now: new Date(),
      })
    ).token;
  const passwordHashOf = async (id: string) =>
    (
      await database.db
        .selectFrom('users')
        .select('password_hash')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).password_hash;
  const resetWith = (token: string) =>
    post('/api/auth/password-reset/complete', {}, { token, newPassword: NEW_PASSWORD });

  it('A6: a session whose account is no longer active is not renewed, and the refresh ends it', async () => {
    const account = await insertAccount(database.db, {
      email: 'refresh-disabled@example.org',
      roles: ['patient'],
    });
    const jar = cookiesOf(await signIn(account.email));
    expect(jar['__Host-haven_rt']).toBeDefined();
    // While active, the refresh works: the refusal below is the status's.
    const rotated = await post('/api/auth/refresh', jar, {});
    expect(rotated.statusCode).toBe(200);
    const next = cookiesOf(rotated);

    await setStatus(account.id, 'disabled');
    const refused = await post('/api/auth/refresh', next, {});
    expect(refused.statusCode).toBe(401);
    expect(cookiesOf(refused)['__Host-haven_at'] ?? '').toBe('');
    const sessions = await database.db
      .selectFrom('sessions')
      .select(['revoked_at', 'revoked_reason'])
      .where('user_id', '=', account.id)
      .execute();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.revoked_at).not.toBeNull();
    expect(sessions[0]?.revoked_reason).toBe('user_inactive');
    // Enabling the account again does not bring the ended session back.
    await setStatus(account.id, 'active');
    expect((await post('/api/auth/refresh', next, {})).statusCode).toBe(401);
  });

  it('A9: an MFA-pending sign-in of an account disabled meanwhile is refused even with the right code', async () => {
    const account = await insertAccount(database.db, {
      email: 'mfa-disabled@example.org',
      roles: ['clinician'],
      totpMasterKey: MASTER_KEY,
    });
    const pending = await signIn(account.email);
    expect(pending.json()).toEqual({ status: 'mfa_required' });
    await setStatus(account.id, 'disabled');
    const refused = await post('/api/auth/mfa', cookiesOf(pending), { code: account.rightCode() });
    expect(refused.json()).toMatchObject({ code: 'MFA_INVALID' });
    expect(Object.keys(cookiesOf(refused))).not.toContain('__Host-haven_at');
    const live = await database.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', account.id)
      .execute();
    expect(live).toEqual([]);
  });

  it('A10: a token of another purpose is no reset link: an MFA-pending token cannot set a new password', async () => {
    // Whoever holds the password gets an MFA-pending token in a cookie; were tokens not bound to
    // their purpose it would reset the password (ending the owner's sessions) without the mailbox.
    const account = await insertAccount(database.db, {
      email: 'purpose-bound@example.org',
      roles: ['clinician'],
      totpMasterKey: MASTER_KEY,
    });
    const pending = await signIn(account.email);
    expect(pending.json()).toEqual({ status: 'mfa_required' });
    const pendingToken = cookiesOf(pending)['__Host-haven_mfa'];
    expect(pendingToken).toBeTruthy();
    const before = await passwordHashOf(account.id);
    const reset = await resetWith(pendingToken!);
    expect(reset.statusCode).toBe(404);
    expect(reset.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect(await passwordHashOf(account.id)).toBe(before);
    // The pending token still completes the sign-in it was issued for: only its purpose refused it.
    const done = await post('/api/auth/mfa', cookiesOf(pending), { code: account.rightCode() });
    expect(done.statusCode).toBe(200);
  });

  it('Z5: a step-up is recorded only on a live session of the caller: ended, expired or another user’s is not found', async () => {
    // The access token of a revoked session stays valid on a node until revocation reaches it;
    // the session lookup under the step-up is what refuses to freshen an ended session then.
    const owner = await createActor(node.app, ['patient']);
    const other = await createActor(node.app, ['patient']);
    const now = new Date();
    expect(await findLiveSession(database.db, owner.userId, owner.sessionId, now)).toBeDefined();
    expect(await findLiveSession(database.db, other.userId, owner.sessionId, now)).toBeUndefined();
    await database.db
      .updateTable('sessions')
      .set({ revoked_at: now, revoked_reason: 'logout' })
      .where('id', '=', owner.sessionId)
      .execute();
    expect(await findLiveSession(database.db, owner.userId, owner.sessionId, now)).toBeUndefined();
    await database.db
      .updateTable('sessions')
      .set({ absolute_expires_at: new Date(now.getTime() - 1_000) })
      .where('id', '=', other.sessionId)
      .execute();
    expect(await findLiveSession(database.db, other.userId, other.sessionId, now)).toBeUndefined();
  });

  it('A10: a reset link issued while the account was active sets no password once it is disabled', async () => {
    const account = await insertAccount(database.db, {
      email: 'reset-then-disabled@example.org',
      roles: ['patient'],
    });
    const token = await linkToken('password_reset', account.id);
    const before = await passwordHashOf(account.id);
    await setStatus(account.id, 'disabled');
    const refused = await resetWith(token);
    expect(refused.statusCode).toBe(404);
    expect(refused.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect(await passwordHashOf(account.id)).toBe(before);
    // The same link works for the active account: the refusal above is the status's.
    await setStatus(account.id, 'active');
    const done = await resetWith(token);
    expect(done.statusCode).toBeLessThan(300);
    expect(await passwordHashOf(account.id)).not.toBe(before);
  });

  it('A11: an invitation link shows nothing once its account is no longer invited (404 like an unknown link)', async () => {
    const invitee = await insertAccount(database.db, {
      email: 'invited-then-active@example.org',
      roles: ['clinician'],
      status: 'invited',
    });
    const token = await linkToken('invitation', invitee.id);
    const inspect = () => post('/api/onboarding/invitations/inspect', {}, { token });
    const live = await inspect();
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({ email: invitee.email });
    await setStatus(invitee.id, 'active');
    const stale = await inspect();
    const unknown = await post('/api/onboarding/invitations/inspect', {}, { token: `${token}x` });
    expect(stale.statusCode).toBe(404);
    expect(stale.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect(stale.body).not.toContain(invitee.email);
    expect({ ...stale.json(), requestId: undefined }).toEqual({
      ...unknown.json(),
      requestId: undefined,
    });
  });
});
