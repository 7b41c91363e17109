// A3/A9 MFA guessing over HTTP against the real app, on two nodes sharing one database: wrong
// second-factor codes are counted per account across password sign-ins (a fresh pending state
// buys no fresh guesses), back off like wrong passwords do, and only a verified second factor
// clears the count. Time is a frozen fake clock (Date only), so the 1-second first backoff
// cannot pass unnoticed on a slow machine, and the test moves past it by setting the clock.
import { afterEach, beforeAll, beforeEach, expect, it, vi } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { TOTP, Secret } from 'otpauth';
import type { TestApp } from '../../../../test/app-harness.js';
import { browserOf, cookiesOf, useBrowserNodes, type Jar } from '../../../../test/browsers.js';
import { describeEachEngine } from '../../../../test/databases.js';
import { sha256Hex } from '../../../platform/crypto.js';
import { generateTotpSecret } from '../mfa/totp.js';

describeEachEngine('MFA guessing', (engine) => {
  const site = useBrowserNodes(engine, { env: { HAVEN_RATE_AUTH: '1000/60' }, nodes: [{}, {}] });
  let nodeA: TestApp;
  let nodeB: TestApp;
  let clock: number;

  beforeAll(() => {
    [nodeA, nodeB] = site.nodes as [TestApp, TestApp];
  });
  beforeEach(() => {
    clock = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], now: clock });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const advanceClock = (ms: number) => {
    clock += ms;
    vi.setSystemTime(clock);
  };

  /** An active clinician (MFA required) with an enrolled authenticator. */
  async function createClinician(email: string) {
    const secret = generateTotpSecret();
    const id = await site.createUser(email, ['clinician'], {
      displayName: 'Test Clinician',
      totpSecret: secret,
    });
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    // A code outside the ±1 step window the server accepts, at the current (fake) time.
    const wrongCode = () => {
      const valid = new Set(
        [-30_000, 0, 30_000].map((d) => totp.generate({ timestamp: clock + d })),
      );
      let guess = 0;
      while (valid.has(String(guess).padStart(6, '0'))) guess++;
      return String(guess).padStart(6, '0');
    };
    return { id, email, rightCode: () => totp.generate(), wrongCode };
  }

  /** A correct password: answers mfa_required and hands out a fresh MFA-pending cookie. */
  async function passwordStep(email: string, node: TestApp): Promise<Jar> {
    const response = await site.passwordStep(email, { node });
    expect(response.json()).toEqual({ status: 'mfa_required' });
    return cookiesOf(response);
  }
  const mfaStep = (pending: Jar, code: string, node: TestApp) => site.mfaStep(pending, code, node);

  /** The account's count of wrong second-factor codes (keyed as mfa/mfa-throttle.ts keys it). */
  const countedFailures = async (userId: string) => {
    const row = await site.database.db
      .selectFrom('login_throttle')
      .select('failures')
      .where('email_hash', '=', sha256Hex(`login:mfa:${userId}`))
      .executeTakeFirst();
    return row?.failures ?? 0;
  };
  const mfaAudit = async (userId: string) => {
    const rows = await site.database.db
      .selectFrom('audit_events')
      .select('outcome')
      .where('action', '=', 'auth.mfa')
      .where('actor_id', '=', userId)
      .execute();
    return rows.map((row) => row.outcome);
  };

  it('A9/MFA guessing: 25 wrong codes over 5 fresh password sign-ins back the account off on every node; a right code waits too; after the backoff it signs in and the count is cleared', async () => {
    const user = await createClinician('guessed-mfa@example.org');
    const answers: LightMyRequestResponse[] = [];
    for (let signIn = 0; signIn < 5; signIn++) {
      const pending = await passwordStep(user.email, signIn % 2 === 0 ? nodeA : nodeB);
      for (let guess = 0; guess < 5; guess++) {
        answers.push(await mfaStep(pending, user.wrongCode(), guess % 2 === 0 ? nodeB : nodeA));
      }
    }
    // The first five are wrong codes; every later one is refused before the code is looked at.
    for (const refused of answers.slice(0, 5)) {
      expect(refused.json()).toMatchObject({ code: 'MFA_INVALID' });
    }
    for (const refused of answers.slice(5)) {
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ code: 'LOGIN_BACKOFF' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }

    // The right code, with yet another fresh pending state, is refused during the backoff.
    const during = await mfaStep(await passwordStep(user.email, nodeB), user.rightCode(), nodeA);
    expect(during.statusCode).toBe(429);
    expect(Object.keys(cookiesOf(during))).not.toContain('__Host-haven_at');
    expect(await countedFailures(user.id)).toBe(5);
    const audited = await mfaAudit(user.id);
    expect(audited.filter((o) => o === 'failure')).toHaveLength(5);
    expect(audited.filter((o) => o === 'denied')).toHaveLength(21);

    // Once the backoff has passed, the right code signs in and the count is gone.
    advanceClock(Number(during.headers['retry-after']) * 1000);
    const after = await mfaStep(await passwordStep(user.email, nodeA), user.rightCode(), nodeB);
    expect(after.statusCode).toBe(200);
    expect(Object.keys(cookiesOf(after))).toContain('__Host-haven_at');
    expect(await countedFailures(user.id)).toBe(0);
    expect(await mfaAudit(user.id)).toContain('success');
    // A wrong code now is an ordinary first failure, not a backoff.
    const fresh = await mfaStep(await passwordStep(user.email, nodeB), user.wrongCode(), nodeA);
    expect(fresh.json()).toMatchObject({ code: 'MFA_INVALID' });
  });

  it('A9/MFA guessing: a correct password does not clear the count of wrong codes', async () => {
    const user = await createClinician('password-holder@example.org');
    const first = await passwordStep(user.email, nodeA);
    for (let guess = 0; guess < 4; guess++) {
      expect((await mfaStep(first, user.wrongCode(), nodeA)).statusCode).toBe(401);
    }
    const second = await passwordStep(user.email, nodeB);
    expect(await countedFailures(user.id)).toBe(4);
    // The fifth wrong code overall, the first of this pending state, starts the backoff.
    expect((await mfaStep(second, user.wrongCode(), nodeB)).statusCode).toBe(401);
    const third = await passwordStep(user.email, nodeA);
    expect(await countedFailures(user.id)).toBe(5);
    expect((await mfaStep(third, user.rightCode(), nodeA)).json()).toMatchObject({
      code: 'LOGIN_BACKOFF',
    });
  });

  it('A9/MFA guessing: a burst of concurrent wrong codes on two nodes gets five checked, not one per pending state', async () => {
    const user = await createClinician('burst@example.org');
    const pendings: Jar[] = [];
    for (let signIn = 0; signIn < 4; signIn++) {
      pendings.push(await passwordStep(user.email, signIn % 2 === 0 ? nodeA : nodeB));
    }
    // 20 guesses at once, 5 per pending state. Were the backoff read before each check and the
    // failure counted after it, all 20 would be checked on PostgreSQL (PGlite runs the queries
    // one at a time, so there it shows the count only).
    const burst = await Promise.all(
      pendings.flatMap((pending, p) =>
        [0, 1, 2, 3, 4].map((g) => mfaStep(pending, user.wrongCode(), (p + g) % 2 ? nodeA : nodeB)),
      ),
    );
    const codes = burst.map((r) => r.json<{ code: string }>().code);
    expect(codes.filter((c) => c === 'MFA_INVALID')).toHaveLength(5);
    expect(codes.filter((c) => c === 'LOGIN_BACKOFF')).toHaveLength(15);
    expect(await countedFailures(user.id)).toBe(5);
  });

  it('A9/MFA guessing: step-up shares the account count, so guesses cannot move to the other door', async () => {
    const user = await createClinician('step-up-door@example.org');
    const signedIn = await mfaStep(await passwordStep(user.email, nodeA), user.rightCode(), nodeA);
    expect(signedIn.statusCode).toBe(200);
    const session = browserOf(signedIn);
    /** The same session's cookies each time: the step-up answer's new cookies are not kept. */
    const stepUpWithRightCode = (node: TestApp) =>
      site.call(
        { ...session, jar: { ...session.jar } },
        'POST',
        '/api/auth/step-up',
        { code: user.rightCode() },
        node,
      );
    for (let signIn = 0; signIn < 5; signIn++) {
      await mfaStep(await passwordStep(user.email, nodeB), user.wrongCode(), nodeB);
    }
    advanceClock(30_000); // a new TOTP step, so the right code is not a replay
    const stepUp = await stepUpWithRightCode(nodeA);
    // 30 s is past the 1 s first backoff: the right code is accepted and clears the count.
    expect(stepUp.statusCode).toBe(200);
    expect(await countedFailures(user.id)).toBe(0);
    for (let signIn = 0; signIn < 5; signIn++) {
      await mfaStep(await passwordStep(user.email, nodeB), user.wrongCode(), nodeB);
    }
    const refused = await stepUpWithRightCode(nodeB);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'LOGIN_BACKOFF' });
  });
});
