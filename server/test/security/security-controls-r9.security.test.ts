// Step-up threats found by mutation round 9 (A9, R1): the step-up route is where a stolen
// session guesses MFA codes, so it must count in the strict 'auth' rate class, not the loose
// read class of its scope; and a token that belongs to no session (an app's or a machine's)
// must be refused there before any code is checked.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS, machineClientAuthorization } from '../actors.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';

describeEachEngine('security controls (round 9)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(engine, { env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_AUTH: '2/60' } });
  });
  afterAll(() => t.close());

  const stepUp = (authorization: string, remoteAddress: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/step-up',
      remoteAddress,
      headers: { authorization, 'content-type': 'application/json' },
      payload: { code: '123456' },
    });

  it('A9/step-up without a session: a token of no session is refused (403) before any code is checked', async () => {
    const machine = await machineClientAuthorization(t.app, ['account:read']); // no sid
    const res = await stepUp(machine, '192.0.2.91');
    expect(res.statusCode, res.body).toBe(403);
    // The access hook refuses it as a caller step-up does not serve (Z2), before the route's
    // own check for a session could.
    expect(res.json()).toMatchObject({
      code: 'FORBIDDEN',
      detail: 'This route is not open to machine clients.',
    });
  });

  it("R1/MFA guessing: step-up is in the strict 'auth' rate class, so the third try from one address within the window is 429", async () => {
    const machine = await machineClientAuthorization(t.app, ['account:read']);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await stepUp(machine, '192.0.2.92')).statusCode);
    expect(statuses).toEqual([403, 403, 429]);
    const row = t.app.routeTable.find((r) => r.method === 'POST' && r.path === '/api/auth/step-up');
    expect(row?.rateClass).toBe('auth');
  });

  it('A9/Z5 step-up declared: turning MFA off and minting new recovery codes need a fresh MFA check', () => {
    for (const [method, path] of [
      ['DELETE', '/api/account/mfa'],
      ['POST', '/api/account/mfa/recovery-codes'],
    ] as const) {
      const row = t.app.routeTable.find((r) => r.method === method && r.path === path);
      expect(row, `${method} ${path}`).toBeDefined();
      expect(row?.stepUp, `${method} ${path}`).toBe(true);
    }
  });
});
