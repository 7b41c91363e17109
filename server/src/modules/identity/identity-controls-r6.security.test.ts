// Identity controls a sixth mutation hunt found no test for: the attributes of the cookies that
// end a session (A5: a __Host- cookie cleared without Secure and Path=/ is ignored by browsers,
// so the old token stays in the jar), and a reset link used by two submissions at once (A10:
// the atomic consume, not the earlier peek, decides which one sets the password).
import type { LightMyRequestResponse } from 'fastify';
import { expect, it } from 'vitest';
import { NEW_PASSWORD, PASSWORD, cookieHeader, useBrowserNodes } from '../../../test/browsers.js';
import { describeEachEngine } from '../../../test/databases.js';
import { HavenError } from '../../platform/errors.js';
import { CSRF_HEADER } from './sessions/browser-credentials.js';
import { completePasswordReset } from './passwords/service.js';

const REQUEST = { requestId: 'r6-request', clientAddress: '127.0.0.1' };

describeEachEngine('identity controls (round 6)', (engine) => {
  const site = useBrowserNodes(engine, { env: { HAVEN_RATE_AUTH: '1000/60' } });

  /** Every cookie the answer sets must be one a browser accepts under the __Host- prefix. */
  function expectHostCookies(response: LightMyRequestResponse, label: string): void {
    expect(response.cookies.length, label).toBeGreaterThan(0);
    for (const cookie of response.cookies) {
      const name = `${label}: ${cookie.name}`;
      expect(cookie.name, name).toMatch(/^__Host-/);
      expect(cookie, name).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
        path: '/',
      });
      expect(cookie.domain, name).toBeUndefined();
    }
  }

  it('A5/cleared cookies: sign-out and a refused refresh clear the cookies with the same __Host- attributes they were set with', async () => {
    await site.createUser('r6-cookies@example.org', ['patient']);
    const signedIn = await site.passwordStep('r6-cookies@example.org');
    expect(signedIn.statusCode).toBe(200);
    expectHostCookies(signedIn, 'sign-in');
    const jar = Object.fromEntries(signedIn.cookies.map((c) => [c.name, c.value]));

    const refreshed = await site.post('/api/auth/refresh', {}, { cookie: cookieHeader(jar) });
    expect(refreshed.statusCode).toBe(200);
    // The rotated-away refresh token again: refused, and both cookies are cleared.
    const replayed = await site.post('/api/auth/refresh', {}, { cookie: cookieHeader(jar) });
    expect(replayed.statusCode).toBe(401);
    expectHostCookies(replayed, 'refused refresh');
    for (const cookie of replayed.cookies) expect(cookie.maxAge, cookie.name).toBe(0);

    const fresh = await site.passwordStep('r6-cookies@example.org');
    const out = await site.node.app.inject({
      method: 'DELETE',
      url: '/api/auth/session',
      headers: {
        origin: site.origin,
        cookie: cookieHeader(Object.fromEntries(fresh.cookies.map((c) => [c.name, c.value]))),
        [CSRF_HEADER]: fresh.json<{ csrfToken: string }>().csrfToken,
      },
    });
    expect(out.statusCode).toBe(200);
    expectHostCookies(out, 'sign-out');
    for (const cookie of out.cookies) {
      expect(cookie.maxAge, cookie.name).toBe(0);
      expect(cookie.value, cookie.name).toBe('');
    }
  });

  it('A10/single use under a race: of two submissions of one reset link at the same moment, exactly one sets a password', async () => {
    const email = 'r6-reset-race@example.org';
    await site.createUser(email, ['patient']);
    expect((await site.post('/api/auth/password-reset', { email })).statusCode).toBe(202);
    const token = await site.linkToken(email);

    const identity = site.node.app.identity!;
    const real = identity.services.hashing;
    // Both submissions have read the link as live (the peek) before either consumes it: each
    // waits in the password hashing until the other has reached it too.
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothArrived = new Promise<void>((resolve) => {
      release = resolve;
    });
    const hashing = {
      ...real,
      hash: async (password: string) => {
        arrived += 1;
        if (arrived === 2) release();
        await bothArrived;
        return real.hash(password);
      },
    };
    const services = { ...identity.services, hashing };
    const passwords = [NEW_PASSWORD, 'a different passphrase chosen by the other tab 41'];
    const outcomes = await Promise.allSettled(
      passwords.map((newPassword) =>
        completePasswordReset(identity.context, services, { token, newPassword }, REQUEST),
      ),
    );
    expect(arrived).toBe(2);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(HavenError);
    expect((lost[0]!.reason as HavenError).code).toBe('NOT_FOUND');

    // The password that won signs in; the loser's and the old one do not.
    const winner = passwords[outcomes.findIndex((o) => o.status === 'fulfilled')]!;
    const loser = passwords.find((p) => p !== winner)!;
    expect((await site.passwordStep(email, { password: winner })).statusCode).toBe(200);
    expect((await site.passwordStep(email, { password: loser })).statusCode).toBe(401);
    expect((await site.passwordStep(email, { password: PASSWORD })).statusCode).toBe(401);
  });
});
