// What a sign-in leaves behind, over HTTP against the real app:
// - A3/L3: every failed sign-in (wrong password, unknown email, disabled account, an account in
//   backoff, a wrong MFA code) is one audit event of that request with its outcome and reason,
//   and no event carries the password;
// - A1: a correct sign-in rehashes a password stored with weaker argon2id parameters than the
//   configured ones, and a wrong one never does;
// - A9: one MFA-pending state takes a capped number of codes, at sign-in and at the enrolment a
//   sign-in demands; after that even the right code is refused with that state, although the
//   account itself is no longer backing off.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../app-harness.js';
import { GENEROUS_RATE_LIMITS } from '../actors.js';
import { describeEachEngine } from '../databases.js';
import { Secret, TOTP } from 'otpauth';
import { verifyPassword } from '../../src/modules/identity/index.js';
import { PASSWORD, cookieHeader, cookiesOf, insertAccount, type Jar } from './sign-in-kit.js';

/** One above the minimum, so every hash made with MINIMUM_HASHING is below the configuration. */
const CONFIGURED_TIME_COST = 3;
/** Wrong codes one MFA-pending state takes (MFA_MAX_ATTEMPTS in sign-in/service.ts). */
const CODES_PER_PENDING_STATE = 5;

describeEachEngine('sign-in outcomes', (engine) => {
  let t: TestApp;
  let origin: string;
  let masterKey: string;

  beforeAll(async () => {
    t = await createTestApp(engine, {
      env: { ...GENEROUS_RATE_LIMITS, HAVEN_ARGON2_TIME_COST: String(CONFIGURED_TIME_COST) },
    });
    origin = t.config.publicOrigin;
    masterKey = t.config.masterKey.toString('base64');
  });
  afterAll(() => t.close());
  afterEach(() => {
    vi.useRealTimers();
  });

  const email = (tag: string) => `${tag}-${randomUUID()}@example.org`;
  const signIn = (address: string, password: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/session',
      headers: { origin },
      payload: { email: address, password },
    });
  /** A POST carrying the MFA-pending cookie of a sign-in, as the browser sends it. */
  const withPending = (url: string, pending: Jar, payload: object) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { origin, cookie: cookieHeader(pending) },
      payload,
    });
  const mfaStep = (pending: Jar, code: string) => withPending('/api/auth/mfa', pending, { code });
  /** Every audit event written while answering `response`. */
  const eventsOf = (response: LightMyRequestResponse) =>
    t.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('request_id', '=', String(response.headers['x-request-id']))
      .execute();
  const storedHash = async (userId: string) =>
    (
      await t.database.db
        .selectFrom('users')
        .select('password_hash')
        .where('id', '=', userId)
        .executeTakeFirstOrThrow()
    ).password_hash ?? '';

  /** argon2id cost parameters of a PHC string (the library writes them in any order). */
  const costOf = (hash: string) =>
    Object.fromEntries(
      (/^\$argon2id\$v=19\$([^$]+)\$/.exec(hash)?.[1] ?? '')
        .split(',')
        .map((kv) => [kv.slice(0, 1), Number(kv.slice(2))]),
    );

  /** The one event of a refused sign-in: its outcome and reason, and never the password. */
  async function expectOneLoginEvent(
    response: LightMyRequestResponse,
    password: string,
    expected: { outcome: 'failure' | 'denied'; reason: string; targetId: string | null },
  ) {
    const events = await eventsOf(response);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'auth.login',
      actor_type: 'anonymous',
      outcome: expected.outcome,
      target_id: expected.targetId,
      client_address: '127.0.0.1',
      details: expect.objectContaining({ reason: expected.reason }),
    });
    expect(JSON.stringify(events)).not.toContain(password);
  }

  it('A3/L3 silent guessing: a wrong password, an unknown email and a disabled account each leave one auth.login failure with its reason and without the password', async () => {
    const active = await insertAccount(t.database.db, {
      email: email('active'),
      roles: ['patient'],
    });
    const disabled = await insertAccount(t.database.db, {
      email: email('disabled'),
      roles: ['patient'],
      status: 'disabled',
    });
    const guess = `wrong-${randomUUID()}`;
    const wrongPassword = await signIn(active.email, guess);
    expect(wrongPassword.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expectOneLoginEvent(wrongPassword, guess, {
      outcome: 'failure',
      reason: 'wrong_password',
      targetId: active.id,
    });

    const unknown = await signIn(email('nobody'), guess);
    expect(unknown.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expectOneLoginEvent(unknown, guess, {
      outcome: 'failure',
      reason: 'unknown_account',
      targetId: null,
    });

    // The right password of a disabled account: refused alike, and audited as such.
    const refused = await signIn(disabled.email, PASSWORD);
    expect(refused.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expectOneLoginEvent(refused, PASSWORD, {
      outcome: 'failure',
      reason: 'status_disabled',
      targetId: disabled.id,
    });
  });

  it('A3/L3 locked account: a sign-in refused during the backoff, even with the right password, leaves an auth.login denied event', async () => {
    const account = await insertAccount(t.database.db, {
      email: email('locked'),
      roles: ['patient'],
    });
    for (let failure = 0; failure < 5; failure++) {
      expect((await signIn(account.email, `wrong-${failure}-${randomUUID()}`)).statusCode).toBe(
        401,
      );
    }
    const locked = await signIn(account.email, PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ code: 'LOGIN_BACKOFF' });
    const events = await eventsOf(locked);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'auth.login',
      outcome: 'denied',
      details: expect.objectContaining({ reason: 'backoff' }),
    });
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
  });

  it('A3/L3 MFA guessing: a wrong MFA code leaves an auth.mfa failure event of the account, without the code', async () => {
    const account = await insertAccount(t.database.db, {
      email: email('clinician'),
      roles: ['clinician'],
      totpMasterKey: masterKey,
    });
    const password = await signIn(account.email, PASSWORD);
    expect(password.json()).toEqual({ status: 'mfa_required' });
    const code = account.wrongCode();
    const wrong = await mfaStep(cookiesOf(password), code);
    expect(wrong.json()).toMatchObject({ code: 'MFA_INVALID' });
    const events = await eventsOf(wrong);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      action: 'auth.mfa',
      actor_type: 'user',
      actor_id: account.id,
      outcome: 'failure',
    });
    expect(JSON.stringify(events[0]!.details)).not.toContain(code);
  });

  it('A1 stale hashes: a correct sign-in rehashes a password stored below the configured argon2id cost; a wrong password leaves the hash alone', async () => {
    const account = await insertAccount(t.database.db, {
      email: email('rehash'),
      roles: ['patient'],
    });
    const before = await storedHash(account.id);
    expect(costOf(before)).toEqual({ m: 19456, t: 2, p: 1 });

    const wrong = await signIn(account.email, `wrong-${randomUUID()}`);
    expect(wrong.statusCode).toBe(401);
    expect(await storedHash(account.id)).toBe(before);

    const right = await signIn(account.email, PASSWORD);
    expect(right.json()).toMatchObject({ status: 'signed_in' });
    const after = await storedHash(account.id);
    expect(costOf(after)).toEqual({ m: 19456, t: CONFIGURED_TIME_COST, p: 1 });
    expect(await verifyPassword(after, PASSWORD)).toBe(true);
    // The new hash is used from now on: the next sign-in still works and does not rehash again.
    expect((await signIn(account.email, PASSWORD)).statusCode).toBe(200);
    expect(await storedHash(account.id)).toBe(after);
  });

  it('A9/MFA guessing: one MFA-pending state takes five codes; then even the right code is refused with it while the account is not backing off', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const account = await insertAccount(t.database.db, {
      email: email('pending-cap'),
      roles: ['clinician'],
      totpMasterKey: masterKey,
    });
    const password = await signIn(account.email, PASSWORD);
    const pending = cookiesOf(password);
    for (let guess = 0; guess < CODES_PER_PENDING_STATE; guess++) {
      expect((await mfaStep(pending, account.wrongCode())).json()).toMatchObject({
        code: 'MFA_INVALID',
      });
    }
    // Past the account's backoff (1 s after the fifth wrong code): the account may try again,
    // so what refuses the right code below is the spent pending state alone.
    vi.setSystemTime(Date.now() + 2_000);
    const spent = await mfaStep(pending, account.rightCode());
    expect(spent.statusCode).toBe(401);
    expect(spent.json()).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });
    expect(Object.keys(cookiesOf(spent))).not.toContain('__Host-haven_at');

    const fresh = cookiesOf(await signIn(account.email, PASSWORD));
    const signedIn = await mfaStep(fresh, account.rightCode());
    expect(signedIn.statusCode).toBe(200);
    expect(Object.keys(cookiesOf(signedIn))).toContain('__Host-haven_at');
  });

  it('A9/enrolment guessing: the enrolment a sign-in demands takes five confirmation codes per pending state; then even the right code is refused with it', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const account = await insertAccount(t.database.db, {
      email: email('enrol-cap'),
      roles: ['clinician'],
    });
    /** Signs in (MFA not yet enrolled) and starts enrolment: the pending cookie and the secret. */
    const startEnrolment = async () => {
      const password = await signIn(account.email, PASSWORD);
      expect(password.json()).toMatchObject({ status: 'mfa_enrollment_required' });
      const pending = cookiesOf(password);
      const started = await withPending('/api/auth/mfa/enrollment', pending, {});
      expect(started.statusCode, started.body).toBe(200);
      const totp = new TOTP({
        secret: Secret.fromBase32(started.json<{ secret: string }>().secret),
      });
      return { pending, totp };
    };
    const confirm = (pending: Jar, code: string) =>
      withPending('/api/auth/mfa/enrollment/confirm', pending, { code });
    const first = await startEnrolment();
    // A code none of the steps the server accepts (now and one either side) would give.
    const accepted = new Set(
      [-30_000, 0, 30_000].map((d) => first.totp.generate({ timestamp: Date.now() + d })),
    );
    let wrong = '000000';
    for (let n = 0; accepted.has(wrong); n++) wrong = String(n).padStart(6, '0');
    for (let guess = 0; guess < CODES_PER_PENDING_STATE; guess++) {
      expect((await confirm(first.pending, wrong)).json()).toMatchObject({ code: 'MFA_INVALID' });
    }
    vi.setSystemTime(Date.now() + 2_000);
    const spent = await confirm(first.pending, first.totp.generate());
    expect(spent.statusCode).toBe(401);
    expect(spent.json()).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });
    expect(Object.keys(cookiesOf(spent))).not.toContain('__Host-haven_at');

    const second = await startEnrolment();
    const enrolled = await confirm(second.pending, second.totp.generate());
    expect(enrolled.statusCode, enrolled.body).toBe(200);
    expect(Object.keys(cookiesOf(enrolled))).toContain('__Host-haven_at');
  });
});
