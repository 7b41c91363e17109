// A6/A7: refresh tokens rotate on every use, a replayed token revokes the session, idle and
// absolute timeouts hold under an injected clock, and revocations reach other nodes fast.
import { beforeEach, expect, it } from 'vitest';
import { createUser } from '../../../../test/actors.js';
import { describeEachEngine, useTestDatabase } from '../../../../test/databases.js';
import { createLogger } from '../../../platform/logging.js';
import { openDatabase } from '../../../platform/db/database.js';
import { verifyAuditChain } from '../../../platform/audit/verify.js';
import { createRevocationCache } from './revocation.js';
import { DEFAULT_LIFETIMES, createSession, revokeSession, revokeUserSessions } from './repo.js';
import { rotateRefreshToken } from './service.js';

const CONTEXT = { requestId: 'req-test-0001', clientAddress: '127.0.0.1' };
const MINUTE = 60_000;

describeEachEngine('sessions', (engine) => {
  const database = useTestDatabase(engine, { each: true });
  let userId: string;
  const start = new Date('2026-11-25T08:00:00.000Z');
  const at = (ms: number) => new Date(start.getTime() + ms);

  beforeEach(async () => {
    userId = (await createUser(database.db, { roles: ['clinician'] })).userId;
  });

  /** Uses the refresh token `ms` after the sign-in, as the refresh route does. */
  const rotate = (refreshToken: string, ms: number) =>
    rotateRefreshToken(database.db, refreshToken, DEFAULT_LIFETIMES, at(ms), CONTEXT);
  const login = () =>
    createSession(
      database.db,
      { userId, amr: ['pwd', 'otp'], mfaAt: start, userAgent: 'test', clientAddress: '127.0.0.1' },
      DEFAULT_LIFETIMES,
      start,
    );

  it('A6: refresh tokens are opaque, 256-bit and stored only as hashes', async () => {
    const session = await login();
    expect(Buffer.from(session.refreshToken, 'base64url').length).toBeGreaterThanOrEqual(16);
    const dump = JSON.stringify(
      await database.db.selectFrom('refresh_tokens').selectAll().execute(),
    );
    expect(dump).not.toContain(session.refreshToken);
  });

  it('A6/rotation: each use returns a new token; the old one cannot be used again', async () => {
    const first = await login();
    const second = await rotate(first.refreshToken, MINUTE);
    expect(second.ok).toBe(true);
    if (!second.ok) return;
    expect(second.session.refreshToken).not.toBe(first.refreshToken);
    const third = await rotate(second.session.refreshToken, 2 * MINUTE);
    expect(third.ok).toBe(true);
  });

  it('A6/token theft: replaying a consumed token revokes the whole session and is audited', async () => {
    const first = await login();
    const rotated = await rotate(first.refreshToken, MINUTE);
    const replay = await rotate(first.refreshToken, 2 * MINUTE);
    expect(replay).toEqual({ ok: false, reason: 'reused' });
    // The legitimate holder's newer token dies with the session.
    if (!rotated.ok) throw new Error('rotation failed');
    const after = await rotate(rotated.session.refreshToken, 3 * MINUTE);
    expect(after).toEqual({ ok: false, reason: 'revoked' });
    const session = await database.db
      .selectFrom('sessions')
      .select(['revoked_reason'])
      .executeTakeFirstOrThrow();
    expect(session.revoked_reason).toBe('refresh_reuse');
    const audit = await database.db
      .selectFrom('audit_events')
      .select(['action', 'outcome', 'target_id'])
      .execute();
    expect(audit).toEqual([
      { action: 'auth.refresh_reuse', outcome: 'denied', target_id: first.sessionId },
    ]);
    expect((await verifyAuditChain(database.db)).ok).toBe(true);
  });

  it('A6/race: two simultaneous refreshes with one token: exactly one wins, the other is treated as reuse', async () => {
    const first = await login();
    const results = await Promise.all([
      rotate(first.refreshToken, MINUTE),
      rotate(first.refreshToken, MINUTE),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'reused' }]);
  });

  it('A6/idle timeout: no refresh for 15 minutes ends the session', async () => {
    const first = await login();
    const late = await rotate(first.refreshToken, 15 * MINUTE + 1);
    expect(late).toEqual({ ok: false, reason: 'expired' });
  });

  it('A6/absolute lifetime: refreshing every 10 minutes still ends at 12 hours', async () => {
    let token = (await login()).refreshToken;
    let elapsed = 0;
    for (;;) {
      elapsed += 10 * MINUTE;
      const result = await rotate(token, elapsed);
      if (!result.ok) {
        expect(result.reason).toBe('expired');
        break;
      }
      token = result.session.refreshToken;
    }
    expect(elapsed).toBeGreaterThan(12 * 60 * MINUTE - 10 * MINUTE);
    expect(elapsed).toBeLessThanOrEqual(12 * 60 * MINUTE + 10 * MINUTE);
  });

  it('A7: revoking all sessions but the current one (password change)', async () => {
    const keep = await login();
    const other = await login();
    expect(
      await revokeUserSessions(database.db, userId, 'password_change', start, keep.sessionId),
    ).toEqual([other.sessionId]);
    expect((await rotate(other.refreshToken, MINUTE)).ok).toBe(false);
    expect((await rotate(keep.refreshToken, MINUTE)).ok).toBe(true);
  });

  it('A7/stale node: a revocation on one node is seen by another node within a second, without a per-request query', async () => {
    const session = await login();
    // Another node: its own connection on PostgreSQL; the same handle on PGlite.
    const other = database.url
      ? await openDatabase({ url: database.url, embeddedDir: undefined })
      : database;
    const cache = createRevocationCache({
      db: other.db,
      log: createLogger({ level: 'silent' }),
      pollMs: 100,
    });
    cache.start();
    try {
      await cache.refresh();
      expect(cache.isRevoked(session.sessionId)).toBe(false);
      await revokeSession(database.db, session.sessionId, 'logout', new Date());
      const deadline = Date.now() + 1000;
      while (!cache.isRevoked(session.sessionId) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      // isRevoked is synchronous (a Map lookup): the per-request check cannot query anything.
      expect(cache.isRevoked(session.sessionId)).toBe(true);
    } finally {
      cache.stop();
      if (other !== database) await other.close();
    }
  });
});
