// A2 over HTTP: every route that sets a password refuses one made of the user's own name or
// email with only a year, digits or symbols added ("MariaGonzalez2024!"), which zxcvbn alone
// rated strong, and says which rule it broke without repeating the password or the name.
// An unrelated strong password still passes on each route.
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { mintSession } from '../../../../test/actors.js';
import { PASSWORD, useBrowserNodes } from '../../../../test/browsers.js';
import { describeEachEngine } from '../../../../test/databases.js';
import { inviteUser } from '../onboarding/service.js';

const UNRELATED = 'quiet lantern orbits the velvet harbor 93';
const REQUEST = { requestId: 'test-request', clientAddress: '127.0.0.1' };
const DISPLAY_NAME = 'Maria Gonzalez';
/** The user's name, email or "haven" plus years, digits, symbols and capitals only. */
const PERSONAL = [
  'MariaGonzalez2024!',
  'gonzalez1987!!!!',
  'Gonzalez-Maria-1987',
  'G0nzalez.M4ria.2024',
  'Haven-Gonzalez-2024',
];

describeEachEngine('personal passwords', (engine) => {
  const site = useBrowserNodes(engine, {
    env: { HAVEN_RATE_AUTH: '1000/60', HAVEN_SELF_SIGNUP: 'true' },
  });
  const { post, linkToken } = site;
  let adminId: string;

  /** A unique address of Maria's: local part and domain are hers as well. */
  const mariasEmail = () => `maria.gonzalez.${randomUUID().slice(0, 8)}@gonzalez-family.org`;
  const createUser = (email: string, displayName: string) =>
    site.createUser(email, ['patient'], { displayName });

  beforeAll(async () => {
    adminId = await createUser(`admin-${randomUUID()}@example.org`, 'Admin');
  });

  /** Refused by the personal-details rule, named by the field, without echoing the secrets. */
  function expectRefusedAsPersonal(
    response: LightMyRequestResponse,
    field: string,
    password: string,
  ): void {
    expect(response.statusCode, password).toBe(400);
    const body = response.json<{ code: string; message: string; errors: unknown[] }>();
    expect(body).toMatchObject({
      code: 'PASSWORD_REJECTED',
      errors: [{ field, message: expect.stringMatching(/your name, your email address/) }],
    });
    const text = JSON.stringify(body).toLowerCase();
    for (const secret of [password.toLowerCase(), 'maria', 'gonzalez']) {
      expect(text).not.toContain(secret);
    }
  }

  it('A2/sign-up: a password of the name plus a year is refused; an unrelated one is accepted', async () => {
    const email = mariasEmail();
    const signUp = (password: string) =>
      post('/api/onboarding/signup', { email, displayName: DISPLAY_NAME, password });
    for (const password of PERSONAL) {
      expectRefusedAsPersonal(await signUp(password), 'password', password);
    }
    // The email's own words count too, whatever the display name.
    const byEmail = await post('/api/onboarding/signup', {
      email,
      displayName: 'M. G.',
      password: 'GonzalezFamily2024!',
    });
    expect(byEmail.statusCode).toBe(400);
    expect((await signUp(UNRELATED)).statusCode).toBe(202);
  });

  it('A2/invitation: accepting with the name plus a year is refused; an unrelated one signs in', async () => {
    const email = mariasEmail();
    await inviteUser(site.node.app.identity!.context, {
      email,
      role: 'patient',
      invitedBy: adminId,
      ...REQUEST,
    });
    const token = await linkToken(email, { page: 'invite' });
    const accept = (password: string) =>
      post('/api/onboarding/invitations/accept', { token, displayName: DISPLAY_NAME, password });
    for (const password of PERSONAL) {
      expectRefusedAsPersonal(await accept(password), 'password', password);
    }
    const accepted = await accept(UNRELATED);
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ status: 'signed_in' });
  });

  it('A2/password change: the name plus a year is refused; an unrelated one is accepted', async () => {
    const email = mariasEmail();
    const userId = await createUser(email, DISPLAY_NAME);
    const { authorization } = await mintSession(site.node.app, {
      userId,
      email,
      roles: ['patient'],
    });
    const change = (newPassword: string) =>
      post('/api/account/password', { currentPassword: PASSWORD, newPassword }, { authorization });
    for (const password of PERSONAL) {
      expectRefusedAsPersonal(await change(password), 'newPassword', password);
    }
    const changed = await change(UNRELATED);
    expect(changed.statusCode).toBe(200);
  });

  it('A2/password reset: the name plus a year is refused and keeps the link; an unrelated one is accepted', async () => {
    const email = mariasEmail();
    await createUser(email, DISPLAY_NAME);
    expect((await post('/api/auth/password-reset', { email })).statusCode).toBe(202);
    const token = await linkToken(email, { page: 'reset-password' });
    const complete = (newPassword: string) =>
      post('/api/auth/password-reset/complete', { token, newPassword });
    for (const password of PERSONAL) {
      expectRefusedAsPersonal(await complete(password), 'newPassword', password);
    }
    const reset = await complete(UNRELATED);
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toEqual({ status: 'password_changed' });
  });
});
