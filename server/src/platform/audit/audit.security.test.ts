// Threats against the audit log (L3): changing history through the database, tampering with the
// triggers disabled, events slipped in behind the sealer, concurrent writers and sealers on
// several nodes (one chain, every event exactly once, whatever the commit order), an upgrade
// from the in-row chain, and PHI leaking in.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachEngine, useTestDatabase } from '../../../test/databases.js';
import { tamperWithAudit } from '../../../test/tampering.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrateTo, migrateToLatest } from '../db/migrate.js';
import type { DatabaseSchema } from '../db/schema.js';
import { sealEverything, sealedChain } from '../../../test/audit-chain.js';
import { GENESIS_HASH, hashAuditRow, recordAudit, type AuditEvent } from './audit.js';
import { sealAuditChain } from './seal.js';
import { formatVerification, verifyAuditChain } from './verify.js';

type Db = Kysely<DatabaseSchema>;

function event(i: number): AuditEvent {
  return {
    actor: { type: 'user', id: `u-${i}` },
    action: 'record.view',
    target: { type: 'record', id: `r-${i}` },
    outcome: 'success',
    requestId: `req-${i}`,
    details: { i },
  };
}

/** Records n events one after another and seals them; returns the chain's hashes. */
async function writeEvents(db: Db, n: number): Promise<string[]> {
  for (let i = 1; i <= n; i += 1) await recordAudit(db, event(i));
  await sealEverything(db);
  return (await sealedChain(db)).map((row) => row.link_hash);
}

/** The audit_events columns of an event (as read back by `sealedChain`), ready to insert again. */
function eventColumns(row: Awaited<ReturnType<typeof sealedChain>>[number]) {
  return {
    seq: row.seq,
    id: row.id,
    occurred_at: row.occurred_at,
    actor_type: row.actor_type,
    actor_id: row.actor_id,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    outcome: row.outcome,
    request_id: row.request_id,
    client_address: row.client_address,
    details: JSON.stringify(row.details),
    xid: row.xid,
    inserted_at: row.inserted_at,
  };
}

async function sealedAt(db: Db, position: number) {
  const row = (await sealedChain(db)).find((r) => String(r.chain_position) === String(position));
  if (row === undefined) throw new Error(`nothing sealed at ${position}`);
  return row;
}

/** An attacker with table-owner rights edits events and seals alike (test/tampering.ts). */
const tamper = (db: Db, edit: (db: Db) => Promise<void>): Promise<void> =>
  tamperWithAudit(db, edit, ['audit_events', 'audit_seals']);

/** Moves one seal to another chain position (the primary key is checked row by row, so one at a time). */
async function moveSeal(db: Db, from: number, to: number): Promise<void> {
  await sql`UPDATE audit_seals SET chain_position = ${to} WHERE chain_position = ${from}`.execute(
    db,
  );
}

async function positions(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('audit_seals')
    .select('chain_position')
    .orderBy('chain_position')
    .execute();
  return rows.map((r) => String(r.chain_position));
}

async function seqs(db: Db): Promise<string[]> {
  const rows = await db.selectFrom('audit_events').select('seq').orderBy('seq').execute();
  return rows.map((r) => String(r.seq));
}

const range = (n: number): string[] => Array.from({ length: n }, (_, i) => String(i + 1));

/** An attack on sealed events (by an attacker with table-owner rights) and what verify reports. */
interface TamperingCase {
  readonly name: string;
  /** Events recorded and sealed before the attack. */
  readonly events: number;
  readonly attack: (db: Db) => Promise<void>;
  /** Seal positions left after an attack that keeps them gapless (1..n). */
  readonly positionsAfter?: number;
  /** A batch size for verification, for attacks that must be found across batches. */
  readonly batchSize?: number;
  readonly found: Record<string, unknown>;
  /** The failure's own message, or its formatted report line. */
  readonly message?: string;
  readonly report?: RegExp;
}

const TAMPERING: readonly TamperingCase[] = [
  {
    name: 'L3/tampering: verify reports the first edited event',
    events: 8,
    attack: async (db) => {
      await sql`UPDATE audit_events SET outcome = 'denied' WHERE seq = 6`.execute(db);
      await sql`UPDATE audit_events SET details = '{"i": 99}'::jsonb WHERE seq = 4`.execute(db);
    },
    batchSize: 3,
    found: { checked: 3, firstBadSeq: '4', firstBadPosition: '4', problem: 'edited' },
    report:
      /^audit log FAILED at seq 4 \(edited\): position 4 \(seq 4\) does not match its hash; 3 events verified before it$/,
  },
  {
    name: "L3/tampering: editing an event's transaction id (its place in the sealing order) is caught",
    events: 3,
    attack: async (db) => {
      await sql`UPDATE audit_events SET xid = '1'::xid8 WHERE seq = 2`.execute(db);
    },
    found: { checked: 1, firstBadSeq: '2', problem: 'edited' },
  },
  {
    name: 'L3/tampering: a sub-millisecond edit of occurred_at is caught',
    events: 3,
    attack: async (db) => {
      await sql`UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 2`.execute(
        db,
      );
    },
    found: { firstBadSeq: '2', problem: 'edited' },
  },
  {
    name: 'L3/tampering: an event edited with a recomputed seal is caught by the next link',
    events: 5,
    attack: async (db) => {
      const row = await sealedAt(db, 3);
      const forged = { ...row, outcome: 'failure' as const };
      const link = { position: 3, prev_hash: row.link_prev_hash };
      await db
        .updateTable('audit_events')
        .set({ outcome: 'failure' })
        .where('seq', '=', row.seq)
        .execute();
      await db
        .updateTable('audit_seals')
        .set({ hash: hashAuditRow(forged, link) })
        .where('chain_position', '=', '3')
        .execute();
    },
    found: { checked: 2, firstBadSeq: '3', firstBadPosition: '3', problem: 'edited' },
  },
  {
    name: 'L3/tampering: deleting a sealed event in the middle is caught',
    events: 6,
    attack: async (db) => {
      await sql`DELETE FROM audit_events WHERE seq = 3`.execute(db);
    },
    batchSize: 2,
    found: { checked: 2, firstBadSeq: '3', problem: 'deleted' },
    message: 'the event sealed at position 3 (seq 3) is missing',
  },
  {
    name: 'L3/tampering: deleting an event with its seal in the middle is caught, naming the missing position',
    events: 6,
    attack: async (db) => {
      await sql`DELETE FROM audit_events WHERE seq = 3`.execute(db);
      await sql`DELETE FROM audit_seals WHERE chain_position = 3`.execute(db);
    },
    batchSize: 2,
    found: { checked: 2, firstBadSeq: '4', problem: 'deleted' },
    message: 'chain position 3 is missing before position 4 (seq 4)',
  },
  {
    name: 'L3/tampering: deleting the first events and seals is caught',
    events: 4,
    attack: async (db) => {
      await sql`DELETE FROM audit_events WHERE seq <= 2`.execute(db);
      await sql`DELETE FROM audit_seals WHERE chain_position <= 2`.execute(db);
    },
    found: { checked: 0, firstBadSeq: '3', problem: 'deleted' },
    message: 'chain positions 1..2 are missing before position 3 (seq 3)',
  },
  {
    name: 'L3/tampering: a deleted event hidden by renumbering the later seals is caught',
    events: 6,
    attack: async (db) => {
      await sql`DELETE FROM audit_events WHERE seq = 3`.execute(db);
      await sql`DELETE FROM audit_seals WHERE chain_position = 3`.execute(db);
      for (const p of [4, 5, 6]) await moveSeal(db, p, p - 1);
    },
    positionsAfter: 5,
    found: { checked: 2, firstBadPosition: '3', problem: 'deleted' },
  },
  {
    name: 'L3/tampering: two events whose chain positions were swapped are reported as reordered',
    events: 7,
    attack: async (db) => {
      await moveSeal(db, 3, 1000);
      await moveSeal(db, 6, 3);
      await moveSeal(db, 1000, 6);
    },
    found: { checked: 2, firstBadSeq: '6', firstBadPosition: '3', problem: 'reordered' },
    message: 'position 3 (seq 6) holds the event sealed at position 6',
  },
  {
    name: 'L3/tampering: an adjacent swap is reported as reordered',
    events: 4,
    attack: async (db) => {
      await moveSeal(db, 1, 1000);
      await moveSeal(db, 2, 1);
      await moveSeal(db, 1000, 2);
    },
    found: { checked: 0, firstBadPosition: '1', problem: 'reordered' },
  },
  {
    name: 'L3/tampering: a forged event slipped into the middle of the chain is reported as inserted',
    events: 5,
    attack: async (db) => {
      for (const p of [5, 4, 3]) await moveSeal(db, p, p + 1);
      // The forgery is internally consistent: linked to position 2, with a valid own hash.
      const before = await sealedAt(db, 2);
      const forged = {
        ...before,
        seq: '100',
        id: randomUUID(),
        action: 'record.export',
      };
      await db.insertInto('audit_events').values(eventColumns(forged)).execute();
      await db
        .insertInto('audit_seals')
        .values({
          chain_position: 3,
          seq: 100,
          xid: forged.xid,
          prev_hash: before.link_hash,
          hash: hashAuditRow(forged, { position: 3, prev_hash: before.link_hash }),
        })
        .execute();
    },
    positionsAfter: 6,
    found: { checked: 2, firstBadSeq: '100', firstBadPosition: '3', problem: 'inserted' },
  },
];

describeEachEngine('audit log security', (engine) => {
  const database = useTestDatabase(engine, { each: true });

  it('L3/append-only: the database refuses UPDATE, DELETE and TRUNCATE on events and seals, sealed or not', async () => {
    await writeEvents(database.db, 3);
    await recordAudit(database.db, event(4)); // unsealed
    for (const seq of [2, 4]) {
      await expect(
        sql`UPDATE audit_events SET outcome = 'failure' WHERE seq = ${seq}`.execute(database.db),
      ).rejects.toThrow(/audit_events is append-only \(UPDATE refused\)/);
      await expect(
        sql`DELETE FROM audit_events WHERE seq = ${seq}`.execute(database.db),
      ).rejects.toThrow(/audit_events is append-only \(DELETE refused\)/);
    }
    await expect(sql`TRUNCATE audit_events`.execute(database.db)).rejects.toThrow(
      /audit_events is append-only \(TRUNCATE refused\)/,
    );
    await expect(
      database.db
        .updateTable('audit_seals')
        .set({ hash: '0'.repeat(64) })
        .where('chain_position', '=', '3')
        .execute(),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      sql`UPDATE audit_seals SET prev_hash = hash WHERE chain_position = 2`.execute(database.db),
    ).rejects.toThrow(/audit_seals is append-only \(UPDATE refused\)/);
    await expect(
      sql`DELETE FROM audit_seals WHERE chain_position = 3`.execute(database.db),
    ).rejects.toThrow(/audit_seals is append-only \(DELETE refused\)/);
    await expect(sql`TRUNCATE audit_seals`.execute(database.db)).rejects.toThrow(
      /audit_seals is append-only \(TRUNCATE refused\)/,
    );
    // Sealed exactly once: a second seal for an event, or a second event at a position, is refused.
    const seal = { xid: null, prev_hash: GENESIS_HASH, hash: GENESIS_HASH };
    await expect(
      database.db
        .insertInto('audit_seals')
        .values({ ...seal, chain_position: 9, seq: 2 })
        .execute(),
    ).rejects.toMatchObject({ code: '23505' });
    await expect(
      database.db
        .insertInto('audit_seals')
        .values({ ...seal, chain_position: 2, seq: 4 })
        .execute(),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await seqs(database.db)).toEqual(range(4));
    expect(await positions(database.db)).toEqual(range(3));
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: true,
      checked: 3,
      unsealed: 1,
    });
  });

  it('L3/append-only: an insert cannot choose its seq, its transaction id, or seal itself', async () => {
    const [genuine] = await writeEvents(database.db, 1);
    await database.db
      .insertInto('audit_events')
      .values({
        seq: 1000,
        id: randomUUID(),
        occurred_at: new Date(),
        actor_type: 'system',
        actor_id: null,
        action: 'record.export',
        target_type: null,
        target_id: null,
        outcome: 'success',
        request_id: null,
        client_address: null,
        details: JSON.stringify({}),
        xid: '3',
        inserted_at: new Date(0),
        prev_hash: genuine,
        hash: 'f'.repeat(64),
      })
      .execute();
    const row = await database.db
      .selectFrom('audit_events')
      .select(['seq', 'prev_hash', 'hash', 'inserted_at', sql<string>`xid::text`.as('xid')])
      .where('action', '=', 'record.export')
      .executeTakeFirstOrThrow();
    expect(String(row.seq)).toBe('2');
    expect(BigInt(row.xid)).toBeGreaterThan(3n);
    expect(row.inserted_at?.getTime()).toBeGreaterThan(0);
    expect(row).toMatchObject({ prev_hash: null, hash: null });
    expect(await sealEverything(database.db)).toBe(1);
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 2 });
  });

  for (const attack of TAMPERING) {
    it(attack.name, async () => {
      await writeEvents(database.db, attack.events);
      await tamper(database.db, attack.attack);
      if (attack.positionsAfter !== undefined) {
        expect(await positions(database.db)).toEqual(range(attack.positionsAfter));
      }
      const { batchSize } = attack;
      const result = await verifyAuditChain(database.db, batchSize ? { batchSize } : {});
      expect(result).toMatchObject({ ok: false, ...attack.found });
      if (attack.message !== undefined) {
        expect(result.ok === false && result.message).toBe(attack.message);
      }
      if (attack.report !== undefined) expect(formatVerification(result)).toMatch(attack.report);
    });
  }

  it("L3/tampering: an event inserted behind the sealer's back (an old transaction id) is reported as inserted", async () => {
    await writeEvents(database.db, 5);
    await tamper(database.db, async (db) => {
      const old = await sealedAt(db, 2);
      await db
        .insertInto('audit_events')
        .values({ ...eventColumns(old), seq: 50, id: randomUUID() })
        .execute();
    });
    // The sealer never reaches back before its last seal, so the event stays outside the chain…
    expect(await sealAuditChain(database.db)).toEqual({ sealed: 0, busy: false });
    // …where verification finds it.
    const result = await verifyAuditChain(database.db);
    expect(result).toMatchObject({
      ok: false,
      checked: 5,
      firstBadSeq: '50',
      firstBadPosition: null,
      problem: 'inserted',
    });
    expect(formatVerification(result)).toMatch(/^audit log FAILED at seq 50 \(inserted\): /);
  });

  it('L3/tampering: tail truncation leaves a chain valid in itself, caught only against an anchor (audit-keyed.security.test.ts)', async () => {
    const hashes = await writeEvents(database.db, 4);
    const anchor = await verifyAuditChain(database.db);
    expect(anchor).toMatchObject({ ok: true, checked: 4, lastHash: hashes[3] });
    await tamper(database.db, async (db) => {
      await sql`DELETE FROM audit_events WHERE seq = 4`.execute(db);
      await sql`DELETE FROM audit_seals WHERE chain_position = 4`.execute(db);
    });
    const after = await verifyAuditChain(database.db);
    // The operator's recorded anchor no longer matches: that comparison is what exposes truncation.
    expect(after).toMatchObject({ ok: true, checked: 3, lastHash: hashes[2] });
    expect(after.ok && after.lastHash).not.toBe(anchor.ok && anchor.lastHash);
  });

  it('L3/tampering: removing only the newest seals is undone by the next sealing, identically', async () => {
    const hashes = await writeEvents(database.db, 4);
    await tamper(database.db, async (db) => {
      await sql`DELETE FROM audit_seals WHERE chain_position >= 3`.execute(db);
    });
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: true,
      checked: 2,
      unsealed: 2,
    });
    expect(await sealEverything(database.db)).toBe(2);
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: true,
      checked: 4,
      lastHash: hashes[3],
    });
  });

  it('L3/upgrade: events chained in-row before sealing existed keep verifying, and new events chain after them', async () => {
    // Back to the schema before 0005 (its `down`), then a log written the old way.
    expect((await migrateTo(database.db, '0004_revocation_cursor')).error).toBeUndefined();
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq += 1) {
      const row = {
        seq,
        id: randomUUID(),
        occurred_at: new Date(Date.UTC(2025, 0, seq)),
        actor_type: 'system',
        actor_id: null,
        action: 'legacy.event',
        target_type: null,
        target_id: null,
        outcome: 'success' as const,
        request_id: null,
        client_address: null,
        details: { seq },
        xid: null,
      };
      const hash = hashAuditRow(row, { position: seq, prev_hash: prevHash });
      await database.db
        .insertInto('audit_events')
        .values({
          ...row,
          xid: undefined,
          details: JSON.stringify(row.details),
          prev_hash: prevHash,
          hash,
        })
        .execute();
      prevHash = hash;
    }
    await migrateToLatest(database.db);
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: true,
      checked: 3,
      lastHash: prevHash,
      unsealed: 0,
    });
    const first = await recordAudit(database.db, event(4));
    expect(first.seq).toBe('4');
    await recordAudit(database.db, event(5));
    expect(await sealEverything(database.db)).toBe(2);
    expect(await positions(database.db)).toEqual(range(5));
    expect((await sealedAt(database.db, 4)).link_prev_hash).toBe(prevHash);
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 5 });
    // Its down refuses once events exist that the old format cannot hold.
    await expect(migrateTo(database.db, '0004_revocation_cursor')).resolves.toMatchObject({
      error: expect.objectContaining({ message: expect.stringMatching(/sealed by 0005/) }),
    });
    // Tampering with a pre-0005 event is still caught.
    await tamper(database.db, async (db) => {
      await sql`UPDATE audit_events SET outcome = 'denied' WHERE seq = 2`.execute(db);
    });
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: false,
      checked: 1,
      firstBadSeq: '2',
      problem: 'edited',
    });
  });

  it('L3/no-PHI: details keys that look like PHI or secrets, and email-like values, are rejected', async () => {
    const keys = [
      'patientName',
      'first_name',
      'email',
      'phoneNumber',
      'dateOfBirth',
      'dob',
      'mrn',
      'patientMRN',
      'ssn',
      'homeAddress',
      'password',
      'accessToken',
      'clientSecret',
      'otpCode',
      'credentials',
      'sessionCookie',
    ];
    for (const key of keys) {
      await expect(
        recordAudit(database.db, { ...event(1), details: { [key]: 'x' } }),
        key,
      ).rejects.toThrow(/looks like PHI or a secret/);
    }
    await expect(
      recordAudit(database.db, { ...event(1), details: { reason: 'jane.doe@example.org' } }),
    ).rejects.toThrow(/looks like an email address/);
    expect(await seqs(database.db)).toEqual([]);
    // Non-identifying context is still accepted.
    await recordAudit(database.db, {
      ...event(1),
      details: { reason: 'bad_password_attempts', count: 3 },
    });
    expect(await seqs(database.db)).toEqual(['1']);
  });

  // Several connections at once: PostgreSQL only (PGlite has one); reported as skipped there.
  {
    /** Every event recorded exactly once in a gapless chain that verifies. */
    async function expectOneChain(db: Db, ids: string[]): Promise<void> {
      const rows = await sealedChain(db);
      expect(rows.map((r) => String(r.chain_position))).toEqual(range(ids.length));
      expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
      expect(await verifyAuditChain(db, { batchSize: 16 })).toMatchObject({
        ok: true,
        checked: ids.length,
        unsealed: 0,
      });
    }

    async function nodes(n: number): Promise<Database[]> {
      return Promise.all(
        Array.from({ length: n }, () =>
          openDatabase({ url: database.url, embeddedDir: undefined }),
        ),
      );
    }

    it.skipIf(engine !== 'postgres')(
      'L3/concurrency (PostgreSQL): two nodes writing 2×40 events concurrently produce one gapless chain after sealing',
      async () => {
        const [other] = await nodes(1);
        if (other === undefined) throw new Error('no second node');
        try {
          const write = (db: Db, node: number) =>
            Promise.all(
              Array.from({ length: 40 }, (_, i) =>
                // Half in the caller's own transaction with a change, half standalone.
                i % 2 === 0
                  ? db.transaction().execute(async (trx) => {
                      await trx
                        .insertInto('jobs')
                        .values({ queue: `node${node}`, payload: JSON.stringify({ i }) })
                        .execute();
                      return recordAudit(trx, { ...event(i), details: { node, i } });
                    })
                  : recordAudit(db, { ...event(i), details: { node, i } }),
              ),
            );
          const [a, b] = await Promise.all([write(database.db, 1), write(other.db, 2)]);
          const written = [...a, ...b];
          expect(new Set(written.map((w) => w.seq)).size).toBe(80);
          expect(await sealEverything(other.db)).toBe(80);
          await expectOneChain(
            database.db,
            written.map((w) => w.id),
          );
        } finally {
          await other.close();
        }
      },
    );

    it.skipIf(engine !== 'postgres')(
      'L3/concurrency (PostgreSQL): 8 concurrent writers on PostgreSQL produce one gapless chain after sealing, with sealers running throughout',
      async () => {
        const writers = await nodes(8);
        const sealers = await nodes(2);
        try {
          let writing = true;
          const sealing = sealers.map(async ({ db }) => {
            let sealed = 0;
            let busy = 0;
            while (writing) {
              const r = await sealAuditChain(db, { batchSize: 7 });
              sealed += r.sealed;
              if (r.busy) busy += 1;
            }
            return { sealed, busy };
          });
          const written = (
            await Promise.all(
              writers.map(({ db }, node) =>
                Promise.all(
                  Array.from({ length: 25 }, (_, i) =>
                    db.transaction().execute(async (trx) => {
                      await trx
                        .insertInto('jobs')
                        .values({ queue: `node${node}`, payload: JSON.stringify({ i }) })
                        .execute();
                      const recorded = await recordAudit(trx, {
                        ...event(i),
                        details: { node, i },
                      });
                      // Some transactions stay open a little after recording, so commits interleave.
                      if (i % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
                      return recorded;
                    }),
                  ),
                ),
              ),
            )
          ).flat();
          writing = false;
          const runs = await Promise.all(sealing);
          await sealEverything(database.db);
          // Both sealers ran; the lock made them take turns, and all that was sealed was sealed once.
          expect(runs.reduce((n, r) => n + r.sealed, 0)).toBeLessThanOrEqual(200);
          await expectOneChain(
            database.db,
            written.map((w) => w.id),
          );
          // Chain order is the sealer's (xid, seq) order.
          const rows = await sealedChain(database.db);
          const keys = rows.map((r) => [BigInt(r.xid), BigInt(String(r.seq))] as const);
          keys.slice(1).forEach(([x1, s1], i) => {
            const [x0, s0] = keys[i] ?? [0n, 0n];
            expect(x1 > x0 || (x1 === x0 && s1 > s0)).toBe(true);
          });
        } finally {
          await Promise.all([...writers, ...sealers].map((n) => n.close()));
        }
      },
    );

    it.skipIf(engine !== 'postgres')(
      'L3/concurrency (PostgreSQL): out-of-order commits (A records first and commits last) still verify, each event exactly once',
      async () => {
        const [other] = await nodes(1);
        if (other === undefined) throw new Error('no second node');
        try {
          let release!: () => void;
          const held = new Promise<void>((resolve) => {
            release = resolve;
          });
          let recorded!: (seq: string) => void;
          const aRecorded = new Promise<string>((resolve) => {
            recorded = resolve;
          });
          // A records first (lowest seq) and stays open.
          const a = database.db.transaction().execute(async (trx) => {
            const r = await recordAudit(trx, { ...event(1), action: 'record.a' });
            recorded(r.seq);
            await held;
            return r;
          });
          const aSeq = await aRecorded;
          // B, on another node, records after A and commits first; C too.
          const b = await recordAudit(other.db, { ...event(2), action: 'record.b' });
          const c = await other.db
            .transaction()
            .execute((trx) => recordAudit(trx, { ...event(3), action: 'record.c' }));
          expect(BigInt(b.seq)).toBeGreaterThan(BigInt(aSeq));
          // B and C are committed but would precede nothing A can still add: held back, not skipped.
          expect(await sealAuditChain(other.db)).toEqual({ sealed: 0, busy: false });
          expect(await verifyAuditChain(other.db)).toMatchObject({
            ok: true,
            checked: 0,
            unsealed: 2,
          });
          release();
          const aResult = await a;
          expect(await sealEverything(other.db)).toBe(3);
          expect((await sealedChain(database.db)).map((r) => r.action)).toEqual([
            'record.a',
            'record.b',
            'record.c',
          ]);
          await expectOneChain(database.db, [aResult.id, b.id, c.id]);
        } finally {
          await other.close();
        }
      },
    );

    it.skipIf(engine !== 'postgres')(
      'L3/concurrency (PostgreSQL): a transaction that got its id first but records last is chained first, after it commits',
      async () => {
        const [other] = await nodes(1);
        if (other === undefined) throw new Error('no second node');
        try {
          let go!: () => void;
          const proceed = new Promise<void>((resolve) => {
            go = resolve;
          });
          let started!: () => void;
          const hasXid = new Promise<void>((resolve) => {
            started = resolve;
          });
          // A writes something first (taking the older transaction id), records its event last.
          const a = database.db.transaction().execute(async (trx) => {
            await trx
              .insertInto('jobs')
              .values({ queue: 'a', payload: JSON.stringify({}) })
              .execute();
            started();
            await proceed;
            return recordAudit(trx, { ...event(1), action: 'record.a' });
          });
          await hasXid;
          const b = await recordAudit(other.db, { ...event(2), action: 'record.b' });
          await sealAuditChain(other.db);
          go();
          const aResult = await a;
          // seq says B came first; the sealer orders by transaction id, so A (older) goes first.
          expect(BigInt(aResult.seq)).toBeGreaterThan(BigInt(b.seq));
          await sealEverything(other.db);
          expect((await sealedChain(database.db)).map((r) => r.action)).toEqual([
            'record.a',
            'record.b',
          ]);
          await expectOneChain(database.db, [aResult.id, b.id]);
        } finally {
          await other.close();
        }
      },
    );

    it.skipIf(engine !== 'postgres')(
      "L3/concurrency (PostgreSQL): a writer never waits for another node's uncommitted audit event",
      async () => {
        const [other] = await nodes(1);
        if (other === undefined) throw new Error('no second node');
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        try {
          let recorded!: () => void;
          const firstRecorded = new Promise<void>((resolve) => {
            recorded = resolve;
          });
          const first = database.db.transaction().execute(async (trx) => {
            await recordAudit(trx, event(1));
            recorded();
            await held;
            throw new Error('roll back');
          });
          await firstRecorded;
          // Completes while the first transaction is still open (with the old chain lock it waited).
          const second = await Promise.race([
            recordAudit(other.db, event(2)),
            new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 5_000)),
          ]);
          expect(second).not.toBe('blocked');
          release();
          await expect(first).rejects.toThrow('roll back');
          await sealEverything(database.db);
          expect((await sealedChain(database.db)).map((r) => r.request_id)).toEqual(['req-2']);
          expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 1 });
        } finally {
          release();
          await other.close();
        }
      },
    );
  }
  // The embedded engine's own case: many writers sharing its one connection.
  {
    it.skipIf(engine !== 'pglite')(
      'L3/concurrency (PGlite): concurrent writers on one embedded handle produce one gapless chain after sealing',
      async () => {
        const results = await Promise.all(
          Array.from({ length: 80 }, (_, i) =>
            i % 2 === 0
              ? database.db.transaction().execute((trx) => recordAudit(trx, event(i)))
              : recordAudit(database.db, event(i)),
          ),
        );
        expect(new Set(results.map((r) => r.seq)).size).toBe(80);
        expect(await sealEverything(database.db)).toBe(80);
        const rows = await sealedChain(database.db);
        expect(rows.map((r) => String(r.chain_position))).toEqual(range(80));
        expect(rows.map((r) => r.id).sort()).toEqual(results.map((r) => r.id).sort());
        expect(await verifyAuditChain(database.db, { batchSize: 16 })).toMatchObject({
          ok: true,
          checked: 80,
        });
      },
    );
  }
});
