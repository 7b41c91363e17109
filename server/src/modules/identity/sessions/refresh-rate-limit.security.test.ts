// R1 for session refresh: every page load of the SPA refreshes, so refresh has its own class
// counted per session (the session id in the refresh cookie, vouched for by an HMAC tag), not
// the sign-in class counted per address. A clinic behind one NAT reloads freely; one session
// is still bounded; and a refresh that names no session the server signed (no cookie, a bare
// token, a made-up session id) is counted per address at the strict auth limit.
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { TestApp } from '../../../../test/app-harness.js';
import {
  PASSWORD,
  cookieHeader,
  cookiesOf,
  useBrowserNodes,
  type Jar,
} from '../../../../test/browsers.js';
import { describeEachEngine } from '../../../../test/databases.js';
import { REFRESH_COOKIE, createRefreshCookies } from './browser-credentials.js';

describeEachEngine('refresh rate limiting', (engine) => {
  const site = useBrowserNodes(engine, {
    nodes: [
      { HAVEN_RATE_AUTH: '3/60', HAVEN_RATE_REFRESH: '25/60' },
      { HAVEN_RATE_AUTH: '1000/60', HAVEN_RATE_REFRESH: '4/60' },
    ],
  });
  /** Sign-in held to 3 per address a minute; refresh at 25 per session. */
  let strict: TestApp;
  /** Sign-in unlimited in practice; refresh at 4 per session, to reach the limit quickly. */
  let tight: TestApp;
  let origin: string;
  let email: string;

  beforeAll(async () => {
    [strict, tight] = site.nodes as [TestApp, TestApp];
    origin = site.origin;
    email = `refresh-rate-${randomUUID()}@example.org`;
    await site.createUser(email, ['patient'], { displayName: 'Reloading Clinician' });
  });

  const signIn = (t: TestApp, remoteAddress: string, password = PASSWORD) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/session',
      remoteAddress,
      headers: { origin },
      payload: { email, password },
    });
  const session = async (t: TestApp, remoteAddress: string): Promise<Jar> => {
    const response = await signIn(t, remoteAddress);
    expect(response.statusCode).toBe(200);
    return cookiesOf(response);
  };
  const refresh = (t: TestApp, remoteAddress: string, jar: Jar) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/refresh',
      remoteAddress,
      headers: { origin, ...(Object.keys(jar).length > 0 ? { cookie: cookieHeader(jar) } : {}) },
      payload: {},
    });
  /** Refreshes `times` times in a row, carrying the rotated cookies; returns the statuses. */
  const refreshRepeatedly = async (t: TestApp, remoteAddress: string, jar: Jar, times: number) => {
    const codes: number[] = [];
    for (let i = 0; i < times; i++) {
      const response = await refresh(t, remoteAddress, jar);
      codes.push(response.statusCode);
      if (response.statusCode === 200) Object.assign(jar, cookiesOf(response));
    }
    return codes;
  };

  it('R1/shared NAT: 20 refreshes of one session from one address pass, while sign-in from that address is held to the auth class', async () => {
    const clinic = '203.0.113.10';
    const jar = await session(strict, clinic); // 1 of the 3 sign-ins
    expect(await refreshRepeatedly(strict, clinic, jar, 20)).toEqual(Array(20).fill(200));
    // Sign-in keeps its own strict per-address counter: the 4th attempt is refused.
    expect((await signIn(strict, clinic, 'not the password 1')).statusCode).toBe(401);
    expect((await signIn(strict, clinic, 'not the password 2')).statusCode).toBe(401);
    const refused = await signIn(strict, clinic);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'RATE_LIMITED' });
    // ... and that did not spend the session's refresh budget either.
    expect((await refresh(strict, clinic, jar)).statusCode).toBe(200);
  });

  it('R1/per session: one session is limited on its own (429 with Retry-After), another session behind the same address is not', async () => {
    const clinic = '203.0.113.20';
    const first = await session(tight, clinic);
    const second = await session(tight, clinic);
    expect(await refreshRepeatedly(tight, clinic, first, 5)).toEqual([200, 200, 200, 200, 429]);
    const limited = await refresh(tight, clinic, first);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // The refusal came before the handler: the cookies were neither rotated nor cleared.
    expect(limited.cookies).toEqual([]);
    expect(await refreshRepeatedly(tight, clinic, second, 4)).toEqual([200, 200, 200, 200]);
  });

  it('R1/dodging: refreshes with no cookie, a bare token or a made-up session id count per address at the auth limit', async () => {
    const attacker = '198.51.100.30';
    const made = createRefreshCookies(randomBytes(32)); // a key that is not the server's
    const tokens: Jar[] = [
      {}, // no cookie
      { [REFRESH_COOKIE]: randomBytes(32).toString('base64url') }, // no session prefix
      { [REFRESH_COOKIE]: made.encode(randomUUID(), randomBytes(32).toString('base64url')) },
      { [REFRESH_COOKIE]: made.encode(randomUUID(), randomBytes(32).toString('base64url')) },
      { [REFRESH_COOKIE]: `${randomUUID()}.${'A'.repeat(22)}.${randomBytes(8).toString('hex')}` },
    ];
    const codes: number[] = [];
    for (const jar of tokens) codes.push((await refresh(strict, attacker, jar)).statusCode);
    expect(codes).toEqual([401, 401, 401, 429, 429]);

    // A genuine session behind that address keeps its own budget (signed in elsewhere).
    const jar = await session(strict, '198.51.100.31');
    expect(await refreshRepeatedly(strict, attacker, jar, 3)).toEqual([200, 200, 200]);

    // A real session id under a forged tag is still made up.
    const [sessionId = ''] = (jar[REFRESH_COOKIE] ?? '').split('.');
    const forged = made.encode(sessionId, randomBytes(32).toString('base64url'));
    const another = '198.51.100.32';
    const forgedCodes: number[] = [];
    for (let i = 0; i < 4; i++) {
      forgedCodes.push((await refresh(strict, another, { [REFRESH_COOKIE]: forged })).statusCode);
    }
    expect(forgedCodes).toEqual([401, 401, 401, 429]);
  });

  it('A6: the refresh cookie carries a vouched session id; a bare token (cookie from before the prefix) still refreshes', async () => {
    const jar = await session(tight, '203.0.113.40');
    const value = jar[REFRESH_COOKIE] ?? '';
    const { sessionId, token } = createRefreshCookies(Buffer.from(site.masterKey, 'base64')).decode(
      value,
    );
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    const row = await site.database.db
      .selectFrom('sessions')
      .select('id')
      .where('id', '=', sessionId ?? '')
      .executeTakeFirst();
    expect(row?.id).toBe(sessionId);
    const bare = await refresh(tight, '203.0.113.40', { [REFRESH_COOKIE]: token ?? '' });
    expect(bare.statusCode).toBe(200);
  });
});
