// Identity controls that had no test failing when they were removed (round 3 of the mutation
// survivors): the password-change backoff (A3), access-token claims (A4), what disabling and
// revocation leave usable (A7), the origin checks of cookie writes and refresh (A8), the
// pending MFA and enrolment states (A9), what a password or email change does to reset links
// (A10), re-invitations, sign-up activation and link lifetimes (A11), and whose email-change link
// is whose (Z4). Each test shows the control's effect through the routes (or the one function
// that holds it), with a check that the same steps succeed where the control does not apply.
import { SignJWT, generateKeyPair, type JWTPayload } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { afterEach, expect, it, vi } from 'vitest';
import { describeEachEngine } from '../../../test/databases.js';
import {
  NEW_PASSWORD,
  PASSWORD,
  cookieHeader,
  cookiesOf,
  useBrowserNodes,
  type Browser,
  type Jar,
} from '../../../test/browsers.js';
import type { Role } from '../../platform/db/schema.js';
import { createAccessTokenVerifier } from '../../platform/auth/jwt-authenticator.js';
import { createLogger } from '../../platform/logging.js';
import { ACCESS_TOKEN_LIFETIME_SECONDS } from './keys/access-tokens.js';
import { generateTotpSecret } from './mfa/totp.js';
import { issueOneTimeToken } from './onboarding/one-time-tokens-repo.js';
import { DEFAULT_LIFETIMES, createSession } from './sessions/repo.js';
import { createRevocationCache } from './sessions/revocation.js';
import { recordLoginFailure } from './sign-in/login-throttle.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const SECRET = generateTotpSecret();

/** Runs `steps` with the clock (Date only; timers stay real) moved `offsetMs` ahead. */
async function later<T>(offsetMs: number, steps: () => Promise<T>): Promise<T> {
  const at = Date.now() + offsetMs;
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at);
  try {
    return await steps();
  } finally {
    vi.useRealTimers();
  }
}

describeEachEngine('identity controls (round 3)', (engine) => {
  const site = useBrowserNodes(engine, {
    env: {
      HAVEN_RATE_AUTH: '1000/60',
      HAVEN_RATE_SENSITIVE: '1000/60',
      HAVEN_SELF_SIGNUP: 'true',
    },
  });
  const { call, post } = site;
  const db = () => site.database.db;

  afterEach(() => {
    vi.useRealTimers();
  });

  const createUser = (email: string, roles: Role[], totp = false) =>
    site.createUser(email, roles, totp ? { totpSecret: SECRET } : {});
  const signInWithMfa = (email: string, userId: string) =>
    site.signIn(email, { totp: { userId, secret: SECRET } });
  /** A freshly signed-in admin (MFA passed now). */
  async function admin(email: string): Promise<Browser> {
    const id = await createUser(email, ['admin'], true);
    return signInWithMfa(email, id);
  }
  const passwordHashOf = async (id: string) =>
    (
      await db()
        .selectFrom('users')
        .select('password_hash')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).password_hash;
  const userRow = (id: string) =>
    db()
      .selectFrom('users')
      .select(['status', 'email_normalized', 'totp_enrolled_at'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  const setStatus = (id: string, status: 'active' | 'disabled') =>
    db().updateTable('users').set({ status }).where('id', '=', id).execute();
  const link = async (
    purpose: 'password_reset' | 'invitation' | 'email_verification',
    userId: string,
    data: Record<string, unknown> = {},
  ) =>
    (
      await issueOneTimeToken(db(), {
        purpose,
        userId,
        data,
        lifetimeMs: 30 * MINUTE,
        now: new Date(),
      })
    ).token;
  const resetWith = (token: string, newPassword = NEW_PASSWORD) =>
    post('/api/auth/password-reset/complete', { token, newPassword });
  const withCookies = (jar: Jar, url: string, payload: object = {}) =>
    post(url, payload, { cookie: cookieHeader(jar) });
  /** An invited clinician who accepted the link: password set, MFA enrolment pending. */
  async function acceptedInvitee(email: string) {
    const id = await site.createUser(email, ['clinician'], { status: 'invited' });
    await db().updateTable('users').set({ password_hash: null }).where('id', '=', id).execute();
    const token = await link('invitation', id, { role: 'clinician', named: false });
    const accepted = await post('/api/onboarding/invitations/accept', {
      token,
      displayName: 'Invited Clinician',
      password: PASSWORD,
    });
    expect(accepted.statusCode).toBe(200);
    const pending = cookiesOf(accepted);
    expect(pending['__Host-haven_mfa']).toBeTruthy();
    return { id, pending };
  }

  // ── A3 ───────────────────────────────────────────────────────────────────────────────────

  it('A3/password change: an account backing off refuses even the right current password', async () => {
    const email = 'change-backoff@example.org';
    const id = await createUser(email, ['patient']);
    const browser = await site.signIn(email);
    // Ten failures (from sign-in guesses): the account waits 32 s.
    for (let i = 0; i < 10; i++) await recordLoginFailure(db(), email, new Date());
    const before = await passwordHashOf(id);
    const refused = await call(browser, 'POST', '/api/account/password', {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'LOGIN_BACKOFF' });
    expect(await passwordHashOf(id)).toBe(before);
  });

  it('A3/password change: a wrong current password counts as a failed sign-in toward the backoff', async () => {
    const email = 'change-counted@example.org';
    await createUser(email, ['patient']);
    const browser = await site.signIn(email);
    // Nine failures an hour ago: their backoff is over, the count is not.
    for (let i = 0; i < 9; i++) {
      await recordLoginFailure(db(), email, new Date(Date.now() - HOUR));
    }
    expect((await site.passwordStep(email, { password: 'not the password 1' })).statusCode).toBe(
      401,
    );
    // That made ten: the account now waits, and the right password gets the wait.
    const waiting = await site.passwordStep(email);
    expect(waiting.statusCode).toBe(429);
    // Start over from nine: the tenth failure is a wrong current password on the change route.
    await db().deleteFrom('login_throttle').execute();
    for (let i = 0; i < 9; i++) {
      await recordLoginFailure(db(), email, new Date(Date.now() - HOUR));
    }
    const wrong = await call(browser, 'POST', '/api/account/password', {
      currentPassword: 'not the password at all',
      newPassword: NEW_PASSWORD,
    });
    expect(wrong.json()).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    const refused = await site.passwordStep(email);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'LOGIN_BACKOFF' });
  });

  it('A3/backoff key: failures under one spelling of the email hold every case variant of it', async () => {
    const email = 'Case.Variant@Example.org';
    await createUser(email, ['patient']);
    for (let i = 0; i < 10; i++) await recordLoginFailure(db(), email, new Date());
    for (const variant of ['case.variant@example.org', 'CASE.VARIANT@EXAMPLE.ORG', email]) {
      const refused = await site.passwordStep(variant);
      expect(refused.statusCode, variant).toBe(429);
      expect(refused.json(), variant).toMatchObject({ code: 'LOGIN_BACKOFF' });
    }
  });

  // ── A4 ───────────────────────────────────────────────────────────────────────────────────

  it('A4/claims: a validly signed access token without exp, jti, sub or scope is refused', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const issuer = 'https://haven.test';
    const audience = 'haven-api';
    const verify = createAccessTokenVerifier({
      issuer,
      audience,
      keyForKid: (kid) => Promise.resolve(kid === 'k1' ? publicKey : undefined),
      maxLifetimeSeconds: ACCESS_TOKEN_LIFETIME_SECONDS,
    });
    const sign = (omit: 'exp' | 'jti' | 'sub' | 'scope' | 'none') => {
      const payload: JWTPayload = { sid: 'session-1', ...(omit !== 'scope' && { scope: 'a' }) };
      let jwt = new SignJWT(payload)
        .setProtectedHeader({ alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt();
      if (omit !== 'exp') jwt = jwt.setExpirationTime('5m');
      if (omit !== 'jti') jwt = jwt.setJti('jti-1');
      if (omit !== 'sub') jwt = jwt.setSubject('user-1');
      return jwt.sign(privateKey);
    };
    // Complete, the token passes: the refusals below are the missing claim's.
    expect((await verify(await sign('none'), 'bearer')).subject).toBe('user-1');
    for (const omit of ['exp', 'jti', 'sub', 'scope'] as const) {
      await expect(verify(await sign(omit), 'bearer'), omit).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
    }
  });

  // ── A7 ───────────────────────────────────────────────────────────────────────────────────

  it('A7/disable: disabling an account voids its links; enabling it again does not revive them', async () => {
    const adminBrowser = await admin('disable-admin@example.org');
    const id = await createUser('disable-links@example.org', ['patient']);
    const reset = await link('password_reset', id);
    const before = await passwordHashOf(id);
    expect(
      (await call(adminBrowser, 'POST', `/api/admin/users/${id}/disable`, {})).statusCode,
    ).toBe(200);
    expect((await call(adminBrowser, 'POST', `/api/admin/users/${id}/enable`, {})).statusCode).toBe(
      200,
    );
    expect((await userRow(id)).status).toBe('active');
    const refused = await resetWith(reset);
    expect(refused.statusCode).toBe(404);
    expect(await passwordHashOf(id)).toBe(before);
    // A link issued after enabling works: only the disable voided the old one.
    expect((await resetWith(await link('password_reset', id))).statusCode).toBe(200);
  });

  it('A7/retention: a node remembers a revocation by default for longer than the access token it refuses lives', async () => {
    const userId = await createUser('retention@example.org', ['patient']);
    const { sessionId } = await createSession(
      db(),
      { userId, amr: ['pwd'], mfaAt: null, userAgent: 'test', clientAddress: '127.0.0.1' },
      DEFAULT_LIFETIMES,
      new Date(),
    );
    let local = 0;
    const cache = createRevocationCache({
      db: db(),
      log: createLogger({ level: 'silent' }),
      now: () => local,
    });
    await cache.refresh();
    cache.markRevoked(sessionId);
    // An access token signed just before the revocation lives ACCESS_TOKEN_LIFETIME_SECONDS more.
    local += ACCESS_TOKEN_LIFETIME_SECONDS * SECOND + 30 * SECOND;
    await cache.refresh();
    expect(cache.isRevoked(sessionId)).toBe(true);
  });

  // ── A8 ───────────────────────────────────────────────────────────────────────────────────

  it('A8/Sec-Fetch-Site: a cookie write without Origin is refused unless the browser says same-origin', async () => {
    await createUser('fetch-site@example.org', ['patient']);
    const browser = await site.signIn('fetch-site@example.org');
    const write = (fetchSite: string) =>
      site.node.app.inject({
        method: 'PATCH',
        url: '/api/account/profile',
        headers: {
          cookie: cookieHeader(browser.jar),
          'x-csrf-token': browser.csrf,
          'sec-fetch-site': fetchSite,
        },
        payload: { displayName: `From ${fetchSite}` },
      });
    for (const fetchSite of ['cross-site', 'same-site', 'none']) {
      const refused = await write(fetchSite);
      expect(refused.statusCode, fetchSite).toBe(403);
      expect(refused.json(), fetchSite).toMatchObject({ code: 'CSRF_FAILED' });
    }
    expect((await write('same-origin')).statusCode).toBe(200);
  });

  it('A8/refresh: a refresh from another site is refused and issues nothing', async () => {
    await createUser('refresh-site@example.org', ['patient']);
    const browser = await site.signIn('refresh-site@example.org');
    const refresh = (headers: Record<string, string>) =>
      site.node.app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        headers: { cookie: cookieHeader(browser.jar), ...headers },
        payload: {},
      });
    const crossSite: Record<string, string>[] = [
      { origin: 'https://attacker.example' },
      { 'sec-fetch-site': 'cross-site' },
    ];
    for (const headers of crossSite) {
      const refused = await refresh(headers);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'CSRF_FAILED' });
      expect(cookiesOf(refused)['__Host-haven_at']).toBeUndefined();
    }
    // The same cookies refresh from our own pages.
    expect((await refresh({ origin: site.origin })).statusCode).toBe(200);
  });

  // ── A9 ───────────────────────────────────────────────────────────────────────────────────

  it('A9/step-up: a disabled account cannot step up its still-valid session, even with the right code', async () => {
    const email = 'stepup-disabled@example.org';
    const id = await createUser(email, ['clinician'], true);
    const browser = await signInWithMfa(email, id);
    const mfaAt = async () =>
      (
        await db()
          .selectFrom('sessions')
          .select('mfa_at')
          .where('user_id', '=', id)
          .executeTakeFirstOrThrow()
      ).mfa_at?.getTime();
    const before = await mfaAt();
    await setStatus(id, 'disabled');
    const refused = await call(browser, 'POST', '/api/auth/step-up', {
      code: await site.totpCode(id, SECRET),
    });
    expect(refused.statusCode).toBe(401);
    expect(cookiesOf(refused)['__Host-haven_at']).toBeUndefined();
    expect(await mfaAt()).toBe(before);
    // Active again, the same session steps up: the refusal was the status's.
    await setStatus(id, 'active');
    const done = await call(browser, 'POST', '/api/auth/step-up', {
      code: await site.totpCode(id, SECRET),
    });
    expect(done.statusCode).toBe(200);
  });

  it('A9/pending: a pending MFA state completes one sign-in, not two', async () => {
    const email = 'pending-once@example.org';
    const id = await createUser(email, ['clinician'], true);
    const pending = cookiesOf(await site.passwordStep(email));
    expect((await site.mfaStep(pending, await site.totpCode(id, SECRET))).statusCode).toBe(200);
    // A second right code (the step forgotten, as a new code would be) on the same pending cookie.
    const again = await site.mfaStep(pending, await site.totpCode(id, SECRET));
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });
    const sessions = await db()
      .selectFrom('sessions')
      .select('id')
      .where('user_id', '=', id)
      .execute();
    expect(sessions).toHaveLength(1);
  });

  it('A9/pending: the pending MFA state expires after 5 minutes on the server, whatever the cookie', async () => {
    const email = 'pending-lifetime@example.org';
    const id = await createUser(email, ['clinician'], true);
    const inTime = cookiesOf(await site.passwordStep(email));
    const done = await later(4 * MINUTE, async () =>
      site.mfaStep(inTime, await site.totpCode(id, SECRET)),
    );
    expect(done.statusCode).toBe(200);
    const late = cookiesOf(await site.passwordStep(email));
    const refused = await later(5 * MINUTE + 5 * SECOND, async () =>
      site.mfaStep(late, await site.totpCode(id, SECRET)),
    );
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });
  });

  it('A9/enrolment: a disabled account cannot finish an enrolment begun before, even with the right code', async () => {
    const { id, pending } = await acceptedInvitee('enrol-disabled@example.org');
    const started = await withCookies(pending, '/api/auth/mfa/enrollment');
    expect(started.statusCode).toBe(200);
    const secret = started.json<{ secret: string }>().secret;
    await setStatus(id, 'disabled');
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    const refused = await withCookies(pending, '/api/auth/mfa/enrollment/confirm', { code });
    expect(refused.statusCode).toBe(409);
    expect(cookiesOf(refused)['__Host-haven_at']).toBeUndefined();
    const row = await userRow(id);
    expect(row.status).toBe('disabled');
    expect(row.totp_enrolled_at).toBeNull();
  });

  it('A9/enrolment: the enrolment pending state expires after 15 minutes', async () => {
    const inTime = await acceptedInvitee('enrol-in-time@example.org');
    const started = await later(14 * MINUTE, () =>
      withCookies(inTime.pending, '/api/auth/mfa/enrollment'),
    );
    expect(started.statusCode).toBe(200);
    const late = await acceptedInvitee('enrol-late@example.org');
    const refused = await later(15 * MINUTE + 5 * SECOND, () =>
      withCookies(late.pending, '/api/auth/mfa/enrollment'),
    );
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });
  });

  // ── A10 ──────────────────────────────────────────────────────────────────────────────────

  it('A10/password change: a reset link mailed before the change no longer sets a password', async () => {
    const email = 'change-voids-reset@example.org';
    const id = await createUser(email, ['patient']);
    const reset = await link('password_reset', id);
    const browser = await site.signIn(email);
    const changed = await call(browser, 'POST', '/api/account/password', {
      currentPassword: PASSWORD,
      newPassword: NEW_PASSWORD,
    });
    expect(changed.statusCode).toBe(200);
    const after = await passwordHashOf(id);
    expect((await resetWith(reset, 'someone else picks this passphrase 77')).statusCode).toBe(404);
    expect(await passwordHashOf(id)).toBe(after);
  });

  it('A10/email change: a reset link sent to the old address dies when the new one is confirmed', async () => {
    const id = await createUser('email-voids-reset@example.org', ['patient']);
    const reset = await link('password_reset', id);
    const confirmation = await link('email_verification', id, {
      kind: 'email_change',
      newEmail: 'email-voids-reset-new@example.org',
    });
    const browser = await site.signIn('email-voids-reset@example.org');
    const confirmed = await call(browser, 'POST', '/api/account/email/confirm', {
      token: confirmation,
    });
    expect(confirmed.statusCode).toBe(200);
    const before = await passwordHashOf(id);
    expect((await resetWith(reset)).statusCode).toBe(404);
    expect(await passwordHashOf(id)).toBe(before);
  });

  it('A10/lifetime: a mailed reset link expires after 30 minutes', async () => {
    const email = 'reset-lifetime@example.org';
    const id = await createUser(email, ['patient']);
    expect((await post('/api/auth/password-reset', { email })).statusCode).toBe(202);
    const token = await site.linkToken(email);
    const before = await passwordHashOf(id);
    const refused = await later(30 * MINUTE + 5 * SECOND, () => resetWith(token));
    expect(refused.statusCode).toBe(404);
    expect(await passwordHashOf(id)).toBe(before);
    // Within its lifetime the same link works.
    expect((await later(25 * MINUTE, () => resetWith(token))).statusCode).toBe(200);
  });

  // ── A11 ──────────────────────────────────────────────────────────────────────────────────

  it('A11/resend: an active account gets no new invitation, and keeps its password', async () => {
    const adminBrowser = await admin('resend-admin@example.org');
    const email = 'resend-active@example.org';
    const id = await createUser(email, ['patient']);
    const before = await passwordHashOf(id);
    const refused = await call(adminBrowser, 'POST', `/api/admin/users/${id}/invitation`, {});
    expect(refused.statusCode).toBe(409);
    expect(await passwordHashOf(id)).toBe(before);
    expect((await site.passwordStep(email)).statusCode).toBe(200);
  });

  it('A11/re-invitation: an enrolment begun from the older link cannot go on', async () => {
    const adminBrowser = await admin('reinvite-admin-1@example.org');
    const { id, pending } = await acceptedInvitee('reinvite-enrol@example.org');
    const resent = await call(adminBrowser, 'POST', `/api/admin/users/${id}/invitation`, {});
    expect(resent.statusCode).toBe(200);
    const refused = await withCookies(pending, '/api/auth/mfa/enrollment');
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });
  });

  it('A11/re-invitation: the password set through the older link no longer signs in', async () => {
    const adminBrowser = await admin('reinvite-admin-2@example.org');
    const email = 'reinvite-password@example.org';
    const { id } = await acceptedInvitee(email);
    // Before the re-invitation the password resumes the enrolment (the lost-enrolment path).
    expect((await site.passwordStep(email)).json()).toMatchObject({
      status: 'mfa_enrollment_required',
    });
    const resent = await call(adminBrowser, 'POST', `/api/admin/users/${id}/invitation`, {});
    expect(resent.statusCode).toBe(200);
    expect(await passwordHashOf(id)).toBeNull();
    const refused = await site.passwordStep(email);
    expect(refused.statusCode).toBe(401);
    expect(cookiesOf(refused)['__Host-haven_mfa']).toBeUndefined();
  });

  it('A11/sign-up: a verification link activates only an account still awaiting it, never a disabled one', async () => {
    const id = await createUser('signup-disabled@example.org', ['patient']);
    await setStatus(id, 'disabled');
    const token = await link('email_verification', id, { kind: 'signup' });
    const refused = await post('/api/onboarding/signup/verify', { token });
    expect(refused.statusCode).toBe(404);
    expect((await userRow(id)).status).toBe('disabled');
  });

  it('A11/lifetime: an invitation link expires after 72 hours', async () => {
    const adminBrowser = await admin('invite-lifetime-admin@example.org');
    const email = 'invite-lifetime@example.org';
    const invited = await call(adminBrowser, 'POST', '/api/admin/invitations', {
      email,
      role: 'patient',
    });
    expect(invited.statusCode).toBeLessThan(300);
    const token = await site.linkToken(email, { page: 'invite' });
    const inspect = () => post('/api/onboarding/invitations/inspect', { token });
    expect((await later(71 * HOUR, inspect)).statusCode).toBe(200);
    const refused = await later(72 * HOUR + 5 * SECOND, inspect);
    expect(refused.statusCode).toBe(404);
  });

  // ── Z4 ───────────────────────────────────────────────────────────────────────────────────

  it("Z4/email change: another account's confirmation link changes nothing, and stays its owner's", async () => {
    const ownerId = await createUser('confirm-owner@example.org', ['patient']);
    await createUser('confirm-other@example.org', ['patient']);
    const token = await link('email_verification', ownerId, {
      kind: 'email_change',
      newEmail: 'confirm-owner-new@example.org',
    });
    const other = await site.signIn('confirm-other@example.org');
    const refused = await call(other, 'POST', '/api/account/email/confirm', { token });
    expect(refused.statusCode).toBe(404);
    const emails = await db()
      .selectFrom('users')
      .select('email_normalized')
      .where('email_normalized', 'like', 'confirm-%')
      .orderBy('email_normalized')
      .execute();
    expect(emails.map((row) => row.email_normalized)).toEqual([
      'confirm-other@example.org',
      'confirm-owner@example.org',
    ]);
    const owner = await site.signIn('confirm-owner@example.org');
    const confirmed = await call(owner, 'POST', '/api/account/email/confirm', { token });
    expect(confirmed.statusCode).toBe(200);
    expect((await userRow(ownerId)).email_normalized).toBe('confirm-owner-new@example.org');
  });
});
