// Behaviour of the audit log (L3): recordAudit writes inside the caller's transaction, the
// sealer builds a gapless hash chain from committed events, and verifyAuditChain accepts it.
import { sql } from 'kysely';
import pino from 'pino';
import { expect, it } from 'vitest';
import { jobHandlers, jobSchedules } from '../../jobs/registry.js';
import { describeEachEngine, useTestDatabase, type TestDatabase } from '../../../test/databases.js';
import { sealEverything, testAuditSealing } from '../../../test/audit-chain.js';
import { tamperWithAudit } from '../../../test/tampering.js';
import { GENESIS_HASH, hashAuditRow, recordAudit, type AuditEvent } from './audit.js';
import { AUDIT_SEAL_LOCK_KEY, sealAuditChain } from './seal.js';
import { formatVerification, verifyAuditChain } from './verify.js';

const LOGIN: AuditEvent = {
  actor: { type: 'user', id: 'u-123' },
  action: 'auth.login',
  outcome: 'success',
  requestId: 'req-1',
  clientAddress: '203.0.113.7',
};

async function allRows(database: TestDatabase) {
  return database.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
}

/** The chain in position order, each seal with its event. */
async function chain(database: TestDatabase) {
  return database.db
    .selectFrom('audit_seals as s')
    .innerJoin('audit_events as e', 'e.seq', 's.seq')
    .selectAll('e')
    .select(['s.chain_position', 's.prev_hash as link_prev_hash', 's.hash as link_hash'])
    .select(sql<string>`e.xid::text`.as('xid'))
    .orderBy('s.chain_position')
    .execute();
}

const NO_BACKLOG = { unsealed: 0, staleUnsealed: 0, oldestUnsealedAt: null };

describeEachEngine('audit log', (engine) => {
  const database = useTestDatabase(engine, { each: true });

  it('L3: an empty log verifies, with no last hash', async () => {
    expect(await sealAuditChain(database.db)).toEqual({ sealed: 0, busy: false });
    const result = await verifyAuditChain(database.db);
    expect(result).toMatchObject({ ok: true, checked: 0, lastHash: null, ...NO_BACKLOG });
    expect(formatVerification(result)).toBe('audit log OK: 0 events (empty log)');
  });

  it('L3/chain: N events are sealed at positions 1..N, each linked to the previous hash, and verify across batches', async () => {
    const written: { seq: string; id: string }[] = [];
    for (let i = 0; i < 23; i += 1) {
      written.push(
        await recordAudit(database.db, { ...LOGIN, details: { attempt: i, mfa: i % 2 === 0 } }),
      );
    }
    // Recorded, not yet in the chain: verification counts them as waiting, not as checked.
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: true,
      checked: 0,
      lastHash: null,
      unsealed: 23,
      staleUnsealed: 0,
    });
    // Batches smaller than N exercise the sealer's resume point.
    expect(await sealEverything(database.db, { batchSize: 5 })).toBe(23);
    const rows = await chain(database);
    expect(rows.map((r) => String(r.chain_position))).toEqual(
      Array.from({ length: 23 }, (_, i) => String(i + 1)),
    );
    // One writer, one transaction each: chain order is recording order.
    expect(rows.map((r) => r.id)).toEqual(written.map((w) => w.id));
    expect(rows.map((r) => String(r.seq))).toEqual(written.map((w) => w.seq));
    expect(rows[0]?.link_prev_hash).toBe(GENESIS_HASH);
    rows.forEach((row, i) => {
      const link = { position: row.chain_position, prev_hash: row.link_prev_hash };
      expect(row.link_hash).toBe(hashAuditRow(row, link));
      if (i > 0) expect(row.link_prev_hash).toBe(rows[i - 1]?.link_hash);
    });
    // Sealing again finds nothing to do.
    expect(await sealAuditChain(database.db)).toEqual({ sealed: 0, busy: false });
    const lastHash = rows[22]?.link_hash;
    // A batch size that does not divide N exercises the keyset pagination boundaries.
    for (const batchSize of [1, 7, 23, 1000]) {
      const result = await verifyAuditChain(database.db, { batchSize });
      expect(result).toMatchObject({ ok: true, checked: 23, lastHash, ...NO_BACKLOG });
    }
    expect(formatVerification(await verifyAuditChain(database.db))).toBe(
      `audit log OK: 23 events, last hash ${lastHash}`,
    );
  });

  it('L3: the stored row holds exactly the event fields, and the hash survives the timestamptz/jsonb round trip', async () => {
    const at = new Date('2025-03-04T05:06:07.089Z');
    const details = {
      reason: 'bad_password',
      count: 3,
      ratio: 0.1,
      big: 2 ** 60,
      flag: false,
      none: null,
      text: 'ü ✓ 😀',
    };
    const written = await recordAudit(
      database.db,
      { ...LOGIN, outcome: 'failure', target: { type: 'account', id: 'acc-9' }, details },
      at,
    );
    await sealEverything(database.db);
    const [row] = await chain(database);
    if (row === undefined) throw new Error('not sealed');
    expect(row).toMatchObject({
      id: written.id,
      actor_type: 'user',
      actor_id: 'u-123',
      action: 'auth.login',
      target_type: 'account',
      target_id: 'acc-9',
      outcome: 'failure',
      request_id: 'req-1',
      client_address: '203.0.113.7',
      details,
      chain_position: row.chain_position,
      link_prev_hash: GENESIS_HASH,
    });
    expect(String(row.seq)).toBe(written.seq);
    expect(String(row.chain_position)).toBe('1');
    // Stamped by the database, whatever the writer sent.
    expect(row.xid).toMatch(/^[0-9]+$/);
    expect(row.inserted_at).toBeInstanceOf(Date);
    // The in-row chain columns are for events written before sealing existed.
    expect(row).toMatchObject({ prev_hash: null, hash: null });
    expect(row.occurred_at.toISOString()).toBe(at.toISOString());
    expect(hashAuditRow(row, { position: 1, prev_hash: GENESIS_HASH })).toBe(row.link_hash);
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: true,
      checked: 1,
      lastHash: row.link_hash,
    });
  });

  it('L3: optional fields are stored as NULL and details default to {}', async () => {
    await recordAudit(database.db, {
      actor: { type: 'anonymous' },
      action: 'auth.login',
      outcome: 'denied',
    });
    const row = await database.db.selectFrom('audit_events').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      actor_id: null,
      target_type: null,
      target_id: null,
      request_id: null,
      client_address: null,
      details: {},
    });
    await sealEverything(database.db);
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 1 });
  });

  it('L3/same-transaction: the event commits together with the change it records', async () => {
    await database.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('jobs')
        .values({ queue: 'export', payload: JSON.stringify({}) })
        .execute();
      await recordAudit(trx, { ...LOGIN, action: 'export.request' });
    });
    expect(await database.db.selectFrom('jobs').select('queue').execute()).toHaveLength(1);
    expect((await allRows(database)).map((r) => r.action)).toEqual(['export.request']);
  });

  it('L3/same-transaction: a rolled-back change leaves no audit row, the chain verifies and the next event takes the next position', async () => {
    const first = await recordAudit(database.db, LOGIN);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('jobs')
          .values({ queue: 'export', payload: JSON.stringify({}) })
          .execute();
        const inside = await recordAudit(trx, { ...LOGIN, action: 'export.request' });
        expect(BigInt(inside.seq)).toBeGreaterThan(BigInt(first.seq));
        // Visible inside the transaction, before it aborts.
        const seen = await trx.selectFrom('audit_events').select('seq').execute();
        expect(seen).toHaveLength(2);
        throw new Error('change failed');
      }),
    ).rejects.toThrow('change failed');
    expect(await database.db.selectFrom('jobs').selectAll().execute()).toHaveLength(0);
    expect((await allRows(database)).map((r) => r.action)).toEqual(['auth.login']);
    await sealEverything(database.db);
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 1 });

    // The rolled-back seq stays a hole in seq; the chain has none.
    const next = await recordAudit(database.db, { ...LOGIN, action: 'auth.logout' });
    expect(BigInt(next.seq)).toBeGreaterThan(BigInt(first.seq) + 1n);
    await sealEverything(database.db);
    const rows = await chain(database);
    expect(rows.map((r) => [String(r.chain_position), r.action])).toEqual([
      ['1', 'auth.login'],
      ['2', 'auth.logout'],
    ]);
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: true,
      checked: 2,
      lastHash: rows[1]?.link_hash,
    });
  });

  // (PGlite has one connection: nothing runs beside an open transaction, so the sealer
  // never meets one there.)
  it.skipIf(engine !== 'postgres')(
    'L3/sealing (PostgreSQL): events of a transaction still open are left for a later run, then sealed after it',
    async () => {
      await recordAudit(database.db, { ...LOGIN, action: 'auth.before' });
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let recorded!: () => void;
      const inside = new Promise<void>((resolve) => {
        recorded = resolve;
      });
      const open = database.db.transaction().execute(async (trx) => {
        await recordAudit(trx, { ...LOGIN, action: 'auth.inside' });
        recorded();
        await held;
      });
      await inside;
      // Committed after the open transaction began writing: must wait for it.
      await recordAudit(database.db, { ...LOGIN, action: 'auth.during' });
      expect(await sealEverything(database.db, { leaveUnsealed: 2 })).toBe(1);
      expect(await sealAuditChain(database.db)).toEqual({ sealed: 0, busy: false });
      expect((await chain(database)).map((r) => r.action)).toEqual(['auth.before']);
      expect(await verifyAuditChain(database.db)).toMatchObject({
        ok: true,
        checked: 1,
        unsealed: 1,
      });
      release();
      await open;
      await sealEverything(database.db);
      expect((await chain(database)).map((r) => r.action)).toEqual([
        'auth.before',
        'auth.inside',
        'auth.during',
      ]);
      expect(await verifyAuditChain(database.db)).toMatchObject({
        ok: true,
        checked: 3,
        unsealed: 0,
      });
    },
  );

  it('L3/sealing order: events are sealed in numeric xid order when transaction ids gain a digit (9 before 10)', async () => {
    const first = await recordAudit(database.db, { ...LOGIN, action: 'auth.first' });
    const second = await recordAudit(database.db, { ...LOGIN, action: 'auth.second' });
    // Transaction ids 9 and 10: as numbers 9 < 10, as text '10' < '9'. Both lie below every
    // live transaction, so the sealer takes both in one run.
    await tamperWithAudit(database.db, async (db) => {
      await sql`UPDATE audit_events SET xid = '9'::xid8 WHERE seq = ${first.seq}`.execute(db);
      await sql`UPDATE audit_events SET xid = '10'::xid8 WHERE seq = ${second.seq}`.execute(db);
    });
    await sealEverything(database.db);
    expect((await chain(database)).map((row) => [row.action, row.xid])).toEqual([
      ['auth.first', '9'],
      ['auth.second', '10'],
    ]);
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 2 });
  });

  // PGlite has one connection: a second sealer could only wait behind the first, never be busy.
  it.skipIf(engine !== 'postgres')(
    'L3/sealing (PostgreSQL): while one sealer holds the lock, another on its own connection returns at once as busy',
    async () => {
      await recordAudit(database.db, LOGIN);
      await database.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${AUDIT_SEAL_LOCK_KEY}::bigint)`.execute(trx);
        expect(await sealAuditChain(database.db)).toEqual({ sealed: 0, busy: true });
      });
      expect(await sealEverything(database.db)).toBe(1);
    },
  );

  it("L3/sealing: the sealer runs on the database handle, never inside a caller's transaction", async () => {
    await recordAudit(database.db, LOGIN);
    await expect(database.db.transaction().execute((trx) => sealAuditChain(trx))).rejects.toThrow(
      /pass the database handle/,
    );
    expect(await sealEverything(database.db)).toBe(1);
  });

  it('L3/sealing: the audit.seal job runs every second on the shared queue and seals', async () => {
    expect(jobSchedules()).toContainEqual({ queue: 'audit.seal', everyMs: 1_000 });
    await recordAudit(database.db, LOGIN);
    const sealing = testAuditSealing();
    const key = sealing.auditChainKey;
    const handler = jobHandlers(sealing)['audit.seal'];
    if (!handler) throw new Error('no audit.seal handler');
    const context = { jobId: 'j', attempt: 1, db: database.db, log: pino({ level: 'silent' }) };
    // Run as the queue would, once a second (on a shared PostgreSQL server another database's
    // open transaction can hold one run back).
    for (let run = 0; run < 20; run += 1) {
      await handler({}, context);
      if ((await chain(database)).length === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    // Sealed with the chain key, and anchored at once (the first anchor of a process).
    expect(await verifyAuditChain(database.db, { key })).toMatchObject({
      ok: true,
      checked: 1,
      keyed: 1,
      unsealed: 0,
    });
    expect(sealing.published).toEqual([
      expect.objectContaining({
        position: '1',
        keyId: key.id,
        hash: (await chain(database))[0]?.link_hash,
      }),
    ]);
  });

  it('L3/sealing: events left unsealed too long are reported as stale, with a warning', async () => {
    await recordAudit(database.db, LOGIN);
    await recordAudit(database.db, LOGIN);
    const fresh = await verifyAuditChain(database.db);
    expect(fresh).toMatchObject({ ok: true, checked: 0, unsealed: 2, staleUnsealed: 0 });
    expect(formatVerification(fresh)).toBe(
      'audit log OK: 0 events sealed; 2 newer events are not sealed yet',
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stale = await verifyAuditChain(database.db, { staleAfterMs: 10 });
    expect(stale).toMatchObject({ ok: true, unsealed: 2, staleUnsealed: 2 });
    expect(stale.ok && stale.oldestUnsealedAt).toBeInstanceOf(Date);
    expect(formatVerification(stale)).toMatch(
      /; WARNING: 2 of them recorded more than 0 min ago \(oldest .*\) and not protected by the chain: the sealer .* is not running/,
    );
  });

  it('L3: without a transaction, recordAudit uses its own and the row is committed', async () => {
    const written = await recordAudit(database.db, LOGIN);
    // A separate query (another pooled connection on PostgreSQL) sees the committed row.
    const r = await sql<{
      n: number;
    }>`select count(*)::int as n from audit_events where id = ${written.id}`.execute(database.db);
    expect(r.rows[0]?.n).toBe(1);
  });

  it('L3/validation: malformed events are refused before anything is written', async () => {
    const bad: AuditEvent[] = [
      { ...LOGIN, action: 'Auth.Login' },
      { ...LOGIN, action: 'auth login' },
      { ...LOGIN, action: `a${'x'.repeat(100)}` },
      { ...LOGIN, actor: { type: 'robot' as 'user' } },
      { ...LOGIN, outcome: 'maybe' as 'success' },
      { ...LOGIN, actor: { type: 'user', id: 'x'.repeat(129) } },
      { ...LOGIN, target: { type: 't'.repeat(65), id: '1' } },
      { ...LOGIN, requestId: 'r'.repeat(129) },
      { ...LOGIN, clientAddress: '1'.repeat(65) },
      { ...LOGIN, actor: { type: 'user', id: 'bad\u0000id' } },
      { ...LOGIN, actor: { type: 'user', id: 'lone\uD800' } },
      { ...LOGIN, details: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) },
      { ...LOGIN, details: { reason: 'x'.repeat(201) } },
      { ...LOGIN, details: { nested: { a: 1 } as unknown as string } },
      { ...LOGIN, details: { list: [1] as unknown as string } },
      { ...LOGIN, details: { count: Number.NaN } },
      { ...LOGIN, details: { 'bad key': 1 } },
    ];
    for (const event of bad) {
      await expect(recordAudit(database.db, event), JSON.stringify(event)).rejects.toThrow(
        /^recordAudit: /,
      );
    }
    await expect(recordAudit(database.db, LOGIN, new Date(Number.NaN))).rejects.toThrow(
      /now must be a valid Date/,
    );
    expect(await allRows(database)).toHaveLength(0);
  });
});
