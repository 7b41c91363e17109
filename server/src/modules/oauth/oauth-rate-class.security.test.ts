// R1/A12: the OAuth endpoints that check a client secret are counted in the strict `auth` rate
// class, as sign-in is. Every other class is set far above it here, so the number of attempts
// one address gets per window names the class the endpoints are really counted in: were the
// token endpoint moved to a lenient class, a secret could be guessed at the read budget.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS, callAs, createActor } from '../../../test/actors.js';
import { createTestApp, type TestApp } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';

const AUTH_LIMIT = 4;

describeEachEngine('A12 OAuth rate class', (engine) => {
  let t: TestApp;
  let clientId: string;

  beforeAll(async () => {
    t = await createTestApp(engine, {
      env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_AUTH: `${AUTH_LIMIT}/60` },
    });
    const admin = await createActor(t.app, ['admin']);
    const created = await callAs(t.app, admin, 'POST', '/api/admin/oauth-clients', {
      name: 'Rate class probe',
      scopes: ['audit:read'],
    });
    expect(created.statusCode).toBe(201);
    clientId = created.json<{ client: { clientId: string } }>().client.clientId;
  });
  afterAll(() => t.close());

  /** A guess at the client's secret from `address`, at one of the secret-checking endpoints. */
  const guess = (address: string, url: string, extra: string) =>
    t.app.inject({
      method: 'POST',
      url,
      remoteAddress: address,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:guessed-secret`).toString('base64')}`,
      },
      payload: extra,
    });
  const tokenGuess = (address: string) =>
    guess(address, '/oauth/token', 'grant_type=client_credentials&scope=audit%3Aread');
  const introspectionGuess = (address: string) =>
    guess(address, '/oauth/token/introspection', 'token=not-a-token');
  const revocationGuess = (address: string) =>
    guess(address, '/oauth/token/revocation', 'token=not-a-token');

  it('A12/R1 secret guessing: one address gets exactly the auth limit of token requests per window, then 429', async () => {
    expect(t.config.rateLimits.auth.max).toBe(AUTH_LIMIT);
    for (const [name, rule] of Object.entries(t.config.rateLimits)) {
      if (name !== 'auth') expect(rule.max, name).toBeGreaterThan(100 * AUTH_LIMIT);
    }
    const guesser = '198.51.100.21';
    const answers = [];
    for (let attempt = 0; attempt <= AUTH_LIMIT; attempt++) answers.push(await tokenGuess(guesser));
    expect(answers.map((a) => a.statusCode)).toEqual([...Array(AUTH_LIMIT).fill(401), 429]);
    expect(Number(answers[AUTH_LIMIT]!.headers['retry-after'])).toBeGreaterThan(0);
    expect((await tokenGuess('198.51.100.22')).statusCode).toBe(401);
  });

  it('A12/R1: the token, introspection and revocation endpoints share one auth budget, so guesses cannot alternate between them', async () => {
    const guesser = '198.51.100.23';
    expect((await tokenGuess(guesser)).statusCode).toBe(401);
    expect((await introspectionGuess(guesser)).statusCode).toBe(401);
    expect((await revocationGuess(guesser)).statusCode).toBe(401);
    expect((await tokenGuess(guesser)).statusCode).toBe(401);
    expect((await introspectionGuess(guesser)).statusCode).toBe(429);
    expect((await revocationGuess(guesser)).statusCode).toBe(429);
  });
});
