// A lost first-admin setup link (A11; issue 9, defect 6): `haven setup-link` replaces it. Through
// the real setup route: the old link stops working, the new one creates the admin, and no link is
// issued once anyone has an account. The command itself is in server/test/platform/cli-setup-link.test.ts.
import { expect, it } from 'vitest';
import { PASSWORD, useBrowserNodes } from '../../../../test/browsers.js';
import { describeEachEngine } from '../../../../test/databases.js';
import { sha256Hex } from '../../../platform/crypto.js';
import type { Engine } from '../../../platform/db/database.js';
import { ensureSetupLink, reissueSetupLink } from './setup-link-service.js';

const tokenOf = (link: string | null): string => {
  const token = link?.split('#token=')[1];
  if (!token) throw new Error(`not a setup link: ${link}`);
  return token;
};

describeEachEngine('setup link reissue', (engine: Engine) => {
  const site = useBrowserNodes(engine, { env: { HAVEN_RATE_AUTH: '1000/60' }, each: true });
  const identity = () => site.node.app.identity!.context;

  const setup = (token: string, email = 'root@example.org') =>
    site.post('/api/onboarding/setup', { token, email, displayName: 'Root', password: PASSWORD });
  const issuedEvents = () =>
    site.database.db
      .selectFrom('audit_events')
      .select(['actor_type', 'details'])
      .where('action', '=', 'auth.setup_link_issued')
      .orderBy('seq')
      .execute();

  it('A11/lost setup link: a new link voids the old one, and only the new one creates the admin', async () => {
    const old = tokenOf(await ensureSetupLink(identity()));
    const link = await reissueSetupLink(identity());
    expect(link).toMatch(new RegExp(`^${site.origin}/setup#token=[A-Za-z0-9_-]{43}$`));
    const fresh = tokenOf(link);
    expect(fresh).not.toBe(old);

    // Only hashes are stored, and the old one is used up.
    const stored = await site.database.db
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
    expect(await site.database.db.selectFrom('users').select('id').execute()).toEqual([]);

    const withNew = await setup(fresh);
    expect(withNew.statusCode).toBe(200);
    expect(withNew.json()).toEqual({ status: 'mfa_enrollment_required' });
    const users = await site.database.db.selectFrom('users').select(['roles', 'status']).execute();
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
    const fresh = tokenOf(await reissueSetupLink(identity()));
    let pending = false;
    expect(await ensureSetupLink(identity(), { onPending: () => (pending = true) })).toBeNull();
    expect(pending).toBe(true);
    expect((await setup(fresh)).statusCode).toBe(200);
  });

  it('A11/setup link after setup: no link is issued once any user exists, and live links stay unusable', async () => {
    const old = tokenOf(await ensureSetupLink(identity()));
    await site.createUser('someone@example.org', ['patient'], { displayName: 'Someone' });
    const before = await site.database.db.selectFrom('one_time_tokens').selectAll().execute();
    expect(await reissueSetupLink(identity())).toBeNull();
    expect(await site.database.db.selectFrom('one_time_tokens').selectAll().execute()).toEqual(
      before,
    );
    expect(await issuedEvents()).toHaveLength(1);
    expect((await setup(old, 'late@example.org')).statusCode).toBe(409);
  });
});
