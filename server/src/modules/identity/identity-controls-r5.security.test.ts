// Identity controls that had no test failing when they were removed (round 5 of the mutation
// survivors): the shape of the login backoff and the dummy verify of unknown accounts (A3), the
// algorithms a verifier accepts and the expiry of tokens it verified before (A4), and the
// sessions a user ends from their session list (A7). Each test shows the control's effect, with
// a check that the same steps succeed where the control does not apply.
import argon2 from 'argon2';
import { SignJWT, generateKeyPair, type CryptoKey, type KeyObject } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { describeEachEngine } from '../../../test/databases.js';
import { cookieHeader, useBrowserNodes, type Browser } from '../../../test/browsers.js';
import { createAccessTokenVerifier } from '../../platform/auth/jwt-authenticator.js';
import { MINIMUM_HASHING, createDummyVerifier } from './passwords/hashing.js';
import { BACKOFF_FROM_FAILURE, MAX_BACKOFF_MS, backoffDelayMs } from './sign-in/login-throttle.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

// Keys of the algorithms Haven signs with, and one it must never accept.
const ed = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
const es = await generateKeyPair('ES256');
const rsa = await generateKeyPair('RS256');

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('A3 login guessing (round 5)', () => {
  it('A3: from the fifth failure each further failure doubles the wait (guessing slows exponentially)', () => {
    expect(backoffDelayMs(BACKOFF_FROM_FAILURE - 1)).toBe(0);
    expect(backoffDelayMs(BACKOFF_FROM_FAILURE)).toBeGreaterThan(0);
    for (let failures = BACKOFF_FROM_FAILURE; failures < BACKOFF_FROM_FAILURE + 6; failures++) {
      expect(backoffDelayMs(failures + 1), `after ${failures + 1} failures`).toBe(
        2 * backoffDelayMs(failures),
      );
    }
  });

  it('A3: however many failures, the wait never exceeds 15 minutes (never a permanent lock)', () => {
    expect(MAX_BACKOFF_MS).toBe(15 * MINUTE);
    for (const failures of [25, 60, 500, 5_000]) {
      expect(backoffDelayMs(failures), `after ${failures} failures`).toBe(MAX_BACKOFF_MS);
    }
  });

  it('A3: a sign-in naming no account runs a real argon2id verify, as a wrong password does (account enumeration by timing)', async () => {
    const nobody = createDummyVerifier(MINIMUM_HASHING);
    const verify = vi.spyOn(argon2, 'verify');
    expect(await nobody('a guessed password')).toBe(false);
    // Compared, not timed: the work done is the same argon2id verify a known account gets.
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0]?.[0]).toMatch(/^\$argon2id\$/);
  });
});

describe('A4 access-token verification (round 5)', () => {
  const ISSUER = 'https://haven.test';
  const AUDIENCE = 'haven-api';
  const publicKeys: Record<string, CryptoKey | KeyObject> = {
    ed: ed.publicKey,
    es: es.publicKey,
    rsa: rsa.publicKey,
  };
  const verifier = () =>
    createAccessTokenVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      keyForKid: (kid) => Promise.resolve(publicKeys[kid]),
    });
  const token = (alg: string, kid: string, key: CryptoKey | KeyObject, expiresIn = '5m') =>
    new SignJWT({ sid: 'session-1', scope: 'account:read', amr: ['pwd'] })
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('user-1')
      .setIssuedAt()
      .setJti(`jti-${kid}-${alg}`)
      .setExpirationTime(expiresIn)
      .sign(key);

  it('A4: only EdDSA and ES256 verify, even when the key resolver holds a key of another algorithm (algorithm confusion)', async () => {
    const verify = verifier();
    await expect(
      verify(await token('RS256', 'rsa', rsa.privateKey), 'bearer'),
    ).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    // The pinned algorithms verify through the same resolver.
    await expect(
      verify(await token('EdDSA', 'ed', ed.privateKey), 'bearer'),
    ).resolves.toMatchObject({ subject: 'user-1' });
    await expect(
      verify(await token('ES256', 'es', es.privateKey), 'bearer'),
    ).resolves.toMatchObject({ subject: 'user-1' });
  });

  it('A4: a token verified before is refused once it expired (no replay from the verified-token cache)', async () => {
    const verify = verifier();
    const shortLived = await token('EdDSA', 'ed', ed.privateKey, '60s');
    await verify(shortLived, 'bearer');
    // Reused while alive: accepted again (from the cache).
    await expect(verify(shortLived, 'bearer')).resolves.toMatchObject({ subject: 'user-1' });
    const later = Date.now() + 2 * MINUTE;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(later);
    await expect(verify(shortLived, 'bearer')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describeEachEngine('A7 sessions a user ends (round 5)', (engine) => {
  const site = useBrowserNodes(engine, {
    env: { HAVEN_RATE_AUTH: '1000/60', HAVEN_RATE_SENSITIVE: '1000/60' },
  });

  /** GET /api/auth/me with the browser's cookies: 200 while its session lives. */
  const me = async (browser: Browser) =>
    (await site.call(browser, 'GET', '/api/auth/me')).statusCode;
  /** A refresh from our own page with the browser's cookies. */
  const refresh = (browser: Browser) =>
    site.post('/api/auth/refresh', {}, { cookie: cookieHeader(browser.jar) });

  it('A7: a session the user revokes from their session list is refused at once; theirs goes on', async () => {
    await site.createUser('session-list@example.org', ['patient']);
    const laptop = await site.signIn('session-list@example.org');
    const phone = await site.signIn('session-list@example.org');
    const listed = await site.call(laptop, 'GET', '/api/account/sessions');
    const { sessions } = listed.json<{ sessions: { id: string; current: boolean }[] }>();
    expect(sessions).toHaveLength(2);
    const lost = sessions.find((s) => !s.current);
    expect(lost).toBeDefined();
    expect(await me(phone)).toBe(200);

    const revoked = await site.call(laptop, 'DELETE', `/api/account/sessions/${lost!.id}`);
    expect(revoked.statusCode).toBe(200);
    expect((await refresh({ ...phone, jar: { ...phone.jar } })).statusCode).toBe(401);
    expect(await me(phone)).toBe(401);
    expect(await me(laptop)).toBe(200);
    const after = await site.call(laptop, 'GET', '/api/account/sessions');
    expect(after.json<{ sessions: { id: string }[] }>().sessions.map((s) => s.id)).not.toContain(
      lost!.id,
    );
  });

  it('A7: signing out everywhere else ends every other session of the user, and no one else’s', async () => {
    await site.createUser('everywhere@example.org', ['patient']);
    await site.createUser('bystander@example.org', ['patient']);
    const here = await site.signIn('everywhere@example.org');
    const others = [
      await site.signIn('everywhere@example.org'),
      await site.signIn('everywhere@example.org'),
    ];
    const bystander = await site.signIn('bystander@example.org');
    for (const other of others) expect(await me(other)).toBe(200);

    const ended = await site.call(here, 'DELETE', '/api/account/sessions');
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toEqual({ revoked: 2 });
    for (const other of others) {
      expect((await refresh({ ...other, jar: { ...other.jar } })).statusCode).toBe(401);
      expect(await me(other)).toBe(401);
    }
    expect(await me(here)).toBe(200);
    expect(await me(bystander)).toBe(200);
  });
});
