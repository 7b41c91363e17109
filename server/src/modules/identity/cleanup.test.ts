// A13: the identity cleanup purges only records nobody can use any more, and two workers
// running it at the same moment neither fail nor delete anything they should not.
import pino from 'pino';
import { beforeAll, expect, it, vi } from 'vitest';
import { createUser } from '../../../test/actors.js';
import { describeEachEngine, useTestDatabase } from '../../../test/databases.js';
import { randomToken, sha256Hex } from '../../platform/crypto.js';
import { jobHandlers, jobSchedules } from '../../jobs/registry.js';
import { testAuditSealing } from '../../../test/audit-chain.js';
import { purgeExpiredIdentityRecords } from './cleanup-repo.js';

const NOW = new Date('2030-01-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const ahead = (ms: number) => new Date(NOW.getTime() + ms);
const MIN = 60_000;
const DAY = 24 * 60 * MIN;

describeEachEngine('identity cleanup', (engine) => {
  const database = useTestDatabase(engine);
  let userId: string;

  beforeAll(async () => {
    const user = await createUser(database.db, {
      roles: [],
      email: 'cleanup@example.org',
      displayName: 'Cleanup',
    });
    userId = user.userId;
  });

  /** One batch of rows, each labelled with whether the purge must remove it. */
  async function seed(tag: string) {
    const db = database.db;
    /** The id the insert returns. */
    const idOf = async (insert: { executeTakeFirstOrThrow(): Promise<{ id: string }> }) =>
      (await insert.executeTakeFirstOrThrow()).id;
    const session = (label: string, values: { absolute: Date; idle?: Date; revoked?: Date }) =>
      idOf(
        db
          .insertInto('sessions')
          .values({
            user_id: userId,
            idle_expires_at: values.idle ?? values.absolute,
            absolute_expires_at: values.absolute,
            revoked_at: values.revoked ?? null,
            user_agent: `${tag}:${label}`,
          })
          .returning('id'),
      );
    const live = await session('live', { absolute: ahead(DAY) });
    const keptSessions = [
      live,
      await session('revoked-recently', { absolute: ahead(DAY), revoked: ago(60 * MIN) }),
      await session('just-expired', { absolute: ago(MIN) }),
      await session('just-idle', { absolute: ahead(DAY), idle: ago(MIN) }),
    ];
    const goneSessions = [
      await session('long-expired', { absolute: ago(DAY) }),
      await session('revoked-long-ago', { absolute: ahead(DAY), revoked: ago(2 * DAY) }),
      // Idle past its idle expiry (and the grace): dead, although its absolute expiry is ahead.
      await session('long-idle', { absolute: ahead(DAY), idle: ago(DAY) }),
    ];
    const refresh = (values: { expires: Date; consumed?: Date }) =>
      idOf(
        db
          .insertInto('refresh_tokens')
          .values({
            session_id: live,
            token_hash: sha256Hex(randomToken()),
            expires_at: values.expires,
            consumed_at: values.consumed ?? null,
          })
          .returning('id'),
      );
    const keptRefresh = [
      await refresh({ expires: ahead(DAY) }),
      await refresh({ expires: ahead(DAY), consumed: ago(60 * MIN) }),
    ];
    const goneRefresh = [
      await refresh({ expires: ago(MIN) }),
      await refresh({ expires: ahead(DAY), consumed: ago(2 * DAY) }),
    ];
    const link = (values: { expires: Date; used?: Date }) =>
      idOf(
        db
          .insertInto('one_time_tokens')
          .values({
            purpose: 'password_reset',
            data: '{}',
            token_hash: sha256Hex(randomToken()),
            user_id: userId,
            expires_at: values.expires,
            used_at: values.used ?? null,
          })
          .returning('id'),
      );
    const keptLinks = [
      await link({ expires: ahead(30 * MIN) }),
      await link({ expires: ahead(30 * MIN), used: ago(MIN) }),
    ];
    const goneLinks = [
      await link({ expires: ago(MIN) }),
      await link({ expires: ahead(DAY), used: ago(2 * DAY) }),
    ];
    const throttle = async (label: string, values: { updated: Date; backoff?: Date }) => {
      const hash = sha256Hex(`${tag}:${label}`);
      await db
        .insertInto('login_throttle')
        .values({
          email_hash: hash,
          failures: 5,
          updated_at: values.updated,
          backoff_until: values.backoff ?? null,
        })
        .execute();
      return hash;
    };
    const keptThrottle = [
      await throttle('recent', { updated: ago(MIN), backoff: ahead(MIN) }),
      await throttle('backoff-recent', { updated: ago(2 * DAY), backoff: ago(60 * MIN) }),
    ];
    const goneThrottle = [
      await throttle('quiet', { updated: ago(2 * DAY) }),
      await throttle('old-backoff', { updated: ago(3 * DAY), backoff: ago(2 * DAY) }),
    ];
    return {
      kept: { keptSessions, keptRefresh, keptLinks, keptThrottle },
      gone: { goneSessions, goneRefresh, goneLinks, goneThrottle },
    };
  }

  async function remaining() {
    const db = database.db;
    const ids = async (rows: Promise<Array<{ id: string }>>) =>
      new Set((await rows).map((r) => r.id));
    return {
      sessions: await ids(db.selectFrom('sessions').select('id').execute()),
      refresh: await ids(db.selectFrom('refresh_tokens').select('id').execute()),
      links: await ids(db.selectFrom('one_time_tokens').select('id').execute()),
      throttle: new Set(
        (await db.selectFrom('login_throttle').select('email_hash').execute()).map(
          (r) => r.email_hash,
        ),
      ),
    };
  }

  async function expectPurged(batch: Awaited<ReturnType<typeof seed>>) {
    const left = await remaining();
    for (const id of batch.kept.keptSessions) expect(left.sessions.has(id)).toBe(true);
    for (const id of batch.gone.goneSessions) expect(left.sessions.has(id)).toBe(false);
    for (const id of batch.kept.keptRefresh) expect(left.refresh.has(id)).toBe(true);
    for (const id of batch.gone.goneRefresh) expect(left.refresh.has(id)).toBe(false);
    for (const id of batch.kept.keptLinks) expect(left.links.has(id)).toBe(true);
    for (const id of batch.gone.goneLinks) expect(left.links.has(id)).toBe(false);
    for (const hash of batch.kept.keptThrottle) expect(left.throttle.has(hash)).toBe(true);
    for (const hash of batch.gone.goneThrottle) expect(left.throttle.has(hash)).toBe(false);
  }

  it('A13: purges only expired, long-revoked and long-used rows', async () => {
    const batch = await seed('single');
    const counts = await purgeExpiredIdentityRecords(database.db, NOW);
    expect(counts).toEqual({ sessions: 3, refreshTokens: 2, oneTimeTokens: 2, loginThrottle: 2 });
    await expectPurged(batch);
    // Nothing left to do: a rerun (say, after a crash mid-job) deletes nothing more.
    expect(await purgeExpiredIdentityRecords(database.db, NOW)).toEqual({
      sessions: 0,
      refreshTokens: 0,
      oneTimeTokens: 0,
      loginThrottle: 0,
    });
  });

  it('A13: two workers purging at the same moment both succeed and split the work', async () => {
    const batch = await seed('concurrent');
    const [a, b] = await Promise.all([
      purgeExpiredIdentityRecords(database.db, NOW),
      purgeExpiredIdentityRecords(database.db, NOW),
    ]);
    expect(a.sessions + b.sessions).toBe(3);
    expect(a.refreshTokens + b.refreshTokens).toBe(2);
    expect(a.oneTimeTokens + b.oneTimeTokens).toBe(2);
    expect(a.loginThrottle + b.loginThrottle).toBe(2);
    await expectPurged(batch);
  });

  // A worker's own clock is no judge of expiry: PostgreSQL's is (embedded PGlite has only the
  // node's clock, and one process).
  it.skipIf(engine !== 'postgres')(
    'A13/clock skew: the identity.cleanup job of a worker whose clock runs 2 hours ahead purges no live session',
    async () => {
      const real = Date.now();
      const live = await database.db
        .insertInto('sessions')
        .values({
          user_id: userId,
          idle_expires_at: new Date(real + 30 * MIN),
          absolute_expires_at: new Date(real + DAY),
          user_agent: 'skew:live',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const handler = jobHandlers(testAuditSealing())['identity.cleanup']!;
      vi.useFakeTimers({ toFake: ['Date'], now: real + 2 * 60 * MIN });
      try {
        await handler(
          {},
          { jobId: 'skewed', attempt: 1, db: database.db, log: pino({ level: 'silent' }) },
        );
      } finally {
        vi.useRealTimers();
      }
      const left = await database.db
        .selectFrom('sessions')
        .select('id')
        .where('id', '=', live.id)
        .execute();
      expect(left).toHaveLength(1);
    },
  );

  it('A13: runs as the identity.cleanup job every 10 minutes', async () => {
    expect(jobSchedules()).toContainEqual({ queue: 'identity.cleanup', everyMs: 10 * MIN });
    const handler = jobHandlers(testAuditSealing())['identity.cleanup'];
    expect(handler).toBeDefined();
    await handler!(
      {},
      { jobId: 'test', attempt: 1, db: database.db, log: pino({ level: 'silent' }) },
    );
  });
});
