// Onboarding over HTTP against the real app (A2, A9, A11): first-admin setup, invitations,
// MFA enrolment and self sign-up, with links read from the dev mailbox as a user would.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { Secret, TOTP } from 'otpauth';
import { createTestApp, type TestApp } from '../../../../test/app-harness.js';
import {
  PASSWORD,
  cookieHeader,
  cookiesOf,
  insertAccount,
  type Jar,
} from '../../../../test/proof/sign-in-kit.js';
import {
  createTestDatabase,
  describeEachEngine,
  useTestDatabase,
  type TestDatabase,
} from '../../../../test/databases.js';
import { sha256Hex } from '../../../platform/crypto.js';
import type { DatabaseSchema, Role } from '../../../platform/db/schema.js';
import type { Engine } from '../../../platform/db/database.js';
import { listDevMailbox } from '../../../platform/mail.js';
import { LINK_LIFETIMES_MS, issueOneTimeToken } from './one-time-tokens-repo.js';
import { inviteUser, resendInvitation } from './service.js';
import { SETUP_LOCK_KEY } from './repo.js';
import { ensureSetupLink } from './setup-link-service.js';

const MASTER_KEY = randomBytes(32).toString('base64');
const ENV = { HAVEN_MASTER_KEY: MASTER_KEY, HAVEN_RATE_AUTH: '1000/60' };
const REQUEST = { requestId: 'test-request', clientAddress: '127.0.0.1' };

const totpNow = (secret: string, offsetMs = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + offsetMs });
const wrongCode = (code: string) => String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');

describeEachEngine('onboarding', (engine: Engine) => {
  const database = useTestDatabase(engine);
  let nodeA: TestApp;
  let nodeB: TestApp;
  let signupNode: TestApp;
  let origin: string;
  let adminId: string;

  beforeAll(async () => {
    nodeA = await createTestApp(engine, { database, env: ENV });
    nodeB = await createTestApp(engine, { database, env: ENV });
    signupNode = await createTestApp(engine, {
      database,
      env: { ...ENV, HAVEN_SELF_SIGNUP: 'true' },
    });
    origin = nodeA.config.publicOrigin;
    adminId = await createUser('inviter@example.org', ['admin']);
  });
  afterAll(async () => {
    await nodeA.close();
    await nodeB.close();
    await signupNode.close();
  });

  async function createUser(email: string, roles: Role[], db = database): Promise<string> {
    return (await insertAccount(db.db, { email, roles, displayName: 'Existing User' })).id;
  }

  const post = (url: string, payload: object, jar: Jar = {}, app = nodeA, extra = {}) =>
    app.app.inject({
      method: 'POST',
      url,
      headers: { origin, cookie: cookieHeader(jar), ...extra },
      payload,
    });
  const signIn = (email: string, password = PASSWORD) =>
    post('/api/auth/session', { email, password });

  /** The token from the newest mail to `to` whose link opens `page`. */
  async function linkTokenFor(app: TestApp, to: string, page: string): Promise<string> {
    const mail = (await listDevMailbox(app.config.dataDir)).find((m) => m.to === to);
    const match = mail && new RegExp(`${origin}/${page}#token=([A-Za-z0-9_-]+)`).exec(mail.text);
    if (!match?.[1]) throw new Error(`no ${page} link mailed to ${to}`);
    return match[1];
  }

  async function invite(email: string, role: Role, displayName?: string): Promise<string> {
    const identity = nodeA.app.identity!;
    await inviteUser(identity.context, {
      email,
      role,
      displayName,
      invitedBy: adminId,
      ...REQUEST,
    });
    return linkTokenFor(nodeA, email, 'invite');
  }

  /** Enrols through the pending cookie: returns the seed and the confirmation answer. */
  async function enrol(pending: Jar, app = nodeA) {
    const started = await post('/api/auth/mfa/enrollment', {}, pending, app);
    expect(started.statusCode).toBe(200);
    const { secret, otpauthUri, qrSvg } = started.json<{
      secret: string;
      otpauthUri: string;
      qrSvg: string;
    }>();
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Haven:/);
    expect(qrSvg).toContain('<svg');
    const code = totpNow(secret);
    const confirmed = await post('/api/auth/mfa/enrollment/confirm', { code }, pending, app);
    return { secret, code, confirmed };
  }

  it('A8/login CSRF: every onboarding and pending-enrolment route refuses another origin', async () => {
    const token = 'A'.repeat(43);
    const person = { displayName: 'Mallory', password: PASSWORD };
    const attempts: Array<[TestApp, string, object]> = [
      [nodeA, '/api/onboarding/setup', { token, email: 'mallory@example.org', ...person }],
      [nodeA, '/api/onboarding/invitations/inspect', { token }],
      [nodeA, '/api/onboarding/invitations/accept', { token, ...person }],
      [signupNode, '/api/onboarding/signup', { email: 'mallory@example.org', ...person }],
      [signupNode, '/api/onboarding/signup/verify', { token }],
      [nodeA, '/api/auth/mfa/enrollment', {}],
      [nodeA, '/api/auth/mfa/enrollment/confirm', { code: '123456' }],
    ];
    for (const [app, url, payload] of attempts) {
      const response = await post(url, payload, {}, app, { origin: 'https://evil.example' });
      expect([url, response.statusCode, response.json()]).toMatchObject([
        url,
        403,
        { code: 'CSRF_FAILED' },
      ]);
    }
  });

  // -------------------------------------------------------------------------------------------
  // First admin (runs on its own empty databases)

  /** The token of the setup link the node issues at its first start. */
  async function firstSetupToken(app: TestApp): Promise<string> {
    return (await ensureSetupLink(app.app.identity!.context))!.split('#token=')[1]!;
  }

  /** Another live setup link, as a second node starting at the same moment issues one. */
  function issueSetupLink(db: TestDatabase): Promise<{ token: string }> {
    return issueOneTimeToken(db.db, {
      purpose: 'setup',
      userId: null,
      lifetimeMs: LINK_LIFETIMES_MS.setup,
      now: new Date(),
    });
  }

  /** The admin another node's setup creates: invited until its enrolment, as setup leaves it. */
  async function insertOtherNodesAdmin(db: Kysely<DatabaseSchema>): Promise<void> {
    await db
      .insertInto('users')
      .values({
        email: 'other@example.org',
        email_normalized: 'other@example.org',
        display_name: 'Other',
        roles: ['admin'],
        status: 'invited',
      })
      .execute();
  }

  /** Runs `test` against a node of its own, on a database with no user yet, then closes both. */
  async function onEmptyNode(
    test: (node: { db: TestDatabase; app: TestApp }) => Promise<void>,
  ): Promise<void> {
    const db = await createTestDatabase(engine);
    try {
      const app = await createTestApp(engine, { database: db, env: ENV });
      try {
        await test({ db, app });
      } finally {
        await app.close();
      }
    } finally {
      await db.close();
    }
  }

  it('setup: the first-start link works once, stores only a hash, and leads to MFA enrolment', async () => {
    await onEmptyNode(async ({ db, app }) => {
      const link = await ensureSetupLink(app.app.identity!.context);
      expect(link).toMatch(new RegExp(`^${origin}/setup#token=[A-Za-z0-9_-]{43}$`));
      const token = link!.split('#token=')[1]!;
      let pendingUntil: Date | undefined;
      const again = await ensureSetupLink(app.app.identity!.context, {
        onPending: (at) => (pendingUntil = at),
      });
      expect(again).toBeNull();
      expect(pendingUntil).toBeInstanceOf(Date);
      const stored = await db.db.selectFrom('one_time_tokens').selectAll().execute();
      expect(stored.map((r) => r.token_hash)).toEqual([sha256Hex(token)]);
      expect(JSON.stringify(stored)).not.toContain(token);

      const setup = (password: string, email = 'root@example.org') =>
        post('/api/onboarding/setup', { token, email, displayName: 'Root', password }, {}, app);
      const weak = await setup('password1234');
      expect(weak.statusCode).toBe(400);
      expect(weak.json()).toMatchObject({ code: 'PASSWORD_REJECTED' });

      const created = await setup(PASSWORD);
      expect(created.statusCode).toBe(200);
      expect(created.json()).toEqual({ status: 'mfa_enrollment_required' });
      expect(Object.keys(cookiesOf(created))).toEqual(['__Host-haven_mfa']);
      expect((await setup(PASSWORD, 'second@example.org')).json()).toMatchObject({
        code: 'NOT_FOUND',
      });
      expect(await ensureSetupLink(app.app.identity!.context)).toBeNull();

      const { confirmed } = await enrol(cookiesOf(created), app);
      expect(confirmed.statusCode).toBe(200);
      expect(confirmed.json()).toMatchObject({ status: 'signed_in', user: { roles: ['admin'] } });
      const admins = await db.db.selectFrom('users').select(['status', 'roles']).execute();
      expect(admins).toEqual([{ status: 'active', roles: ['admin'] }]);
    });
  });

  it('setup: refused with 409 once any user exists, even with a live setup token', async () => {
    await onEmptyNode(async ({ db, app }) => {
      await createUser('someone@example.org', ['patient'], db);
      expect(await ensureSetupLink(app.app.identity!.context)).toBeNull();
      const { token } = await issueSetupLink(db);
      const response = await post(
        '/api/onboarding/setup',
        { token, email: 'late@example.org', displayName: 'Late', password: PASSWORD },
        {},
        app,
      );
      expect(response.statusCode).toBe(409);
      expect(response.cookies).toEqual([]);
    });
  });

  it('setup/race: concurrent setups (same link, and a second link) create exactly one admin', async () => {
    await onEmptyNode(async ({ db, app }) => {
      const first = await firstSetupToken(app);
      // A second live link, as two nodes starting at once could have issued.
      const { token: second } = await issueSetupLink(db);
      const attempt = (token: string, email: string) =>
        post(
          '/api/onboarding/setup',
          { token, email, displayName: 'Racer', password: PASSWORD },
          {},
          app,
        );
      const answers = await Promise.all([
        attempt(first, 'a@example.org'),
        attempt(first, 'b@example.org'),
        attempt(second, 'c@example.org'),
      ]);
      const statuses = answers.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s !== 200).every((s) => s === 404 || s === 409)).toBe(true);
      const users = await db.db.selectFrom('users').select('roles').execute();
      expect(users).toEqual([{ roles: ['admin'] }]);
    });
  });

  it('setup/race: a setup that passed its link check before another node’s setup committed finds that admin in its own transaction and is refused', async () => {
    // Runs on both engines: the other setup commits while this one is between its cheap checks
    // and its transaction (hashing the password), so the "no user yet" check must be the one
    // inside the transaction, not an earlier look.
    await onEmptyNode(async ({ db, app }) => {
      const token = await firstSetupToken(app);
      const hashing = app.app.identity!.services.hashing;
      const realHash = hashing.hash.bind(hashing);
      let markHashingStarted!: () => void;
      const hashingStarted = new Promise<void>((resolve) => (markHashingStarted = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      const spy = vi.spyOn(hashing, 'hash').mockImplementation(async (password) => {
        markHashingStarted();
        await released;
        return realHash(password);
      });
      try {
        const attempt = post(
          '/api/onboarding/setup',
          { token, email: 'mine@example.org', displayName: 'Mine', password: PASSWORD },
          {},
          app,
        );
        await hashingStarted;
        // Another node's setup commits its admin now.
        await insertOtherNodesAdmin(db.db);
        release();
        const answer = await attempt;
        expect(answer.statusCode).toBe(409);
        expect(answer.json()).toMatchObject({ code: 'CONFLICT' });
      } finally {
        release();
        spy.mockRestore();
      }
      expect(await db.db.selectFrom('users').select('email').execute()).toEqual([
        { email: 'other@example.org' },
      ]);
    });
  });

  it.skipIf(engine !== 'postgres')(
    "setup/race [PostgreSQL only: PGlite has one connection, so two transactions never overlap]: a setup waiting on another node's setup lock sees its admin and is refused",
    async () => {
      await onEmptyNode(async ({ db, app }) => {
        const token = await firstSetupToken(app);
        let release!: () => void;
        const released = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const lockTaken = new Promise<void>((resolve) => (locked = resolve));
        // Another node's setup: holds the lock, creates its admin, commits when released.
        const other = db.db.transaction().execute(async (trx) => {
          await sql`select pg_advisory_xact_lock(${SETUP_LOCK_KEY}::bigint)`.execute(trx);
          locked();
          await released;
          await insertOtherNodesAdmin(trx);
        });
        await lockTaken;
        const attempt = post(
          '/api/onboarding/setup',
          { token, email: 'mine@example.org', displayName: 'Mine', password: PASSWORD },
          {},
          app,
        );
        // Release only once this setup is queued on the lock (or after 5 s, failing below).
        const deadline = Date.now() + 5000;
        while (Date.now() < deadline) {
          const waiting = await sql<{ n: number }>`
          select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted
        `.execute(db.db);
          if ((waiting.rows[0]?.n ?? 0) > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        release();
        await other;
        expect((await attempt).statusCode).toBe(409);
        expect(await db.db.selectFrom('users').select('email').execute()).toEqual([
          { email: 'other@example.org' },
        ]);
      });
    },
  );

  // -------------------------------------------------------------------------------------------
  // A11: invitations

  it('A11: the invitation link carries the token in a fragment, and the database only its hash', async () => {
    await invite('fragment@example.org', 'patient', 'Frag Ment');
    const mail = (await listDevMailbox(nodeA.config.dataDir)).find(
      (m) => m.to === 'fragment@example.org',
    )!;
    const url = /https?:\/\/\S+/.exec(mail.text)![0];
    expect(url).toMatch(new RegExp(`^${origin}/invite#token=[A-Za-z0-9_-]{43}$`));
    expect(new URL(url).search).toBe('');
    const token = url.split('#token=')[1]!;
    const rows = await database.db
      .selectFrom('one_time_tokens')
      .selectAll()
      .where('purpose', '=', 'invitation')
      .execute();
    expect(rows.some((r) => r.token_hash === sha256Hex(token))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(token);
    const inspected = await post('/api/onboarding/invitations/inspect', { token });
    expect(inspected.json()).toMatchObject({
      email: 'fragment@example.org',
      role: 'patient',
      displayName: 'Frag Ment',
    });
  });

  it('A11: a clinician gets no session until MFA enrolment; then 10 recovery codes and a working TOTP sign-in', async () => {
    const token = await invite('clinician@example.org', 'clinician');
    const inspected = await post('/api/onboarding/invitations/inspect', { token });
    expect(inspected.json()).toMatchObject({ role: 'clinician', displayName: null });

    const accepted = await post('/api/onboarding/invitations/accept', {
      token,
      displayName: 'Dr Clinician',
      password: PASSWORD,
    });
    expect(accepted.json()).toEqual({ status: 'mfa_enrollment_required' });
    expect(Object.keys(cookiesOf(accepted))).toEqual(['__Host-haven_mfa']);
    const pending = cookiesOf(accepted);
    // Not signed in, and the password alone only leads back to enrolment: never a session.
    expect((await nodeA.app.inject({ url: '/api/auth/me', headers: {} })).statusCode).toBe(401);
    const resumed = await signIn('clinician@example.org');
    expect(resumed.json()).toEqual({ status: 'mfa_enrollment_required' });
    expect(Object.keys(cookiesOf(resumed))).toEqual(['__Host-haven_mfa']);
    // The enrolment state is no MFA sign-in step, even with a valid code for the new seed.
    const started = await post('/api/auth/mfa/enrollment', {}, pending);
    const { secret } = started.json<{ secret: string }>();
    expect((await post('/api/auth/mfa', { code: totpNow(secret) }, pending)).json()).toMatchObject({
      code: 'MFA_PENDING_EXPIRED',
    });

    // Confirmed on the other node: the pending state lives in the database.
    const code = totpNow(secret);
    const confirmed = await post('/api/auth/mfa/enrollment/confirm', { code }, pending, nodeB);
    expect(confirmed.statusCode).toBe(200);
    const body = confirmed.json<{ status: string; recoveryCodes: string[]; csrfToken: string }>();
    expect(body.status).toBe('signed_in');
    expect(body.recoveryCodes).toHaveLength(10);
    expect(new Set(body.recoveryCodes).size).toBe(10);
    const jar = cookiesOf(confirmed);
    expect(Object.keys(jar)).toEqual(
      expect.arrayContaining(['__Host-haven_at', '__Host-haven_rt']),
    );
    const me = await nodeA.app.inject({
      url: '/api/auth/me',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(me.json()).toMatchObject({ user: { displayName: 'Dr Clinician' } });
    // The pending state is spent.
    expect(
      (await post('/api/auth/mfa/enrollment/confirm', { code }, pending)).json(),
    ).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });

    const passwordOk = await signIn('clinician@example.org');
    expect(passwordOk.json()).toEqual({ status: 'mfa_required' });
    // A9: the enrolment code cannot be reused; the next one signs in.
    const replay = await post('/api/auth/mfa', { code }, cookiesOf(passwordOk));
    expect(replay.json()).toMatchObject({ code: 'MFA_INVALID' });
    const again = await signIn('clinician@example.org');
    const next = await post('/api/auth/mfa', { code: totpNow(secret, 30_000) }, cookiesOf(again));
    expect(next.statusCode).toBe(200);
    expect(next.json()).toMatchObject({ status: 'signed_in', user: { roles: ['clinician'] } });
  });

  it('A11: a patient invitation signs in directly on accept, and works only once', async () => {
    const token = await invite('patient@example.org', 'patient');
    const accept = () =>
      post('/api/onboarding/invitations/accept', {
        token,
        displayName: 'Pat Ient',
        password: PASSWORD,
      });
    const first = await accept();
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'signed_in', user: { roles: ['patient'] } });
    expect(Object.keys(cookiesOf(first)).sort()).toEqual(['__Host-haven_at', '__Host-haven_rt']);
    const second = await accept();
    expect(second.statusCode).toBe(404);
    expect(second.cookies).toEqual([]);
    expect((await post('/api/onboarding/invitations/inspect', { token })).statusCode).toBe(404);
    expect((await signIn('patient@example.org')).json()).toMatchObject({ status: 'signed_in' });
  });

  it('A11: two racing accepts of one link: exactly one succeeds', async () => {
    const token = await invite('racer@example.org', 'participant');
    const answers = await Promise.all(
      [nodeA, nodeB].map((app) =>
        post(
          '/api/onboarding/invitations/accept',
          { token, displayName: 'Racer', password: PASSWORD },
          {},
          app,
        ),
      ),
    );
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 404]);
  });

  it('A11: an expired invitation is refused like an unknown one', async () => {
    const token = await invite('expired@example.org', 'patient');
    await database.db
      .updateTable('one_time_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('token_hash', '=', sha256Hex(token))
      .execute();
    const unknown = await post('/api/onboarding/invitations/inspect', {
      token: randomBytes(32).toString('base64url'),
    });
    const expired = await post('/api/onboarding/invitations/inspect', { token });
    expect(expired.statusCode).toBe(404);
    expect({ ...expired.json<object>(), requestId: 'x' }).toEqual({
      ...unknown.json<object>(),
      requestId: 'x',
    });
    const accepted = await post('/api/onboarding/invitations/accept', {
      token,
      displayName: 'Late',
      password: PASSWORD,
    });
    expect(accepted.statusCode).toBe(404);
  });

  it('A11: a resent invitation voids the old link; an existing active account cannot be invited', async () => {
    const old = await invite('resend@example.org', 'patient');
    const { userId } = await database.db
      .selectFrom('users')
      .select('id as userId')
      .where('email_normalized', '=', 'resend@example.org')
      .executeTakeFirstOrThrow();
    await resendInvitation(nodeA.app.identity!.context, { userId, invitedBy: adminId, ...REQUEST });
    const fresh = await linkTokenFor(nodeA, 'resend@example.org', 'invite');
    expect(fresh).not.toBe(old);
    expect((await post('/api/onboarding/invitations/inspect', { token: old })).statusCode).toBe(
      404,
    );
    expect((await post('/api/onboarding/invitations/inspect', { token: fresh })).statusCode).toBe(
      200,
    );
    await createUser('taken@example.org', ['patient']);
    await expect(
      inviteUser(nodeA.app.identity!.context, {
        email: 'Taken@Example.org',
        role: 'clinician',
        invitedBy: adminId,
        ...REQUEST,
      }),
    ).rejects.toMatchObject({ code: 'CONFLICT', statusCode: 409 });
  });

  // -------------------------------------------------------------------------------------------
  // A2: password policy at onboarding

  it('A2: weak, common, self-describing and 129-character passwords are refused; 128 strong characters are accepted', async () => {
    const token = await invite('dana.whitfield@example.org', 'patient');
    const accept = (password: string) =>
      post('/api/onboarding/invitations/accept', {
        token,
        displayName: 'Dana Whitfield',
        password,
      });
    const strong = 'violet tugboat ledger 7 quarry mosaic ';
    const long128 = strong.repeat(4).slice(0, 128);
    for (const password of [
      'password1234',
      'aaaaaaaaaaaaaaaa',
      'dana.whitfield@example.org',
      `${long128}x`,
    ]) {
      const refused = await accept(password);
      expect(refused.statusCode, password).toBe(400);
      expect(refused.json()).toMatchObject({
        code: 'PASSWORD_REJECTED',
        errors: [{ field: 'password', message: expect.any(String) as string }],
      });
    }
    // A refused password does not use up the link.
    expect((await post('/api/onboarding/invitations/inspect', { token })).statusCode).toBe(200);
    expect([...long128]).toHaveLength(128);
    const accepted = await accept(long128);
    expect(accepted.statusCode).toBe(200);
    expect((await signIn('dana.whitfield@example.org', long128)).statusCode).toBe(200);
  });

  // -------------------------------------------------------------------------------------------
  // A9: enrolment

  it('A9: wrong enrolment codes are refused, at most 5 per pending state', async () => {
    const token = await invite('guesser@example.org', 'researcher');
    const accepted = await post('/api/onboarding/invitations/accept', {
      token,
      displayName: 'Guesser',
      password: PASSWORD,
    });
    const pending = cookiesOf(accepted);
    const { secret } = (await post('/api/auth/mfa/enrollment', {}, pending)).json<{
      secret: string;
    }>();
    for (let i = 0; i < 5; i++) {
      const wrong = await post(
        '/api/auth/mfa/enrollment/confirm',
        { code: wrongCode(totpNow(secret)) },
        pending,
      );
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json()).toMatchObject({ code: 'MFA_INVALID' });
    }
    const tooMany = await post(
      '/api/auth/mfa/enrollment/confirm',
      { code: totpNow(secret) },
      pending,
    );
    expect(tooMany.json()).toMatchObject({ code: 'MFA_PENDING_EXPIRED' });
    expect(tooMany.cookies.filter((c) => c.name !== '__Host-haven_mfa')).toEqual([]);
    const user = await database.db
      .selectFrom('users')
      .select(['status', 'totp_enrolled_at'])
      .where('email_normalized', '=', 'guesser@example.org')
      .executeTakeFirstOrThrow();
    expect(user).toEqual({ status: 'invited', totp_enrolled_at: null });
  });

  it('A9: an active admin without MFA is sent to enrolment at sign-in and gets a session after it', async () => {
    await createUser('unenrolled-admin@example.org', ['admin']);
    const answer = await signIn('unenrolled-admin@example.org');
    expect(answer.json()).toEqual({ status: 'mfa_enrollment_required' });
    const { confirmed } = await enrol(cookiesOf(answer));
    expect(confirmed.json()).toMatchObject({ status: 'signed_in' });
  });

  it('A9: a signed-in patient may enrol optional MFA once; enrolled users get 409', async () => {
    await createUser('optional@example.org', ['patient']);
    const session = await signIn('optional@example.org');
    const headers = {
      'x-csrf-token': session.json<{ csrfToken: string }>().csrfToken,
    };
    const jar = cookiesOf(session);
    const started = await post('/api/account/mfa/enrollment', {}, jar, nodeA, headers);
    expect(started.statusCode).toBe(200);
    const { secret } = started.json<{ secret: string }>();
    const wrong = await post(
      '/api/account/mfa/enrollment/confirm',
      { code: wrongCode(totpNow(secret)) },
      jar,
      nodeA,
      headers,
    );
    expect(wrong.json()).toMatchObject({ code: 'MFA_INVALID' });
    const code = totpNow(secret);
    const confirmed = await post(
      '/api/account/mfa/enrollment/confirm',
      { code },
      jar,
      nodeA,
      headers,
    );
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json<{ recoveryCodes: string[] }>().recoveryCodes).toHaveLength(10);
    const again = await post('/api/account/mfa/enrollment', {}, jar, nodeA, headers);
    expect(again.statusCode).toBe(409);
    // From now on the password alone is not enough.
    expect((await signIn('optional@example.org')).json()).toEqual({ status: 'mfa_required' });
  });

  // -------------------------------------------------------------------------------------------
  // Self sign-up

  it('sign-up: answers 404 when self sign-up is off (the default)', async () => {
    const signup = await post('/api/onboarding/signup', {
      email: 'self@example.org',
      displayName: 'Self',
      password: PASSWORD,
    });
    expect(signup.statusCode).toBe(404);
    expect(signup.json()).toMatchObject({ code: 'NOT_FOUND' });
    const verify = await post('/api/onboarding/signup/verify', {
      token: randomBytes(32).toString('base64url'),
    });
    expect(verify.statusCode).toBe(404);
  });

  it('sign-up: when on, a new patient is active only after the emailed verification link', async () => {
    const signup = await post(
      '/api/onboarding/signup',
      { email: 'newpatient@example.org', displayName: 'New Patient', password: PASSWORD },
      {},
      signupNode,
    );
    expect(signup.statusCode).toBe(202);
    expect(signup.json()).toEqual({ status: 'verification_sent' });
    expect(signup.cookies).toEqual([]);
    expect((await signIn('newpatient@example.org')).statusCode).toBe(401);
    const token = await linkTokenFor(signupNode, 'newpatient@example.org', 'verify-email');
    const verify = (app: TestApp) => post('/api/onboarding/signup/verify', { token }, {}, app);
    // Verification is part of sign-up: off on this node, so it is not there.
    expect((await verify(nodeA)).statusCode).toBe(404);
    const verified = await verify(signupNode);
    expect(verified.json()).toEqual({ status: 'verified' });
    expect((await verify(signupNode)).statusCode).toBe(404);
    expect((await signIn('newpatient@example.org')).json()).toMatchObject({
      status: 'signed_in',
      user: { roles: ['patient'] },
    });
  });

  it('sign-up: a taken email gets the identical answer and the account is untouched', async () => {
    const existing = await createUser('already@example.org', ['clinician']);
    const before = await database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', existing)
      .executeTakeFirstOrThrow();
    const taken = await post(
      '/api/onboarding/signup',
      { email: 'Already@example.org', displayName: 'Impostor', password: `${PASSWORD} x` },
      {},
      signupNode,
    );
    const fresh = await post(
      '/api/onboarding/signup',
      { email: 'brandnew@example.org', displayName: 'Brand New', password: `${PASSWORD} x` },
      {},
      signupNode,
    );
    expect(taken.statusCode).toBe(202);
    expect(taken.body).toBe(fresh.body);
    const after = await database.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', existing)
      .executeTakeFirstOrThrow();
    expect(after).toEqual(before);
    // The owner learns of it by mail, with no link that could change anything.
    const mail = (await listDevMailbox(signupNode.config.dataDir)).find(
      (m) => m.to === 'Already@example.org',
    );
    expect(mail?.text).not.toMatch(/#token=/);
  });
});
