// A2 over HTTP: every route that sets a password refuses one made of the user's own name or
// email with only a year, digits or symbols added ("MariaGonzalez2024!"), which zxcvbn alone
// rated strong, and says which rule it broke without repeating the password or the name.
// An unrelated strong password still passes on each route.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { createTestApp, type TestApp } from '../../../../test/app-harness.js';
import { mintSession } from '../../../../test/actors.js';
import {
  createTestDatabase,
  describeEachEngine,
  type TestDatabase,
} from '../../../../test/databases.js';
import { listDevMailbox } from '../../../platform/mail.js';
import { inviteUser } from '../onboarding/service.js';
import { MINIMUM_HASHING, hashPassword } from './hashing.js';

const PASSWORD = 'correct horse battery staple 42';
const UNRELATED = 'quiet lantern orbits the velvet harbor 93';
const MASTER_KEY = randomBytes(32).toString('base64');
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
  let database: TestDatabase;
  let node: TestApp;
  let origin: string;
  let adminId: string;

  /** A unique address of Maria's: local part and domain are hers as well. */
  const mariasEmail = () => `maria.gonzalez.${randomUUID().slice(0, 8)}@gonzalez-family.org`;

  async function createUser(email: string, displayName: string): Promise<string> {
    const row = await database.db
      .insertInto('users')
      .values({
        email,
        email_normalized: email.toLowerCase(),
        display_name: displayName,
        roles: ['patient'],
        status: 'active',
        password_hash: await hashPassword(PASSWORD, MINIMUM_HASHING),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  beforeAll(async () => {
    database = await createTestDatabase(engine);
    node = await createTestApp(engine, {
      database,
      env: { HAVEN_MASTER_KEY: MASTER_KEY, HAVEN_RATE_AUTH: '1000/60', HAVEN_SELF_SIGNUP: 'true' },
    });
    origin = node.config.publicOrigin;
    adminId = await createUser(`admin-${randomUUID()}@example.org`, 'Admin');
  });
  afterAll(async () => {
    await node?.close();
    await database?.close();
  });

  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    node.app.inject({ method: 'POST', url, headers: { origin, ...headers }, payload });

  /** The link token of the newest mail to `to` that opens `page`; mail may trail the answer. */
  async function linkToken(to: string, page: string): Promise<string> {
    const pattern = new RegExp(`/${page}#token=([A-Za-z0-9_-]+)`);
    for (let i = 0; i < 120; i++) {
      const mail = (await listDevMailbox(node.config.dataDir)).find((m) => m.to === to);
      const token = mail && pattern.exec(mail.text)?.[1];
      if (token) return token;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no ${page} link mailed to ${to}`);
  }

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
    await inviteUser(node.app.identity!.context, {
      email,
      role: 'patient',
      invitedBy: adminId,
      ...REQUEST,
    });
    const token = await linkToken(email, 'invite');
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
    const { authorization } = await mintSession(node.app, { userId, email, roles: ['patient'] });
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
    const token = await linkToken(email, 'reset-password');
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
