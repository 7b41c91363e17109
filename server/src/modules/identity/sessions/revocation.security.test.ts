// A7: a sign-out reaches every node within a second whatever the nodes' clocks say, and a
// revocation that commits after a later one is not skipped (issue 9, defect 2).
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createUser } from '../../../../test/actors.js';
import {
  createTestDatabase,
  describeEachEngine,
  useTestDatabase,
} from '../../../../test/databases.js';
import { openDatabase, type Database } from '../../../platform/db/database.js';
import { createLogger } from '../../../platform/logging.js';
import * as m0004 from '../../../platform/db/migrations/0004_revocation_cursor.js';
import { createRevocationCache, type RevocationCache } from './revocation.js';
import { DEFAULT_LIFETIMES, createSession, revokeSession } from './repo.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const silent = createLogger({ level: 'silent' });

describeEachEngine('revocation cache', (engine) => {
  const database = useTestDatabase(engine, { each: true });
  let userId: string;
  /** Every node's database handle: its own pool on PostgreSQL, the one PGlite otherwise. */
  const handles: Database[] = [];
  const caches: RevocationCache[] = [];

  beforeEach(async () => {
    userId = (await createUser(database.db, { roles: ['patient'] })).userId;
  });
  afterEach(async () => {
    for (const cache of caches.splice(0)) cache.stop();
    for (const handle of handles.splice(0)) await handle.close();
  });

  const login = async () =>
    (
      await createSession(
        database.db,
        { userId, amr: ['pwd'], mfaAt: null, userAgent: 'test', clientAddress: '127.0.0.1' },
        DEFAULT_LIFETIMES,
        new Date(),
      )
    ).sessionId;

  /** A server node whose clock is `skewMs` off: its own connection pool and revocation cache. */
  async function node(skewMs: number) {
    let handle: Database = database;
    if (database.url) {
      handle = await openDatabase({ url: database.url, embeddedDir: undefined, poolSize: 3 });
      handles.push(handle);
    }
    const clock = () => Date.now() + skewMs;
    const cache = createRevocationCache({ db: handle.db, log: silent, pollMs: 100, now: clock });
    caches.push(cache);
    cache.start();
    await cache.refresh();
    return {
      cache,
      /** Sign-out as the logout route does it: revoke with this node's clock, mark locally. */
      async signOut(sessionId: string) {
        expect(await revokeSession(handle.db, sessionId, 'logout', new Date(clock()))).toBe(true);
        cache.markRevoked(sessionId);
      },
    };
  }

  /** Waits up to a second for the node's own poller (not a refresh call) to see the session. */
  async function refusedWithinASecond(cache: RevocationCache, sessionId: string) {
    const deadline = Date.now() + SECOND;
    while (!cache.isRevoked(sessionId) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return cache.isRevoked(sessionId);
  }

  it('A7/skewed clocks: a sign-out on a node whose clock is 3 s behind is refused by the other node within a second', async () => {
    const [first, second] = [await login(), await login()];
    const inSync = await node(0);
    const behind = await node(-3 * SECOND);
    // The in-sync node has just seen a sign-out of its own: a poller that trusted revoked_at
    // would now look only at rows stamped after (that moment - overlap).
    await inSync.signOut(first);
    await inSync.cache.refresh();
    await behind.signOut(second);
    expect(await refusedWithinASecond(inSync.cache, second)).toBe(true);
    // The row carries the database's time, not the slow node's.
    const row = await sql<{ drift: number }>`
      SELECT abs(extract(epoch FROM now() - revoked_at)) AS drift
      FROM sessions WHERE id = ${second}`.execute(database.db);
    expect(Number(row.rows[0]?.drift)).toBeLessThan(2);
  });

  it('A7/skewed clocks: after a sign-out on a node whose clock is 5 s ahead, a sign-out on an in-sync node is still refused everywhere within a second', async () => {
    const [first, second] = [await login(), await login()];
    const observer = await node(0);
    const ahead = await node(5 * SECOND);
    const inSync = await node(0);
    await ahead.signOut(first);
    expect(await refusedWithinASecond(observer.cache, first)).toBe(true);
    await inSync.signOut(second);
    expect(await refusedWithinASecond(observer.cache, second)).toBe(true);
    expect(await refusedWithinASecond(ahead.cache, second)).toBe(true);
  });

  it('A7/skewed clocks: a node whose clock is 10 minutes ahead knows sign-outs made before it started and after', async () => {
    const [before, after] = [await login(), await login()];
    const inSync = await node(0);
    await inSync.signOut(before);
    const fast = await node(10 * MINUTE);
    expect(fast.cache.isRevoked(before)).toBe(true);
    await inSync.signOut(after);
    expect(await refusedWithinASecond(fast.cache, after)).toBe(true);
  });

  it('A7/retention: an id is kept for retainMs of the node’s own clock from when it learned of it', async () => {
    const session = await login();
    let local = 0; // a clock unrelated to the database's
    const cache = createRevocationCache({
      db: database.db,
      log: silent,
      retainMs: 6 * MINUTE,
      now: () => local,
    });
    await cache.refresh();
    await revokeSession(database.db, session, 'logout', new Date(0));
    local = 1_000_000;
    await cache.refresh();
    expect(cache.isRevoked(session)).toBe(true);
    local += 6 * MINUTE - 1;
    await cache.refresh();
    expect(cache.isRevoked(session)).toBe(true);
    local += 2;
    await cache.refresh();
    expect(cache.isRevoked(session)).toBe(false);
  });

  it('A7/any writer: a session revoked by a bare UPDATE (an operator, a node on the previous release) reaches every node', async () => {
    const session = await login();
    const other = await node(0);
    await database.db
      .updateTable('sessions')
      .set({ revoked_at: new Date(Date.now() - 3 * SECOND), revoked_reason: 'operator' })
      .where('id', '=', session)
      .execute();
    expect(await refusedWithinASecond(other.cache, session)).toBe(true);
  });

  it('A7/upgrade: sessions revoked before migration 0004 get a cursor value (backfill)', async () => {
    const [revoked, live] = [await login(), await login()];
    const migrationDb = database.db as unknown as Kysely<unknown>;
    await m0004.down(migrationDb);
    await sql`UPDATE sessions SET revoked_at = now() WHERE id = ${revoked}`.execute(database.db);
    await m0004.up(migrationDb);
    const rows = await database.db
      .selectFrom('sessions')
      .select(['id', 'revocation_xid'])
      .execute();
    const xid = new Map(rows.map((r) => [r.id, r.revocation_xid]));
    expect(xid.get(revoked)).toMatch(/^\d+$/);
    expect(xid.get(live)).toBeNull();
  });

  // PGlite has a single connection: two transactions can never be open at once there.
  it.skipIf(engine === 'pglite')(
    'A7/out-of-order commits (PostgreSQL): a revocation that commits after a later one, held open across several polls, is still refused',
    async () => {
      const [slow, quick] = [await login(), await login()];
      const observer = await node(0);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let revokedInside!: () => void;
      const started = new Promise<void>((resolve) => (revokedInside = resolve));
      // The slow sign-out takes its place in the order first (its transaction id is the
      // lower one) and commits last.
      const slowTransaction = database.db.transaction().execute(async (trx) => {
        expect(await revokeSession(trx, slow, 'logout', new Date())).toBe(true);
        revokedInside();
        await released;
      });
      try {
        await started;
        const quickNode = await node(0);
        await quickNode.signOut(quick);
        expect(await refusedWithinASecond(observer.cache, quick)).toBe(true);
        for (let i = 0; i < 3; i++) await observer.cache.refresh();
        expect(observer.cache.isRevoked(slow)).toBe(false); // not committed: not revoked yet
      } finally {
        release();
        await slowTransaction;
      }
      expect(await refusedWithinASecond(observer.cache, slow)).toBe(true);
    },
  );
});

it('A7/database replaced: when transaction ids go backwards (a restored database behind the same URL), the cache rereads instead of skipping revocations', async () => {
  const [used, restored] = [await createTestDatabase('pglite'), await createTestDatabase('pglite')];
  try {
    // The database the node has been polling has moved its transaction ids on.
    for (let i = 0; i < 20; i++) await sql`SELECT pg_current_xact_id()`.execute(used.db);
    let current: Database = used;
    const switching = { getExecutor: () => current.db.getExecutor() } as unknown as Database['db'];
    const cache = createRevocationCache({ db: switching, log: silent });
    await cache.refresh();
    current = restored;
    const user = await createUser(restored.db, {
      roles: [],
      email: 'x@example.org',
      displayName: 'X',
    });
    const session = await createSession(
      restored.db,
      { userId: user.userId, amr: ['pwd'], mfaAt: null, userAgent: null, clientAddress: null },
      DEFAULT_LIFETIMES,
      new Date(),
    );
    await revokeSession(restored.db, session.sessionId, 'logout', new Date());
    await cache.refresh();
    expect(cache.isRevoked(session.sessionId)).toBe(true);
  } finally {
    await used.close();
    await restored.close();
  }
});
