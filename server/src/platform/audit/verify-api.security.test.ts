// The admin API's verification (POST /api/admin/audit-log/verify) uses the configured chain key
// and the data folder's anchors (L3, issue 16), while the module itself never holds the key.
import pino from 'pino';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/app-harness.js';
import { callAs, createActor, type Actor } from '../../../test/actors.js';
import { describeEachEngine } from '../../../test/databases.js';
import { sealEverything } from '../../../test/audit-chain.js';
import type { DatabaseSchema } from '../db/schema.js';
import { auditAnchorsPath, fileAndLogAnchorSink } from './anchors.js';
import { hashAuditRow, recordAudit } from './audit.js';
import { deriveAuditChainKey, type AuditChainKey } from './chain-key.js';

type Db = Kysely<DatabaseSchema>;

async function withTriggersOff(db: Db, edit: () => Promise<void>): Promise<void> {
  await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(db);
  await sql`ALTER TABLE audit_seals DISABLE TRIGGER USER`.execute(db);
  try {
    await edit();
  } finally {
    await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(db);
    await sql`ALTER TABLE audit_seals ENABLE TRIGGER USER`.execute(db);
  }
}

/** The newest seal with its event. */
async function newest(db: Db) {
  return db
    .selectFrom('audit_seals as s')
    .innerJoin('audit_events as e', 'e.seq', 's.seq')
    .selectAll('e')
    .select([
      's.chain_position',
      's.prev_hash as link_prev_hash',
      's.hash as link_hash',
      's.key_id',
    ])
    .select(sql<string>`e.xid::text`.as('xid'))
    .orderBy('s.chain_position', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
}

describeEachEngine('audit log verification over the API, keyed and anchored', (engine) => {
  let harness: TestApp;
  let db: Db;
  let admin: Actor;
  let key: AuditChainKey;

  beforeAll(async () => {
    harness = await createTestApp(engine, { env: { HAVEN_RATE_SENSITIVE: '10000/60' } });
    db = harness.database.db;
    admin = await createActor(harness.app, ['admin']);
    key = deriveAuditChainKey(harness.config.masterKey);
  });
  afterAll(async () => {
    await harness.close();
  });

  const verify = async () => {
    const res = await callAs(harness.app, admin, 'POST', '/api/admin/audit-log/verify', {});
    expect(res.statusCode).toBe(200);
    return res.json<{ ok: boolean; checked: number; problem?: string; message?: string }>();
  };

  it('L3: the admin verification authenticates keyed seals with the configured key and checks the anchors', async () => {
    for (let i = 0; i < 3; i += 1) {
      await recordAudit(db, { actor: { type: 'system' }, action: 'api.event', outcome: 'success' });
    }
    await sealEverything(db, { key });
    const tail = await newest(db);
    await fileAndLogAnchorSink({
      file: auditAnchorsPath(harness.config.dataDir),
      log: pino({ level: 'silent' }),
    }).publish({
      position: String(tail.chain_position),
      seq: String(tail.seq),
      hash: tail.link_hash,
      keyId: tail.key_id,
      at: new Date().toISOString(),
    });
    expect(await verify()).toMatchObject({ ok: true });

    // The newest event rewritten, its seal recomputed as plain SHA-256 under the same key id.
    await withTriggersOff(db, async () => {
      await sql`UPDATE audit_events SET outcome = 'failure' WHERE seq = ${tail.seq}`.execute(db);
      const forged = hashAuditRow(
        { ...tail, outcome: 'failure' },
        { position: tail.chain_position, prev_hash: tail.link_prev_hash },
      );
      await sql`UPDATE audit_seals SET hash = ${forged} WHERE chain_position = ${tail.chain_position}`.execute(
        db,
      );
    });
    expect(await verify()).toMatchObject({ ok: false, problem: 'edited' });

    // The newest event deleted with its seal: the rest is intact, the anchor is not reached.
    await withTriggersOff(db, async () => {
      await sql`DELETE FROM audit_events WHERE seq = ${tail.seq}`.execute(db);
      await sql`DELETE FROM audit_seals WHERE chain_position = ${tail.chain_position}`.execute(db);
    });
    const cut = await verify();
    expect(cut).toMatchObject({ ok: false, problem: 'deleted' });
    expect(cut.message).toMatch(/tail was cut below the anchor/);
  });
});
