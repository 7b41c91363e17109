// A lost first-admin setup link (A11; issue 9, defect 6): `haven setup-link` replaces it. Through
// the real setup route: the old link stops working, the new one creates the admin, and no link is
// issued once anyone has an account. The command itself is in server/test/platform/cli-setup-link.test.ts.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../../test/app-harness.js';
import {
  createTestDatabase,
  describeEachEngine,
  type TestDatabase,
} from '../../../../test/databases.js';
import { sha256Hex } from '../../../platform/crypto.js';
import type { Engine } from '../../../platform/db/database.js';
import { MINIMUM_HASHING, hashPassword } from '../passwords/hashing.js';
import { ensureSetupLink, reissueSetupLink } from './setup-link-service.js';

const PASSWORD = 'correct horse battery staple 42';
const ENV = { HAVEN_MASTER_KEY: randomBytes(32).toString('base64'), HAVEN_RATE_AUTH: '1000/60' };
const tokenOf = (link: string | null): string => {
  const token = link?.split('#token=')[1];
  if (!token) throw new Error(`not a setup link: ${link}`);
  return token;
};

describeEachEngine('setup link reissue', (engine: Engine) => {
  let database: TestDatabase;
  let t: TestApp;

  beforeEach(async () => {
    database = await createTestDatabase(engine);
    t = await createTestApp(engine, { database, env: ENV });
  });
  afterEach(async () => {
    await t.close();
    await database.close();
  });

  const setup = (token: string, email = 'root@example.org') =>
    t.app.inject({
      method: 'POST',
      url: '/api/onboarding/setup',
      headers: { origin: t.config.publicOrigin },
      payload: { token, email, displayName: 'Root', password: PASSWORD },
    });
  const issuedEvents = () =>
    database.db
      .selectFrom('audit_events')
      .select(['actor_type', 'details'])
      .where('action', '=', 'auth.setup_link_issued')
      .orderBy('seq')
      .execute();

  it('A11/lost setup link: a new link voids the old one, and only the new one creates the admin', async () => {
    const old = tokenOf(await ensureSetupLink(t.app.identity!.context));
    const link = await reissueSetupLink(t.app.identity!.context);
    expect(link).toMatch(new RegExp(`^${t.config.publicOrigin}/setup#token=[A-Za-z0-9_-]{43}$`));
    const fresh = tokenOf(link);
    expect(fresh).not.toBe(old);

    // Only hashes are stored, and the old one is used up.
    const stored = await database.db
      .selectFrom('one_time_tokens')
      .select(['token_hash', 'used_at'])
      .where('purpose', '=', 'setup')
      .execute();
    expect(JSON.stringify(stored)).not.toContain(fresh);
    expect(stored.find((r) => r.token_hash === sha256Hex(old))?.used_at).toBeInstanceOf(Date);
    expect(stored.find((r) => r.token_hash === sha256Hex(fresh))?.used_at).toBeNull();

    const withOld = await setup(old);
    expect(withOld.statusCode).toBe(404);
    expect(withOld.cookies).toEqual([]);
    expect(await database.db.selectFrom('users').select('id').execute()).toEqual([]);

    const withNew = await setup(fresh);
    expect(withNew.statusCode).toBe(200);
    expect(withNew.json()).toEqual({ status: 'mfa_enrollment_required' });
    const users = await database.db.selectFrom('users').select(['roles', 'status']).execute();
    expect(users).toEqual([{ roles: ['admin'], status: 'invited' }]);

    // Audited like the first link, saying it replaced one.
    const events = await issuedEvents();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      actor_type: 'system',
      details: { reissued: true, voided_links: 1 },
    });
  });

  it('A11/lost setup link: a link is reissued even when none was issued before, and ensureSetupLink then issues none', async () => {
    const fresh = tokenOf(await reissueSetupLink(t.app.identity!.context));
    let pending = false;
    expect(
      await ensureSetupLink(t.app.identity!.context, { onPending: () => (pending = true) }),
    ).toBeNull();
    expect(pending).toBe(true);
    expect((await setup(fresh)).statusCode).toBe(200);
  });

  it('A11/setup link after setup: no link is issued once any user exists, and live links stay unusable', async () => {
    const old = tokenOf(await ensureSetupLink(t.app.identity!.context));
    await database.db
      .insertInto('users')
      .values({
        email: 'someone@example.org',
        email_normalized: 'someone@example.org',
        display_name: 'Someone',
        roles: ['patient'],
        status: 'active',
        password_hash: await hashPassword(PASSWORD, MINIMUM_HASHING),
      })
      .execute();
    const before = await database.db.selectFrom('one_time_tokens').selectAll().execute();
    expect(await reissueSetupLink(t.app.identity!.context)).toBeNull();
    expect(await database.db.selectFrom('one_time_tokens').selectAll().execute()).toEqual(before);
    expect(await issuedEvents()).toHaveLength(1);
    expect((await setup(old, 'late@example.org')).statusCode).toBe(409);
  });
});
