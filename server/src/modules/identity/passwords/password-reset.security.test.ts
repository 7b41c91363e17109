// Password reset over HTTP against the real app (A10, A7, A9): the same answer for every email,
// single-use and expiring links, every session ends, and the reset never skips MFA.
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { NEW_PASSWORD, PASSWORD, cookiesOf, useBrowserNodes } from '../../../../test/browsers.js';
import { describeEachEngine } from '../../../../test/databases.js';
import { askUntil } from '../../../../test/eventually.js';
import { generateTotpSecret } from '../mfa/totp.js';

describeEachEngine('password reset', (engine) => {
  const site = useBrowserNodes(engine, { env: { HAVEN_RATE_AUTH: '1000/60' } });
  const { createUser, post, mailsTo } = site;
  const signIn = (email: string, password = PASSWORD) => site.passwordStep(email, { password });
  const requestReset = (email: string) => post('/api/auth/password-reset', { email });
  const completeReset = (token: string, newPassword = NEW_PASSWORD) =>
    post('/api/auth/password-reset/complete', { token, newPassword });
  const cookieHeader = (response: LightMyRequestResponse) =>
    response.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  const me = (response: LightMyRequestResponse) =>
    site.node.app.inject({ url: '/api/auth/me', headers: { cookie: cookieHeader(response) } });
  const resetToken = (address: string, count = 1) => site.linkToken(address, { count });

  it('A10/enumeration: known, unknown and disabled emails get the identical 202; only the known one gets mail', async () => {
    await createUser('reset-known@example.org', ['patient']);
    await createUser('reset-disabled@example.org', ['patient'], { status: 'disabled' });
    const answers = await Promise.all([
      requestReset('reset-known@example.org'),
      requestReset('reset-nobody@example.org'),
      requestReset('reset-disabled@example.org'),
    ]);
    for (const answer of answers) {
      expect(answer.statusCode).toBe(202);
      expect(answer.json()).toEqual({ status: 'sent' });
    }
    expect(answers[1].body).toBe(answers[0].body);
    expect(await mailsTo('reset-known@example.org')).toHaveLength(1);
    expect(await mailsTo('reset-nobody@example.org', { expectNone: true })).toHaveLength(0);
    expect(await mailsTo('reset-disabled@example.org', { expectNone: true })).toHaveLength(0);
    // L3 without PII: every request is audited (after the answer), and no audit row holds an
    // email address.
    const { answer: audited } = await askUntil(
      () =>
        site.database.db
          .selectFrom('audit_events')
          .selectAll()
          .where('action', '=', 'auth.password_reset_requested')
          .execute(),
      (rows) => rows.length >= 3,
      5_000,
    );
    expect(audited.map((row) => row.details.reason).sort()).toEqual(
      ['sent', 'status_disabled', 'unknown_account'].sort(),
    );
    expect(JSON.stringify(audited)).not.toContain('@example.org');
  });

  it('A10: the link in the mail works exactly once, and a newer link voids the older one', async () => {
    await createUser('reset-once@example.org', ['patient']);
    await requestReset('reset-once@example.org');
    const older = await resetToken('reset-once@example.org');
    await requestReset('reset-once@example.org');
    const newer = await resetToken('reset-once@example.org', 2);
    expect(newer).not.toBe(older);
    expect((await completeReset(older)).json()).toMatchObject({ code: 'NOT_FOUND' });
    const done = await completeReset(newer);
    expect(done.statusCode).toBe(200);
    expect(done.json()).toEqual({ status: 'password_changed' });
    expect((await completeReset(newer, 'another fine passphrase for later 55')).statusCode).toBe(
      404,
    );
    expect((await signIn('reset-once@example.org', NEW_PASSWORD)).statusCode).toBe(200);
    expect((await signIn('reset-once@example.org', PASSWORD)).statusCode).toBe(401);
  });

  it('A10: an expired link is refused', async () => {
    const userId = await createUser('reset-expired@example.org', ['patient']);
    await requestReset('reset-expired@example.org');
    const token = await resetToken('reset-expired@example.org');
    await site.database.db
      .updateTable('one_time_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', userId)
      .where('purpose', '=', 'password_reset')
      .execute();
    const refused = await completeReset(token);
    expect(refused.statusCode).toBe(404);
    expect((await signIn('reset-expired@example.org')).statusCode).toBe(200);
  });

  it('A2: a password the policy refuses is reported on newPassword and does not burn the link', async () => {
    await createUser('reset-policy@example.org', ['patient']);
    await requestReset('reset-policy@example.org');
    const token = await resetToken('reset-policy@example.org');
    const weak = await completeReset(token, 'password');
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toMatchObject({
      code: 'PASSWORD_REJECTED',
      errors: [{ field: 'newPassword' }],
    });
    expect((await completeReset(token)).statusCode).toBe(200);
  });

  it('A10/A7/A9: a reset ends every session, signs nobody in, and MFA is still required', async () => {
    const secret = generateTotpSecret();
    const userId = await createUser('reset-mfa@example.org', ['clinician'], { totpSecret: secret });
    const completeMfa = async (pending: LightMyRequestResponse) =>
      site.mfaStep(cookiesOf(pending), await site.totpCode(userId, secret));
    const sessions = [
      await completeMfa(await signIn('reset-mfa@example.org')),
      await completeMfa(await signIn('reset-mfa@example.org')),
    ];
    for (const session of sessions) expect((await me(session)).statusCode).toBe(200);

    await requestReset('reset-mfa@example.org');
    const done = await completeReset(await resetToken('reset-mfa@example.org'));
    expect(done.statusCode).toBe(200);
    expect(done.cookies).toEqual([]);
    for (const session of sessions) expect((await me(session)).statusCode).toBe(401);
    const live = await site.database.db
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
    expect(live).toEqual([]);

    const again = await signIn('reset-mfa@example.org', NEW_PASSWORD);
    expect(again.json()).toEqual({ status: 'mfa_required' });
    expect((await completeMfa(again)).statusCode).toBe(200);
  });

  it('A10/A7: a completed reset ends what other modules hold for the person too (apps acting for them)', async () => {
    const userId = await createUser('reset-ends@example.org', ['patient']);
    const ended: string[] = [];
    site.node.app.identity!.services.credentialEndings.add((_trx, endedUserId) => {
      ended.push(endedUserId);
      return Promise.resolve();
    });
    await requestReset('reset-ends@example.org');
    const done = await completeReset(await resetToken('reset-ends@example.org'));
    expect(done.statusCode).toBe(200);
    expect(ended).toEqual([userId]);
  });

  it('A8: a reset posted from another origin is refused', async () => {
    const refused = await post(
      '/api/auth/password-reset',
      { email: 'reset-known@example.org' },
      { origin: 'https://evil.example' },
    );
    expect(refused.statusCode).toBe(403);
  });

  // Before answering, every request is recorded in one INSERT into `jobs` (the same for any email;
  // reset-requests.ts). PGlite has one connection, so there any statement waits for the
  // transaction holding `users` below: the check means something on PostgreSQL, where only the
  // lookup needs that table.
  it.skipIf(engine === 'pglite')(
    'A10/enumeration timing: the 202 leaves before the email is looked up, for a known and an unknown email alike',
    async () => {
      await createUser('reset-timing@example.org', ['patient']);
      // While another transaction holds the users table, looking an email up waits: an answer
      // that depended on the lookup (and on the writes a known account's link needs) would wait too.
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => (release = resolve));
      let locked: () => void = () => undefined;
      const lockHeld = new Promise<void>((resolve) => (locked = resolve));
      const holder = site.database.db.transaction().execute(async (trx) => {
        await sql`LOCK TABLE users IN ACCESS EXCLUSIVE MODE`.execute(trx);
        locked();
        await released;
      });
      await lockHeld;
      try {
        const answered = await Promise.race([
          Promise.all([
            requestReset('reset-timing@example.org'),
            requestReset('reset-timing-nobody@example.org'),
          ]),
          new Promise<'waited'>((resolve) => setTimeout(() => resolve('waited'), 5_000)),
        ]);
        expect(answered, 'the answer waited for the account lookup').not.toBe('waited');
        if (answered === 'waited') return;
        expect(answered.map((a) => a.statusCode)).toEqual([202, 202]);
        expect(answered[1].body).toBe(answered[0].body);
      } finally {
        release();
        await holder;
      }
      // The link still goes out, once the lookup can run.
      expect(await mailsTo('reset-timing@example.org')).toHaveLength(1);
    },
  );
});
