// The signed-in user's account over HTTP against the real app (A7, A9, Z5): password change,
// step-up MFA, recovery codes, turning MFA off, profile and email change.
import { expect, it } from 'vitest';
import { describeEachEngine } from '../../../../test/databases.js';
import { NEW_PASSWORD, PASSWORD, useBrowserNodes } from '../../../../test/browsers.js';
import type { Role } from '../../../platform/db/schema.js';
import { generateTotpSecret } from '../mfa/totp.js';

describeEachEngine('account', (engine) => {
  const site = useBrowserNodes(engine, {
    env: { HAVEN_RATE_AUTH: '1000/60', HAVEN_RATE_SENSITIVE: '1000/60' },
  });
  const { call, signIn, staleMfa, mailsTo } = site;
  const createUser = (email: string, roles: Role[], totpSecret?: string) =>
    site.createUser(email, roles, { totpSecret });
  const totpCode = site.totpCode;

  it('A7: a password change needs the current password and ends the other sessions, not this one', async () => {
    await createUser('change@example.org', ['patient']);
    const here = await signIn('change@example.org');
    const elsewhere = await signIn('change@example.org');
    const change = (currentPassword: string, newPassword: string) =>
      call(here, 'POST', '/api/account/password', { currentPassword, newPassword });

    const wrong = await change('not my password at all', NEW_PASSWORD);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect((await call(elsewhere, 'GET', '/api/auth/me')).statusCode).toBe(200);

    const weak = await change(PASSWORD, 'password123');
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toMatchObject({
      code: 'PASSWORD_REJECTED',
      errors: [{ field: 'newPassword' }],
    });

    const done = await change(PASSWORD, NEW_PASSWORD);
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ revokedSessions: 1 });
    expect((await call(elsewhere, 'GET', '/api/auth/me')).statusCode).toBe(401);
    expect((await call(here, 'GET', '/api/auth/me')).statusCode).toBe(200);
    const withOld = await site.passwordStep('change@example.org');
    expect(withOld.statusCode).toBe(401);
    const audited = await site.database.db
      .selectFrom('audit_events')
      .select(['outcome'])
      .where('action', '=', 'account.password_changed')
      .execute();
    expect(audited.map((row) => row.outcome).sort()).toEqual(['failure', 'success']);
  });

  it('A9/Z5 step-up: regenerating recovery codes answers STEP_UP_REQUIRED without a fresh MFA and succeeds after POST /api/auth/step-up', async () => {
    const secret = generateTotpSecret();
    const userId = await createUser('stepup@example.org', ['clinician'], secret);
    const browser = await signIn('stepup@example.org', { totp: { userId, secret } });
    await staleMfa(browser, userId);

    const refused = await call(browser, 'POST', '/api/account/mfa/recovery-codes', {});
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'STEP_UP_REQUIRED' });

    const badCode = await call(browser, 'POST', '/api/auth/step-up', { code: '000000' });
    expect(badCode.json()).toMatchObject({ code: 'MFA_INVALID' });

    const code = await totpCode(userId, secret);
    const stepUp = await call(browser, 'POST', '/api/auth/step-up', { code });
    expect(stepUp.statusCode).toBe(200);
    expect(stepUp.json()).toMatchObject({ status: 'signed_in', user: { id: userId } });
    // The code is spent: replaying it is refused (A9: no reuse).
    expect((await call(browser, 'POST', '/api/auth/step-up', { code })).statusCode).toBe(401);

    const codes = await call(browser, 'POST', '/api/account/mfa/recovery-codes', {});
    expect(codes.statusCode).toBe(200);
    expect(codes.json<{ recoveryCodes: string[] }>().recoveryCodes).toHaveLength(10);
    expect((await call(browser, 'GET', '/api/account/mfa')).json()).toEqual({
      enrolled: true,
      required: true,
      recoveryCodesRemaining: 10,
    });
    const audited = await site.database.db
      .selectFrom('audit_events')
      .select(['outcome'])
      .where('action', '=', 'auth.step_up')
      .where('actor_id', '=', userId)
      .execute();
    expect(audited.map((row) => row.outcome).sort()).toEqual(['failure', 'failure', 'success']);
  });

  it('A9: MFA cannot be turned off for a clinician; a patient may turn it off after step-up', async () => {
    const secret = generateTotpSecret();
    const clinicianId = await createUser('keep-mfa@example.org', ['clinician'], secret);
    const clinician = await signIn('keep-mfa@example.org', {
      totp: { userId: clinicianId, secret },
    });
    const refused = await call(clinician, 'DELETE', '/api/account/mfa');
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'CONFLICT' });

    const patientId = await createUser('drop-mfa@example.org', ['patient'], secret);
    const patient = await signIn('drop-mfa@example.org', { totp: { userId: patientId, secret } });
    await staleMfa(patient, patientId);
    expect((await call(patient, 'DELETE', '/api/account/mfa')).json()).toMatchObject({
      code: 'STEP_UP_REQUIRED',
    });
    const code = await totpCode(patientId, secret);
    expect((await call(patient, 'POST', '/api/auth/step-up', { code })).statusCode).toBe(200);
    expect((await call(patient, 'DELETE', '/api/account/mfa')).statusCode).toBe(200);
    expect((await call(patient, 'GET', '/api/account/mfa')).json()).toMatchObject({
      enrolled: false,
      required: false,
    });
  });

  it('profile: the display name changes and is audited', async () => {
    const userId = await createUser('profile@example.org', ['patient']);
    const browser = await signIn('profile@example.org');
    const updated = await call(browser, 'PATCH', '/api/account/profile', {
      displayName: '  Ada Lovelace ',
    });
    expect(updated.json()).toMatchObject({ user: { id: userId, displayName: 'Ada Lovelace' } });
    const blank = await call(browser, 'PATCH', '/api/account/profile', { displayName: '   ' });
    expect(blank.statusCode).toBe(400);
    // V1: a single NUL is not a visible character; it must be a 400, never a database error.
    for (const displayName of ['nul\u0000byte', '\u0000', 'a\u001fb', 'lone \ud800 half']) {
      const refused = await call(browser, 'PATCH', '/api/account/profile', { displayName });
      expect(refused.statusCode).toBe(400);
    }
    // A whole astral character (a surrogate pair) is text like any other.
    const emoji = await call(browser, 'PATCH', '/api/account/profile', { displayName: 'Ada 🌻' });
    expect(emoji.json()).toMatchObject({ user: { displayName: 'Ada 🌻' } });
  });

  it('email change: step-up, a single-use link to the new address, the old address is told', async () => {
    const secret = generateTotpSecret();
    const userId = await createUser('old-address@example.org', ['patient'], secret);
    await createUser('taken-address@example.org', ['patient']);
    const browser = await signIn('old-address@example.org', { totp: { userId, secret } });

    const taken = await call(browser, 'POST', '/api/account/email', {
      newEmail: 'taken-address@example.org',
    });
    const asked = await call(browser, 'POST', '/api/account/email', {
      newEmail: 'new-address@example.org',
    });
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toEqual({ status: 'verification_sent' });
    expect(taken.body).toBe(asked.body);
    const [notice] = await mailsTo('taken-address@example.org');
    expect(notice?.text).not.toContain('#token=');

    const [verification] = await mailsTo('new-address@example.org');
    const token = /#token=([A-Za-z0-9_-]+)/.exec(verification?.text ?? '')?.[1];
    expect(token).toBeDefined();
    expect((await mailsTo('old-address@example.org')).length).toBeGreaterThan(0);

    const confirmed = await call(browser, 'POST', '/api/account/email/confirm', { token });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({ user: { email: 'new-address@example.org' } });
    expect((await call(browser, 'POST', '/api/account/email/confirm', { token })).statusCode).toBe(
      404,
    );
    const row = await site.database.db
      .selectFrom('users')
      .select(['email_normalized'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(row.email_normalized).toBe('new-address@example.org');
  });
});
