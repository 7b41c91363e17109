// Behaviour of the audit log (L3): recordAudit builds a gapless hash chain inside the caller's
// transaction, and verifyAuditChain accepts it.
import { sql } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachEngine,
  type TestDatabase,
} from '../../../test/databases.js';
import { GENESIS_HASH, hashAuditRow, recordAudit, type AuditEvent } from './audit.js';
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

describeEachEngine('audit log', (engine) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase(engine);
  });
  afterEach(async () => {
    await database.close();
  });

  it('L3: an empty log verifies, with no last hash', async () => {
    const result = await verifyAuditChain(database.db);
    expect(result).toEqual({ ok: true, checked: 0, lastHash: null });
    expect(formatVerification(result)).toBe('audit log OK: 0 events (empty log)');
  });

  it('L3/chain: N events get seq 1..N, each linked to the previous hash, and verify across batches', async () => {
    const written: { seq: string; hash: string }[] = [];
    for (let i = 0; i < 23; i += 1) {
      written.push(
        await recordAudit(database.db, { ...LOGIN, details: { attempt: i, mfa: i % 2 === 0 } }),
      );
    }
    const rows = await allRows(database);
    expect(rows.map((r) => String(r.seq))).toEqual(
      Array.from({ length: 23 }, (_, i) => String(i + 1)),
    );
    expect(written.map((w) => w.seq)).toEqual(rows.map((r) => String(r.seq)));
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    rows.forEach((row, i) => {
      expect(row.hash).toBe(hashAuditRow(row));
      if (i > 0) expect(row.prev_hash).toBe(rows[i - 1]?.hash);
    });
    // A batch size that does not divide N exercises the keyset pagination boundaries.
    for (const batchSize of [1, 7, 23, 1000]) {
      const result = await verifyAuditChain(database.db, { batchSize });
      expect(result).toEqual({ ok: true, checked: 23, lastHash: written[22]?.hash });
    }
    expect(formatVerification(await verifyAuditChain(database.db))).toBe(
      `audit log OK: 23 events, last hash ${written[22]?.hash}`,
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
    const row = await database.db.selectFrom('audit_events').selectAll().executeTakeFirstOrThrow();
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
      prev_hash: GENESIS_HASH,
      hash: written.hash,
    });
    expect(row.occurred_at.toISOString()).toBe(at.toISOString());
    expect(hashAuditRow(row)).toBe(written.hash);
    expect((await verifyAuditChain(database.db)).ok).toBe(true);
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
    expect((await verifyAuditChain(database.db)).ok).toBe(true);
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

  it('L3/same-transaction: a rolled-back change leaves no audit row, the chain verifies and the next event takes the next seq', async () => {
    await recordAudit(database.db, LOGIN);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('jobs')
          .values({ queue: 'export', payload: JSON.stringify({}) })
          .execute();
        const inside = await recordAudit(trx, { ...LOGIN, action: 'export.request' });
        expect(inside.seq).toBe('2');
        // Visible inside the transaction, before it aborts.
        const seen = await trx.selectFrom('audit_events').select('seq').execute();
        expect(seen).toHaveLength(2);
        throw new Error('change failed');
      }),
    ).rejects.toThrow('change failed');
    expect(await database.db.selectFrom('jobs').selectAll().execute()).toHaveLength(0);
    expect((await allRows(database)).map((r) => r.action)).toEqual(['auth.login']);
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 1 });

    const next = await recordAudit(database.db, { ...LOGIN, action: 'auth.logout' });
    expect(next.seq).toBe('2');
    expect(await verifyAuditChain(database.db)).toEqual({
      ok: true,
      checked: 2,
      lastHash: next.hash,
    });
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
