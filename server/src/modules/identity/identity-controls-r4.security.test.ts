// Identity controls that had no test failing when they were removed (round 4 of the mutation
// survivors): the strength estimate's use of the user's own details and the configurable floor
// of the password length (A2), and the session lifetimes a deployment gets when it configures
// none (A6). Each test shows the control's effect, with a check that the same steps succeed
// where the control does not apply.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { testEnv } from '../../../test/app-harness.js';
import { configProblems } from '../../../test/config-env.js';
import { cookieHeader, cookiesOf, useBrowserNodes, type Jar } from '../../../test/browsers.js';
import { describeEachEngine } from '../../../test/databases.js';
import { loadConfig } from '../../config.js';
import { DEFAULT_PASSWORD_POLICY, checkPasswordPolicy } from './passwords/policy.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe('A2 password policy (round 4)', () => {
  it("A2: the strength estimate counts the user's own name as known words (targeted guessing)", async () => {
    const user = {
      displayName: 'Quillfeather Havenstone',
      email: 'quillfeather.havenstone@example.org',
    };
    // Not made only of the user's details (so not refused as personal): the estimate decides.
    const password = 'quillfeatherhouse';
    // To a stranger the unusual name looks random, so the password passes...
    expect(await checkPasswordPolicy(password, {}, DEFAULT_PASSWORD_POLICY)).toMatchObject({
      ok: true,
    });
    // ...but for its owner it is their name plus a dictionary word: too easy to guess.
    expect(await checkPasswordPolicy(password, user, DEFAULT_PASSWORD_POLICY)).toMatchObject({
      ok: false,
      problem: 'weak',
    });
  });

  it('A2: a deployment cannot lower the minimum password length below 12 (weak configuration)', () => {
    const env = (minimum: string) => testEnv({ HAVEN_PASSWORD_MIN_LENGTH: minimum });
    expect(configProblems(env('8'), process.cwd()).join('\n')).toMatch(/HAVEN_PASSWORD_MIN_LENGTH/);
    // Raising it is allowed.
    expect(loadConfig(env('16'), { cwd: process.cwd() }).identity.passwordMinLength).toBe(16);
  });
});

describeEachEngine('A6 session lifetimes by default (round 4)', (engine) => {
  // No HAVEN_SESSION_* variable: the lifetimes are the defaults every deployment starts with.
  const site = useBrowserNodes(engine, {
    env: { HAVEN_RATE_AUTH: '1000/60', HAVEN_RATE_REFRESH: '1000/60' },
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  /** Moves the clock (Date only; timers stay real) to `at`. */
  const setClock = (at: number) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at);
  };
  /** A refresh from our own page; keeps the cookies it sets. */
  async function refresh(jar: Jar) {
    const answer = await site.post('/api/auth/refresh', {}, { cookie: cookieHeader(jar) });
    if (answer.statusCode === 200) Object.assign(jar, cookiesOf(answer));
    return answer;
  }
  async function signIn(email: string) {
    await site.createUser(email, ['patient']);
    const started = Date.now();
    const answer = await site.passwordStep(email);
    expect(answer.statusCode).toBe(200);
    return { started, answer, jar: cookiesOf(answer) };
  }

  it('A6: a session left idle for 15 minutes ends, by default (stolen unattended session)', async () => {
    const { started, answer, jar } = await signIn('idle-default@example.org');
    const idle = Date.parse(answer.json<{ idleExpiresAt: string }>().idleExpiresAt) - started;
    expect(idle).toBeGreaterThan(15 * MINUTE - 10 * SECOND);
    expect(idle).toBeLessThanOrEqual(15 * MINUTE + 10 * SECOND);
    // Refreshing within the window keeps it alive...
    setClock(started + 14 * MINUTE);
    expect((await refresh(jar)).statusCode).toBe(200);
    // ...fifteen quiet minutes later it is over.
    setClock(started + 14 * MINUTE + 15 * MINUTE + 30 * SECOND);
    const late = await refresh(jar);
    expect(late.statusCode).toBe(401);
    expect(late.json<{ code: string }>().code).toBe('SESSION_EXPIRED');
  });

  it('A6: a session refreshed all along still ends 12 hours after sign-in, by default (endless session)', async () => {
    const { started, answer, jar } = await signIn('absolute-default@example.org');
    const absolute =
      Date.parse(answer.json<{ absoluteExpiresAt: string }>().absoluteExpiresAt) - started;
    expect(absolute).toBeGreaterThan(12 * HOUR - 10 * SECOND);
    expect(absolute).toBeLessThanOrEqual(12 * HOUR + 10 * SECOND);
    // Active use (a refresh every 14 minutes) carries the session to the 12-hour mark...
    for (let at = started + 14 * MINUTE; at < started + 12 * HOUR; at += 14 * MINUTE) {
      setClock(at);
      expect((await refresh(jar)).statusCode).toBe(200);
    }
    // ...and not a refresh beyond it (the last one was less than 14 minutes before).
    setClock(started + 12 * HOUR + 30 * SECOND);
    const after = await refresh(jar);
    expect(after.statusCode).toBe(401);
    expect(after.json<{ code: string }>().code).toBe('SESSION_EXPIRED');
  });
});
