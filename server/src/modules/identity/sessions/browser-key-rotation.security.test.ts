// CSRF tokens and refresh-cookie tags rotate on their own (S2): `haven keys rotate --csrf` adds
// a generation of the secret mixed into their keys. Every node accepts a new generation as soon
// as it reads it and makes tokens under it only once it is active, so no node is handed a token
// it cannot check; the generation it replaces keeps passing until it retires (the refresh-session
// lifetime later, or `--retire`), then it is refused. A master-key change re-seals the
// generations' secrets with the rest (--data).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runKeysRotate } from '../../../cli/keys-commands.js';
import { loadConfig, type HavenConfig } from '../../../config.js';
import { createCsrfTokens, createRefreshCookies } from './browser-credentials.js';
import { createCookieSecretGenerations } from '../../../platform/cookie-secrets.js';
import { keyRingOf } from '../../../platform/crypto.js';
import { createTestApp, testEnv } from '../../../../test/app-harness.js';
import {
  createTestDatabase,
  describeEachEngine,
  type TestDatabase,
} from '../../../../test/databases.js';
import {
  PASSWORD,
  cookieHeader,
  cookiesOf,
  insertAccount,
} from '../../../../test/proof/sign-in-kit.js';

const newKey = () => randomBytes(32).toString('base64');

describeEachEngine('S2 CSRF and refresh-cookie generations', (engine) => {
  let database: TestDatabase;
  let folder: string;
  let masterKey: string;
  const session = randomUUID();

  const config = (current = masterKey, previous?: string): HavenConfig =>
    loadConfig(
      testEnv({
        HAVEN_DATA_DIR: folder,
        HAVEN_MASTER_KEY: current,
        ...(previous === undefined ? {} : { HAVEN_MASTER_KEY_PREVIOUS: previous }),
      }),
    );

  /** One node: its generations read from the table, its CSRF tokens and refresh cookies. */
  async function node(current = masterKey, previous?: string) {
    const keys = {
      masterKey: Buffer.from(current, 'base64'),
      previousMasterKey: previous === undefined ? undefined : Buffer.from(previous, 'base64'),
    };
    const generations = createCookieSecretGenerations({ db: database.db, ring: keyRingOf(keys) });
    await generations.refresh();
    return {
      generations,
      csrf: createCsrfTokens(keys.masterKey, keys.previousMasterKey, generations),
      cookies: createRefreshCookies(keys.masterKey, keys.previousMasterKey, generations),
    };
  }

  const rotateCsrf = (hooks = { csrfActivationMs: 0 }) =>
    runKeysRotate(config(), { csrf: true }, database.db, hooks);

  beforeEach(async () => {
    database = await createTestDatabase(engine);
    folder = mkdtempSync(path.join(tmpdir(), 'haven-csrf-'));
    masterKey = newKey();
  });
  afterEach(async () => {
    await database.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('S2: after keys rotate --csrf a CSRF token of the previous generation still passes and a new one is made under the new generation', async () => {
    const a = await node();
    const before = a.csrf.forSession(session);
    // Before any --csrf, tokens are those of the master key alone (as before generations).
    expect(createCsrfTokens(Buffer.from(masterKey, 'base64')).forSession(session)).toBe(before);

    const run = await rotateCsrf();
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('generation 1 is accepted now');
    await a.generations.refresh();
    const after = a.csrf.forSession(session);
    expect(after).not.toBe(before);
    expect(a.csrf.matches(session, before)).toBe(true);
    expect(a.csrf.matches(session, after)).toBe(true);
    // Another node reading the same table makes and checks the same tokens.
    const b = await node();
    expect(b.csrf.forSession(session)).toBe(after);
    expect(b.csrf.matches(session, before)).toBe(true);
    // The new token is not the master key's alone: a node without generations refuses it.
    expect(createCsrfTokens(Buffer.from(masterKey, 'base64')).matches(session, after)).toBe(false);
    expect(a.csrf.matches(session, 'x'.repeat(43))).toBe(false);

    const audit = await database.db
      .selectFrom('audit_events')
      .select(['details', 'target_type', 'target_id'])
      .where('action', '=', 'keys.rotated')
      .executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ kind: 'csrf', generation: 1 });
  });

  it('S2: after keys rotate --csrf a refresh-cookie tag of the previous generation still vouches and new tags are made under the new generation', async () => {
    const a = await node();
    const before = a.cookies.encode(session, 'token');
    await rotateCsrf();
    await a.generations.refresh();
    const after = a.cookies.encode(session, 'token');
    expect(after).not.toBe(before);
    expect(a.cookies.decode(before)).toEqual({ token: 'token', sessionId: session });
    expect(a.cookies.decode(after)).toEqual({ token: 'token', sessionId: session });
    expect(createRefreshCookies(Buffer.from(masterKey, 'base64')).decode(after).sessionId).toBe(
      undefined,
    );
  });

  it('S2: a generation announced by keys rotate --csrf is accepted on every node before any node makes tokens under it', async () => {
    const a = await node();
    const before = a.csrf.forSession(session);
    // The default delay: the new generation is read, but not yet made.
    await runKeysRotate(config(), { csrf: true }, database.db);
    await a.generations.refresh();
    expect(a.generations.current().generation).toBe(0);
    expect(a.generations.accepted().map((g) => g.generation)).toEqual([0, 1]);
    expect(a.csrf.forSession(session)).toBe(before);
    // Once active (here: made so by hand), a token made under it passes on a node that read the
    // table before then.
    await database.db
      .updateTable('browser_key_generations')
      .set({ active_from: new Date(Date.now() - 1000) })
      .where('generation', '=', 1)
      .execute();
    const b = await node();
    const fresh = b.csrf.forSession(session);
    expect(fresh).not.toBe(before);
    expect(a.csrf.matches(session, fresh)).toBe(true);
  });

  it("S2: a retired generation's CSRF token is refused", async () => {
    const a = await node();
    const oldToken = a.csrf.forSession(session);
    const oldCookie = a.cookies.encode(session, 'token');
    await rotateCsrf();
    // Retiring by itself: the replaced generation retires the refresh-session lifetime later.
    const rows = await database.db
      .selectFrom('browser_key_generations')
      .select(['generation', 'active_from', 'retires_at'])
      .orderBy('generation')
      .execute();
    expect(rows.map((row) => row.generation)).toEqual([0, 1]);
    expect(rows[1]!.retires_at).toBeNull();
    expect(rows[0]!.retires_at!.getTime() - rows[1]!.active_from.getTime()).toBe(
      config().identity.sessionAbsoluteMs,
    );

    const retire = await runKeysRotate(config(), { csrf: true, retire: true }, database.db);
    expect(retire.exitCode).toBe(0);
    expect(retire.stdout).toContain('1 earlier CSRF and refresh-cookie generation(s) retired');
    await a.generations.refresh();
    expect(a.csrf.matches(session, oldToken)).toBe(false);
    expect(a.cookies.decode(oldCookie).sessionId).toBeUndefined();
    expect(a.csrf.matches(session, a.csrf.forSession(session))).toBe(true);
    const audits = await database.db
      .selectFrom('audit_events')
      .select('details')
      .where('action', '=', 'keys.rotated')
      .execute();
    expect(audits.map((event) => event.details)).toContainEqual({
      kind: 'csrf',
      retiredGenerations: 1,
    });
  });

  it('S2: keys rotate --data re-seals the generations under a new master key, and tokens made before still pass', async () => {
    await rotateCsrf();
    const before = (await node()).csrf.forSession(session);
    const oldKey = masterKey;
    const currentKey = newKey();
    const run = await runKeysRotate(config(currentKey, oldKey), { data: true }, database.db);
    expect(run.stdout).toContain('browser_key_generations: 1 re-sealed');
    expect(run.exitCode).toBe(0);
    // The new master key alone opens the generation's secret again.
    const onlyNew = await node(currentKey);
    expect(onlyNew.generations.current().generation).toBe(1);
    expect((await node(currentKey, oldKey)).csrf.matches(session, before)).toBe(true);
  });
  it('S2: a running server makes CSRF tokens under the new generation, accepts the previous one, and refuses it once retired', async () => {
    const account = await insertAccount(database.db, {
      email: 'csrf-rotation@example.org',
      roles: ['patient'],
    });
    const server = await createTestApp(engine, {
      database,
      env: { HAVEN_MASTER_KEY: masterKey },
    });
    try {
      const origin = server.config.publicOrigin;
      const signedIn = await server.app.inject({
        method: 'POST',
        url: '/api/auth/session',
        headers: { origin },
        payload: { email: account.email, password: PASSWORD },
      });
      expect(signedIn.statusCode, signedIn.body).toBe(200);
      const cookie = cookieHeader(cookiesOf(signedIn));
      const oldToken = signedIn.json<{ csrfToken: string }>().csrfToken;
      const write = (token: string) =>
        server.app.inject({
          method: 'DELETE',
          url: '/api/account/sessions',
          headers: { origin, cookie, 'x-csrf-token': token },
        });
      const me = async () =>
        (
          await server.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } })
        ).json<{ csrfToken: string }>().csrfToken;

      await rotateCsrf();
      // What the server's poll does every few seconds.
      await server.app.identity!.services.cookieSecrets.refresh();
      const newToken = await me();
      expect(newToken).not.toBe(oldToken);
      expect((await write(oldToken)).statusCode).toBe(200);
      expect((await write(newToken)).statusCode).toBe(200);

      await runKeysRotate(config(), { csrf: true, retire: true }, database.db);
      await server.app.identity!.services.cookieSecrets.refresh();
      const refused = await write(oldToken);
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'CSRF_FAILED' });
      expect((await write(newToken)).statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });
});
