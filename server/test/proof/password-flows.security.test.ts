// A2 on every flow that sets a password, over HTTP against the real app: first-admin setup,
// invitation acceptance (an admin's invitation and a clinic's portal invitation), self sign-up,
// password reset and password change. Each refuses a short, a common, a weak, a personal and a
// breached password with 400 PASSWORD_REJECTED naming its field and the rule it broke, keeps its
// link usable, and then accepts an unrelated strong password. The breach check answers from a
// local stand-in for the HaveIBeenPwned range API.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../app-harness.js';
import {
  GENEROUS_RATE_LIMITS,
  createActor,
  createOrganization,
  mintSession,
  type Actor,
} from '../actors.js';
import { describeEachEngine } from '../databases.js';
import { createOutboundClient, type OutboundClient } from '../../src/platform/http-client.js';
import { listDevMailbox } from '../../src/platform/mail.js';
import { ensureSetupLink } from '../../src/modules/identity/index.js';
import { PASSWORD, insertAccount } from './sign-in-kit.js';

const DISPLAY_NAME = 'Maria Gonzalez';
const STRONG = 'quiet lantern orbits the velvet harbor 93';
/** Strong by every offline rule; only the breach stand-in knows it. */
const BREACHED = 'ember gravel tandem oboe 1987';
/** Each password no flow may set, with the words its refusal must use. */
const REFUSED: ReadonlyArray<readonly [kind: string, password: string, says: RegExp]> = [
  ['too short', 'Tr0ub4dor&3', /at least 12 characters/],
  ['common', 'qwerty123456', /most commonly used/],
  ['weak', 'abcdabcdabcd1', /easy to guess/],
  ['personal', 'MariaGonzalez2024!', /your name, your email address/],
  ['breached', BREACHED, /data breach/],
];
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex').toUpperCase();

/** A range API that lists BREACHED (and a few decoys) under every prefix. */
async function startBreachStandIn(): Promise<{ server: Server; port: number }> {
  const server = createServer((_request, response) => {
    const decoys = [1, 2, 3].map((i) => `${sha1(`decoy ${i}`).slice(5)}:${i}`);
    response.end([...decoys, `${sha1(BREACHED).slice(5)}:42`].join('\r\n'));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, port: (server.address() as AddressInfo).port };
}

describeEachEngine('A2 on every flow that sets a password', (engine) => {
  let t: TestApp;
  let origin: string;
  let standIn: { server: Server; port: number };
  const clients: OutboundClient[] = [];

  /**
   * Points the app's configured policy at the stand-in. The configuration only takes a public
   * https URL (SSRF guard), so the test widens the client here, as no deployment can.
   */
  function checkBreachesAgainstStandIn(app: TestApp) {
    const client = createOutboundClient({
      allowHosts: ['hibp.test'],
      allowHttp: true,
      allowPrivateCidrs: ['127.0.0.1/32'],
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    clients.push(client);
    app.app.identity!.services.passwordPolicy.breachCheck = {
      baseUrl: `http://hibp.test:${standIn.port}`,
      client,
    };
  }

  beforeAll(async () => {
    standIn = await startBreachStandIn();
    t = await createTestApp(engine, {
      env: { ...GENEROUS_RATE_LIMITS, HAVEN_SELF_SIGNUP: 'true' },
    });
    origin = t.config.publicOrigin;
    checkBreachesAgainstStandIn(t);
  });
  afterAll(async () => {
    await t.close();
    for (const client of clients) await client.close();
    standIn.server.closeAllConnections();
    await new Promise<void>((done) => standIn.server.close(() => done()));
  });

  const mariasEmail = () => `maria.gonzalez.${randomUUID().slice(0, 8)}@gonzalez-family.org`;
  const post = (app: TestApp, url: string, payload: object, headers: Record<string, string> = {}) =>
    app.app.inject({ method: 'POST', url, headers: { origin, ...headers }, payload });

  /** The link token of the newest mail to `to` opening `page`; mail may trail the answer. */
  async function linkToken(to: string, page: string): Promise<string> {
    const pattern = new RegExp(`/${page}#token=([A-Za-z0-9_-]+)`);
    for (let i = 0; i < 200; i++) {
      const mail = (await listDevMailbox(t.config.dataDir)).find((m) => m.to === to);
      const token = mail && pattern.exec(mail.text)?.[1];
      if (token) return token;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no ${page} link mailed to ${to}`);
  }

  /** Every refused password is refused on `submit`, naming `field`; then STRONG is accepted. */
  async function expectPolicyOn(
    submit: (password: string) => Promise<LightMyRequestResponse>,
    field: 'password' | 'newPassword',
    accepted: number,
  ): Promise<LightMyRequestResponse> {
    for (const [kind, password, says] of REFUSED) {
      const answer = await submit(password);
      expect(answer.statusCode, kind).toBe(400);
      expect(answer.headers['content-type'], kind).toMatch(/^application\/problem\+json/);
      const problem = answer.json<{
        code: string;
        errors: Array<{ field: string; message: string }>;
      }>();
      expect(problem.code, kind).toBe('PASSWORD_REJECTED');
      expect(problem.errors, kind).toEqual([{ field, message: expect.stringMatching(says) }]);
      expect(JSON.stringify(problem), kind).not.toContain(password);
    }
    const answer = await submit(STRONG);
    expect(answer.statusCode, answer.body).toBe(accepted);
    return answer;
  }

  it('A2/setup link: the first admin cannot be created with a short, common, weak, personal or breached password', async () => {
    // Setup only runs while there are no users: an app of its own on an empty database.
    const empty = await createTestApp(engine, { env: GENEROUS_RATE_LIMITS });
    try {
      checkBreachesAgainstStandIn(empty);
      const link = await ensureSetupLink(empty.app.identity!);
      const token = /#token=([A-Za-z0-9_-]+)/.exec(link ?? '')?.[1] ?? '';
      const email = mariasEmail();
      const setUp = (password: string) =>
        post(empty, '/api/onboarding/setup', { token, email, displayName: DISPLAY_NAME, password });
      const done = await expectPolicyOn(setUp, 'password', 200);
      expect(done.json()).toEqual({ status: 'mfa_enrollment_required' });
    } finally {
      await empty.close();
    }
  });

  it("A2/invitation: an admin's invitation cannot be accepted with a short, common, weak, personal or breached password", async () => {
    const admin = await createActor(t.app, ['admin']);
    const email = mariasEmail();
    const invited = await post(
      t,
      '/api/admin/invitations',
      { email, role: 'patient' },
      { authorization: admin.authorization },
    );
    expect(invited.statusCode, invited.body).toBe(201);
    const token = await linkToken(email, 'invite');
    const accept = (password: string) =>
      post(t, '/api/onboarding/invitations/accept', { token, displayName: DISPLAY_NAME, password });
    const done = await expectPolicyOn(accept, 'password', 200);
    expect(done.json()).toMatchObject({ status: 'signed_in' });
  });

  it('A2/portal invitation: a patient invited by their clinic cannot accept with a short, common, weak, personal or breached password', async () => {
    const clinician: Actor = await createActor(t.app, ['clinician']);
    await createOrganization(t.database.db, {
      members: [{ userId: clinician.userId, role: 'clinician' }],
    });
    const patient = await post(
      t,
      '/api/patients',
      {
        mrn: `A2-${randomUUID().slice(0, 8)}`,
        givenName: 'Maria',
        familyName: 'Gonzalez',
        birthDate: '1987-03-14',
        sex: 'female',
      },
      { authorization: clinician.authorization },
    );
    expect(patient.statusCode, patient.body).toBe(201);
    const patientId = patient.json<{ patient: { id: string } }>().patient.id;
    const email = mariasEmail();
    const invited = await post(
      t,
      `/api/patients/${patientId}/portal-invitation`,
      { email },
      { authorization: clinician.authorization },
    );
    expect(invited.statusCode, invited.body).toBe(201);
    const token = await linkToken(email, 'invite');
    const accept = (password: string) =>
      post(t, '/api/onboarding/invitations/accept', { token, displayName: DISPLAY_NAME, password });
    const done = await expectPolicyOn(accept, 'password', 200);
    expect(done.json()).toMatchObject({ status: 'signed_in' });
  });

  it('A2/self sign-up: a patient cannot register with a short, common, weak, personal or breached password', async () => {
    const email = mariasEmail();
    const signUp = (password: string) =>
      post(t, '/api/onboarding/signup', { email, displayName: DISPLAY_NAME, password });
    const done = await expectPolicyOn(signUp, 'password', 202);
    expect(done.json()).toEqual({ status: 'verification_sent' });
  });

  it('A2/password reset: a reset link cannot set a short, common, weak, personal or breached password', async () => {
    const email = mariasEmail();
    await insertAccount(t.database.db, { email, roles: ['patient'], displayName: DISPLAY_NAME });
    expect((await post(t, '/api/auth/password-reset', { email })).statusCode).toBe(202);
    const token = await linkToken(email, 'reset-password');
    const reset = (newPassword: string) =>
      post(t, '/api/auth/password-reset/complete', { token, newPassword });
    const done = await expectPolicyOn(reset, 'newPassword', 200);
    expect(done.json()).toEqual({ status: 'password_changed' });
  });

  it('A2/password change: a signed-in user cannot change to a short, common, weak, personal or breached password', async () => {
    const email = mariasEmail();
    const account = await insertAccount(t.database.db, {
      email,
      roles: ['patient'],
      displayName: DISPLAY_NAME,
    });
    const session = await mintSession(t.app, { userId: account.id, email, roles: ['patient'] });
    const change = (newPassword: string) =>
      post(
        t,
        '/api/account/password',
        { currentPassword: PASSWORD, newPassword },
        { authorization: session.authorization },
      );
    const done = await expectPolicyOn(change, 'newPassword', 200);
    expect(done.json()).toEqual({ revokedSessions: 0 });
  });
});
