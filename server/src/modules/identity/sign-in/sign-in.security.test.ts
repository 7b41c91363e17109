// Sign-in over HTTP against the real app (A3, A5, A6, A7, A8, A9): no enumeration, shared
// backoff, cookie flags, CSRF, MFA without replay, and logout that reaches another node.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { TOTP, Secret } from 'otpauth';
import { createTestApp, type TestApp } from '../../../../test/app-harness.js';
import {
  PASSWORD,
  cookieHeader,
  cookiesOf,
  insertAccount,
} from '../../../../test/proof/sign-in-kit.js';
import { describeEachEngine, useTestDatabase } from '../../../../test/databases.js';
import { createKeyRing, sha256Hex } from '../../../platform/crypto.js';
import type { Role } from '../../../platform/db/schema.js';
import { generateTotpSecret, sealTotpSecret } from '../mfa/totp.js';
import { generateRecoveryCodes, replaceRecoveryCodes } from '../mfa/recovery-codes.js';

const MASTER_KEY = randomBytes(32).toString('base64');

describeEachEngine('sign-in', (engine) => {
  const database = useTestDatabase(engine);
  let nodeA: TestApp;
  let nodeB: TestApp;
  let origin: string;

  async function createUser(
    email: string,
    roles: Role[],
    options: { status?: 'active' | 'disabled' | 'invited'; totpSecret?: string } = {},
  ) {
    const user = await insertAccount(database.db, {
      email,
      roles,
      displayName: 'Test User',
      ...(options.status && { status: options.status }),
    });
    if (options.totpSecret) {
      await database.db
        .updateTable('users')
        .set({
          totp_secret_enc: sealTotpSecret(
            createKeyRing(Buffer.from(MASTER_KEY, 'base64')),
            user.id,
            options.totpSecret,
          ),
          totp_enrolled_at: new Date(),
        })
        .where('id', '=', user.id)
        .execute();
    }
    return user.id;
  }

  beforeAll(async () => {
    const env = { HAVEN_MASTER_KEY: MASTER_KEY, HAVEN_RATE_AUTH: '1000/60' };
    nodeA = await createTestApp(engine, { database, env });
    nodeB = await createTestApp(engine, { database, env });
    origin = nodeA.config.publicOrigin;
  });
  afterAll(async () => {
    await nodeA.close();
    await nodeB.close();
  });

  const signIn = (email: string, password = PASSWORD, app = nodeA) =>
    app.app.inject({
      method: 'POST',
      url: '/api/auth/session',
      headers: { origin },
      payload: { email, password },
    });

  it('A3/enumeration: unknown email, wrong password and disabled account get the same answer', async () => {
    await createUser('known@example.org', ['patient']);
    await createUser('disabled@example.org', ['patient'], { status: 'disabled' });
    const answers = await Promise.all([
      signIn('nobody@example.org'),
      signIn('known@example.org', 'wrong password entirely'),
      signIn('disabled@example.org'),
    ]);
    const shapes = answers.map((r) => ({
      status: r.statusCode,
      body: { ...r.json<Record<string, unknown>>(), requestId: 'x' },
    }));
    expect(shapes[0]).toMatchObject({ status: 401, body: { code: 'INVALID_CREDENTIALS' } });
    expect(shapes[1]).toEqual(shapes[0]);
    expect(shapes[2]).toEqual(shapes[0]);
  });

  it('A3/timing: an unknown email costs an argon2id verify like a real account (medians of 15 interleaved sign-ins)', async () => {
    // A ratio of medians over interleaved samples, never a wall-clock bound: load on the machine
    // slows both paths alike. One failure per account and per unknown email, so the per-email
    // backoff (from the 5th failure) never answers instead of a verify.
    const SAMPLES = 15;
    const known = await Promise.all(
      Array.from({ length: SAMPLES }, async (_, i) => {
        const email = `timing-${i}-${randomBytes(4).toString('hex')}@example.org`;
        await createUser(email, ['patient']);
        return email;
      }),
    );
    const timed = async (email: string) => {
      const started = performance.now();
      const response = await signIn(email, 'not the password at all');
      const elapsed = performance.now() - started;
      expect(response.statusCode).toBe(401);
      return elapsed;
    };
    await timed(`warm-up-${randomBytes(4).toString('hex')}@example.org`);
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (const [i, email] of known.entries()) {
      // Alternate which goes first, so a drift in load favours neither side.
      const ghost = `ghost-${i}-${randomBytes(4).toString('hex')}@example.org`;
      if (i % 2 === 0) {
        knownTimes.push(await timed(email));
        unknownTimes.push(await timed(ghost));
      } else {
        unknownTimes.push(await timed(ghost));
        knownTimes.push(await timed(email));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(unknownTimes) / median(knownTimes);
    // Without the dummy verify the unknown path skips argon2id and runs several times faster
    // (measured about 0.2); with it the two paths take alike.
    expect(ratio, `unknown/known median ratio ${ratio.toFixed(2)}`).toBeGreaterThan(0.5);
    expect(ratio, `unknown/known median ratio ${ratio.toFixed(2)}`).toBeLessThan(2);
  });

  it('A3/guessing: from the 5th failure the account backs off, on every node, even for the right password', async () => {
    await createUser('guessed@example.org', ['patient']);
    for (let i = 0; i < 5; i++) {
      const node = i % 2 === 0 ? nodeA : nodeB;
      expect((await signIn('guessed@example.org', `guess number ${i}`, node)).statusCode).toBe(401);
    }
    const blocked = await signIn('guessed@example.org', PASSWORD, nodeB);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ code: 'LOGIN_BACKOFF' });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    // Unknown emails back off identically: the backoff reveals nothing.
    for (let i = 0; i < 5; i++) await signIn('ghost-backoff@example.org', `guess ${i}`);
    expect((await signIn('ghost-backoff@example.org')).json()).toMatchObject({
      code: 'LOGIN_BACKOFF',
    });
  });

  it('A3/guessing: a successful sign-in clears the failures counted before it, and only those', async () => {
    await createUser('reset-count@example.org', ['patient']);
    // The counter row of this email (keyed like login-throttle.ts keys it).
    const counted = () =>
      database.db
        .selectFrom('login_throttle')
        .select('failures')
        .where('email_hash', '=', sha256Hex('login:reset-count@example.org'))
        .execute();
    for (let i = 0; i < 4; i++) await signIn('reset-count@example.org', `guess ${i}`);
    expect((await signIn('reset-count@example.org')).statusCode).toBe(200);
    // Four more failures after the success are not a fifth consecutive one: no backoff yet.
    for (let i = 0; i < 4; i++) await signIn('reset-count@example.org', `again ${i}`);
    expect((await signIn('reset-count@example.org')).statusCode).toBe(200);
    expect(await counted()).toEqual([]);
    // With nothing counted a success has nothing to clear, and still signs in.
    expect((await signIn('reset-count@example.org')).statusCode).toBe(200);
    expect(await counted()).toEqual([]);
  });

  it('A5: the session arrives only as __Host- cookies: HttpOnly, Secure, SameSite=Strict, Path=/', async () => {
    await createUser('cookies@example.org', ['patient']);
    const response = await signIn('cookies@example.org');
    expect(response.statusCode).toBe(200);
    const body = response.json<Record<string, unknown>>();
    expect(body.status).toBe('signed_in');
    const jar = cookiesOf(response);
    expect(Object.keys(jar).sort()).toEqual(['__Host-haven_at', '__Host-haven_rt']);
    for (const cookie of response.cookies) {
      expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
      expect(cookie.domain).toBeUndefined();
      expect(response.body).not.toContain(cookie.value);
    }
  });

  it('A8/CSRF: cookie-authenticated writes need the session CSRF token and our origin; bearer requests are exempt', async () => {
    await createUser('csrf@example.org', ['patient']);
    const first = await signIn('csrf@example.org');
    const other = await signIn('csrf@example.org');
    const jar = cookiesOf(first);
    const csrf = first.json<{ csrfToken: string }>().csrfToken;
    const otherCsrf = other.json<{ csrfToken: string }>().csrfToken;
    const logout = (headers: Record<string, string>) =>
      nodeA.app.inject({
        method: 'DELETE',
        url: '/api/account/sessions',
        headers: { cookie: cookieHeader(jar), ...headers },
      });
    const refusals: Array<Record<string, string>> = [
      { origin },
      { origin, 'x-csrf-token': 'wrong' },
      { origin, 'x-csrf-token': otherCsrf },
      { origin: 'https://evil.example', 'x-csrf-token': csrf },
      { 'x-csrf-token': csrf },
    ];
    for (const headers of refusals) {
      const refused = await logout(headers);
      expect(refused.statusCode, JSON.stringify(headers)).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'CSRF_FAILED' });
    }
    expect((await logout({ origin, 'x-csrf-token': csrf })).statusCode).toBe(200);
    const bearer = await nodeA.app.inject({
      method: 'DELETE',
      url: '/api/account/sessions',
      headers: { authorization: `Bearer ${jar['__Host-haven_at']}` },
    });
    expect(bearer.statusCode).toBe(200);
  });

  it('A8/login CSRF: a sign-in posted from another origin is refused', async () => {
    const response = await nodeA.app.inject({
      method: 'POST',
      url: '/api/auth/session',
      headers: { origin: 'https://evil.example' },
      payload: { email: 'csrf@example.org', password: PASSWORD },
    });
    expect(response.statusCode).toBe(403);
  });

  it('A6/refresh reuse: a replayed refresh cookie ends the session', async () => {
    await createUser('refresh@example.org', ['patient']);
    const jar = cookiesOf(await signIn('refresh@example.org'));
    const refresh = (cookies: Record<string, string>) =>
      nodeA.app.inject({
        method: 'POST',
        url: '/api/auth/refresh',
        headers: { origin, cookie: cookieHeader(cookies) },
        payload: {},
      });
    const rotated = await refresh(jar);
    expect(rotated.statusCode).toBe(200);
    const next = cookiesOf(rotated);
    expect(next['__Host-haven_rt']).not.toBe(jar['__Host-haven_rt']);
    expect((await refresh(jar)).json()).toMatchObject({ code: 'SESSION_EXPIRED' });
    expect((await refresh(next)).statusCode).toBe(401);
  });

  it('A7: logout on node A is refused on node B within a second', async () => {
    await createUser('logout@example.org', ['patient']);
    const signedIn = await signIn('logout@example.org');
    const jar = cookiesOf(signedIn);
    const me = (app: TestApp) =>
      app.app.inject({ url: '/api/auth/me', headers: { cookie: cookieHeader(jar) } });
    expect((await me(nodeB)).statusCode).toBe(200);
    const out = await nodeA.app.inject({
      method: 'DELETE',
      url: '/api/auth/session',
      headers: {
        origin,
        cookie: cookieHeader(jar),
        'x-csrf-token': signedIn.json<{ csrfToken: string }>().csrfToken,
      },
    });
    expect(out.statusCode).toBe(200);
    expect((await me(nodeA)).statusCode).toBe(401);
    const deadline = Date.now() + 1000;
    let status = (await me(nodeB)).statusCode;
    while (status === 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await me(nodeB)).statusCode;
    }
    expect(status).toBe(401);
  });

  it('A9: an MFA-required role gets no session from a password alone; TOTP completes it and cannot be replayed', async () => {
    const secret = generateTotpSecret();
    await createUser('clinician@example.org', ['clinician'], { totpSecret: secret });
    await createUser('unenrolled@example.org', ['admin']);
    // Unenrolled: the password alone leads only to enrolment, never to a session.
    const unenrolled = await signIn('unenrolled@example.org');
    expect(unenrolled.statusCode).toBe(200);
    expect(unenrolled.json()).toEqual({ status: 'mfa_enrollment_required' });
    expect(Object.keys(cookiesOf(unenrolled))).toEqual(['__Host-haven_mfa']);

    const passwordOk = await signIn('clinician@example.org');
    expect(passwordOk.json()).toEqual({ status: 'mfa_required' });
    expect(Object.keys(cookiesOf(passwordOk))).toEqual(['__Host-haven_mfa']);
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    const mfa = (jar: Record<string, string>, body: object) =>
      nodeA.app.inject({
        method: 'POST',
        url: '/api/auth/mfa',
        headers: { origin, cookie: cookieHeader(jar) },
        payload: body,
      });
    const done = await mfa(cookiesOf(passwordOk), { code });
    expect(done.statusCode).toBe(200);
    expect(Object.keys(cookiesOf(done))).toContain('__Host-haven_at');

    const again = await signIn('clinician@example.org');
    const replay = await mfa(cookiesOf(again), { code });
    expect(replay.json()).toMatchObject({ code: 'MFA_INVALID' });
    // Without the pending cookie there is nothing to complete.
    expect((await mfa({}, { code })).json()).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });
  });

  /**
   * Holds every write of a used TOTP step until `parties` requests have reached it (or 10 s
   * have passed), so each has read the account's last used step before any of them writes it:
   * the race is staged, not left to scheduling. Statements still run on the real database.
   */
  function stageTotpRace(parties: number) {
    const executor = database.db.getExecutor();
    const execute = executor.executeQuery.bind(executor);
    let arrived = 0;
    let allThere!: () => void;
    const gate = new Promise<void>((resolve) => (allThere = resolve));
    const spy = vi.spyOn(executor, 'executeQuery').mockImplementation(async (query) => {
      if (/^update "users" set "totp_last_step"/.test(query.sql)) {
        arrived += 1;
        if (arrived >= parties) allThere();
        await Promise.race([gate, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      }
      return execute(query);
    });
    return { arrived: () => arrived, restore: () => spy.mockRestore() };
  }

  it('A9/replay race: one TOTP code sent at the same moment to two nodes completes exactly one sign-in', async () => {
    // Two MFA-pending sign-ins of one account complete with the same code, one on each node.
    // Both have checked the code against the last used step before either records its use, so
    // only the conditional update of that step may let exactly one through (on PostgreSQL the
    // two writes also run on separate connections at once).
    const secret = generateTotpSecret();
    await createUser('racer@example.org', ['clinician'], { totpSecret: secret });
    const mfa = (app: TestApp, jar: Record<string, string>, code: string) =>
      app.app.inject({
        method: 'POST',
        url: '/api/auth/mfa',
        headers: { origin, cookie: cookieHeader(jar) },
        payload: { code },
      });
    for (let round = 0; round < 2; round++) {
      const pendingA = cookiesOf(await signIn('racer@example.org', PASSWORD, nodeA));
      const pendingB = cookiesOf(await signIn('racer@example.org', PASSWORD, nodeB));
      // A fresh step each round: the code of the next 30-second window, which TOTP accepts.
      const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate({
        timestamp: Date.now() + round * 30_000,
      });
      const race = stageTotpRace(2);
      let answers: LightMyRequestResponse[];
      try {
        answers = await Promise.all([mfa(nodeA, pendingA, code), mfa(nodeB, pendingB, code)]);
      } finally {
        race.restore();
      }
      expect(race.arrived(), 'both requests reached the write of the step').toBe(2);
      expect(answers.map((r) => r.statusCode).sort(), `round ${round}`).toEqual([200, 401]);
      expect(answers.find((r) => r.statusCode !== 200)!.json()).toMatchObject({
        code: 'MFA_INVALID',
      });
    }
  });

  it('A9: a recovery code signs in exactly once', async () => {
    const userId = await createUser('recovery@example.org', ['researcher'], {
      totpSecret: generateTotpSecret(),
    });
    const [code] = generateRecoveryCodes();
    await replaceRecoveryCodes(database.db, userId, [code!]);
    const attempt = async () => {
      const pending = cookiesOf(await signIn('recovery@example.org'));
      return nodeA.app.inject({
        method: 'POST',
        url: '/api/auth/mfa',
        headers: { origin, cookie: cookieHeader(pending) },
        payload: { recoveryCode: code },
      });
    };
    expect((await attempt()).statusCode).toBe(200);
    expect((await attempt()).json()).toMatchObject({ code: 'MFA_INVALID' });
  });

  it("A7/Z4: users list and revoke their own sessions; another user's session answers 404 like a missing one", async () => {
    await createUser('owner@example.org', ['patient']);
    await createUser('intruder@example.org', ['patient']);
    const mine = await signIn('owner@example.org');
    const myOther = await signIn('owner@example.org');
    const theirs = await signIn('intruder@example.org');
    const write = (response: LightMyRequestResponse, method: 'GET' | 'DELETE', url: string) =>
      nodeA.app.inject({
        method,
        url,
        headers: {
          origin,
          cookie: cookieHeader(cookiesOf(response)),
          'x-csrf-token': response.json<{ csrfToken: string }>().csrfToken,
        },
      });
    const listed = (await write(mine, 'GET', '/api/account/sessions')).json<{
      sessions: Array<{ id: string; current: boolean }>;
    }>();
    expect(listed.sessions).toHaveLength(2);
    expect(listed.sessions.filter((x) => x.current)).toHaveLength(1);
    const otherId = listed.sessions.find((x) => !x.current)!.id;

    const theirList = (await write(theirs, 'GET', '/api/account/sessions')).json<{
      sessions: Array<{ id: string }>;
    }>();
    const theirId = theirList.sessions[0]!.id;
    const foreign = await write(mine, 'DELETE', `/api/account/sessions/${theirId}`);
    const missing = await write(
      mine,
      'DELETE',
      '/api/account/sessions/00000000-0000-4000-8000-000000000000',
    );
    expect(foreign.statusCode).toBe(404);
    expect({ ...foreign.json<object>(), requestId: 'x' }).toEqual({
      ...missing.json<object>(),
      requestId: 'x',
    });
    expect((await write(theirs, 'GET', '/api/auth/me')).statusCode).toBe(200);

    expect((await write(mine, 'DELETE', `/api/account/sessions/${otherId}`)).statusCode).toBe(200);
    expect((await write(myOther, 'GET', '/api/auth/me')).statusCode).toBe(401);
    expect((await write(mine, 'GET', '/api/auth/me')).statusCode).toBe(200);
  });

  it('A7: revoking all other sessions keeps the current one', async () => {
    await createUser('everywhere@example.org', ['patient']);
    const here = await signIn('everywhere@example.org');
    const elsewhere = [
      await signIn('everywhere@example.org'),
      await signIn('everywhere@example.org'),
    ];
    const headersOf = (response: LightMyRequestResponse) => ({
      origin,
      cookie: cookieHeader(cookiesOf(response)),
      'x-csrf-token': response.json<{ csrfToken: string }>().csrfToken,
    });
    const out = await nodeA.app.inject({
      method: 'DELETE',
      url: '/api/account/sessions',
      headers: headersOf(here),
    });
    expect(out.json()).toEqual({ revoked: 2 });
    for (const response of elsewhere) {
      expect(
        (await nodeA.app.inject({ url: '/api/auth/me', headers: headersOf(response) })).statusCode,
      ).toBe(401);
    }
    expect(
      (await nodeA.app.inject({ url: '/api/auth/me', headers: headersOf(here) })).statusCode,
    ).toBe(200);
  });

  it('A9/A11: an invited admin who set a password but lost the enrolment step resumes enrolment, never a session', async () => {
    await createUser('first-admin@example.org', ['admin'], { status: 'invited' });
    const response = await signIn('first-admin@example.org');
    expect(response.json()).toEqual({ status: 'mfa_enrollment_required' });
    expect(Object.keys(cookiesOf(response))).toEqual(['__Host-haven_mfa']);
    // The pending state is for enrolment only: it cannot complete an MFA sign-in.
    const mfa = await nodeA.app.inject({
      method: 'POST',
      url: '/api/auth/mfa',
      headers: { origin, cookie: cookieHeader(cookiesOf(response)) },
      payload: { code: '123456' },
    });
    expect(mfa.json()).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });
  });
});
