// A5/A8: every answer that starts, renews or ends a session names each cookie once. Fastify
// appends to a set-cookie header already set, so re-sending the cookies set so far with each
// new one repeated them: a password sign-in answered access, access, refresh; the MFA step
// seven cookies for three names. Browsers keep the last of each, but a proxy or client that
// keeps the first would hold a cleared or stale credential, and the answer reads as broken.
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import {
  NEW_PASSWORD,
  cookieHeader,
  cookiesOf,
  useBrowserNodes,
  type Jar,
} from '../../../../test/browsers.js';
import { describeEachEngine } from '../../../../test/databases.js';
import type { Role } from '../../../platform/db/schema.js';
import { inviteUser } from '../onboarding/service.js';
import {
  ACCESS_COOKIE,
  CSRF_HEADER,
  MFA_PENDING_COOKIE,
  REFRESH_COOKIE,
} from './browser-credentials.js';

const REQUEST = { requestId: 'test-request', clientAddress: '127.0.0.1' };

/** The cookie names of every set-cookie header of the answer, in order, repeats kept. */
function setCookieNames(response: LightMyRequestResponse): string[] {
  const header = response.headers['set-cookie'];
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return lines.map((line) => line.slice(0, line.indexOf('=')));
}

/** Asserts the answer sets exactly these cookies, each once. */
function expectEachCookieOnce(response: LightMyRequestResponse, names: string[]): void {
  expect([...setCookieNames(response)].sort()).toEqual([...names].sort());
}

describeEachEngine('set-cookie', (engine) => {
  const site = useBrowserNodes(engine, { env: { HAVEN_RATE_AUTH: '1000/60' } });
  let adminId: string;

  async function createUser(roles: Role[]): Promise<{ id: string; email: string }> {
    const email = `cookies-${randomUUID()}@example.org`;
    return { id: await site.createUser(email, roles, { displayName: 'Cookie Tester' }), email };
  }

  beforeAll(async () => {
    adminId = (await createUser(['admin'])).id;
  });

  const post = (url: string, payload: object, jar: Jar = {}) =>
    site.post(url, payload, { cookie: cookieHeader(jar) });
  const signIn = async (roles: Role[]) => site.passwordStep((await createUser(roles)).email);

  /** An invitation to `role`, accepted: the invitee's email and the accept route's answer. */
  async function acceptInvitation(role: Role) {
    const email = `invitee-${randomUUID()}@example.org`;
    await inviteUser(site.node.app.identity!.context, {
      email,
      role,
      invitedBy: adminId,
      ...REQUEST,
    });
    const accepted = await post('/api/onboarding/invitations/accept', {
      token: await site.linkToken(email, { page: 'invite' }),
      displayName: 'Invited Person',
      password: NEW_PASSWORD,
    });
    return { email, accepted };
  }

  it('password sign-in sets the access and refresh cookies once each', async () => {
    const response = await signIn(['patient']);
    expect(response.statusCode).toBe(200);
    expectEachCookieOnce(response, [ACCESS_COOKIE, REFRESH_COOKIE]);
  });

  it('refresh sets each cookie once; a refused refresh clears each once', async () => {
    const signedIn = await signIn(['patient']);
    const refreshed = await post('/api/auth/refresh', {}, cookiesOf(signedIn));
    expect(refreshed.statusCode).toBe(200);
    expectEachCookieOnce(refreshed, [ACCESS_COOKIE, REFRESH_COOKIE]);
    // The rotated-away token again: refused, and both cookies are cleared.
    const replayed = await post('/api/auth/refresh', {}, cookiesOf(signedIn));
    expect(replayed.statusCode).toBe(401);
    expectEachCookieOnce(replayed, [ACCESS_COOKIE, REFRESH_COOKIE]);
  });

  it('sign-out clears the access and refresh cookies once each', async () => {
    const signedIn = await signIn(['patient']);
    const response = await site.node.app.inject({
      method: 'DELETE',
      url: '/api/auth/session',
      headers: {
        origin: site.origin,
        cookie: cookieHeader(cookiesOf(signedIn)),
        [CSRF_HEADER]: signedIn.json<{ csrfToken: string }>().csrfToken,
      },
    });
    expect(response.statusCode).toBe(200);
    expectEachCookieOnce(response, [ACCESS_COOKIE, REFRESH_COOKIE]);
  });

  it('invitation acceptance that signs in sets each cookie once', async () => {
    const { accepted: response } = await acceptInvitation('patient');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'signed_in' });
    expectEachCookieOnce(response, [ACCESS_COOKIE, REFRESH_COOKIE]);
  });

  it('MFA enrolment and the MFA sign-in step clear the pending cookie and set each cookie once', async () => {
    const { email, accepted } = await acceptInvitation('clinician');
    expect(accepted.json()).toMatchObject({ status: 'mfa_enrollment_required' });
    expectEachCookieOnce(accepted, [MFA_PENDING_COOKIE]);
    const pending = cookiesOf(accepted);
    const started = await post('/api/auth/mfa/enrollment', {}, pending);
    const { secret } = started.json<{ secret: string }>();
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    const confirmed = await post('/api/auth/mfa/enrollment/confirm', { code }, pending);
    expect(confirmed.statusCode).toBe(200);
    expectEachCookieOnce(confirmed, [MFA_PENDING_COOKIE, ACCESS_COOKIE, REFRESH_COOKIE]);

    // Signing in again: the password step sets the pending cookie, the MFA step (with a
    // recovery code: the enrolment's TOTP step is spent) clears it and starts the session.
    const passwordOk = await post('/api/auth/session', { email, password: NEW_PASSWORD });
    expect(passwordOk.json()).toMatchObject({ status: 'mfa_required' });
    expectEachCookieOnce(passwordOk, [MFA_PENDING_COOKIE]);
    const [recoveryCode] = confirmed.json<{ recoveryCodes: string[] }>().recoveryCodes;
    const secondFactor = await post('/api/auth/mfa', { recoveryCode }, cookiesOf(passwordOk));
    expect(secondFactor.statusCode).toBe(200);
    expectEachCookieOnce(secondFactor, [MFA_PENDING_COOKIE, ACCESS_COOKIE, REFRESH_COOKIE]);
  });
});
