// Threats against the audit log (L3): changing history through the database, tampering with the
// triggers disabled, forking the chain with concurrent writers on several nodes, and PHI leaking in.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachEngine,
  type TestDatabase,
} from '../../../test/databases.js';
import { openDatabase } from '../db/database.js';
import type { DatabaseSchema } from '../db/schema.js';
import { hashAuditRow, recordAudit, type AuditEvent } from './audit.js';
import { formatVerification, verifyAuditChain } from './verify.js';

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

async function writeEvents(db: Kysely<DatabaseSchema>, n: number): Promise<string[]> {
  const hashes: string[] = [];
  for (let i = 1; i <= n; i += 1) hashes.push((await recordAudit(db, event(i))).hash);
  return hashes;
}

/** What an attacker with table-owner rights can do: switch the append-only triggers off, edit, switch back. */
async function tamper(
  db: Kysely<DatabaseSchema>,
  edit: (db: Kysely<DatabaseSchema>) => Promise<void>,
): Promise<void> {
  await sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(db);
  try {
    await edit(db);
  } finally {
    await sql`ALTER TABLE audit_events ENABLE TRIGGER USER`.execute(db);
  }
}

/** Moves one row to another seq (the primary key is checked row by row, so moves go one at a time). */
async function moveRow(db: Kysely<DatabaseSchema>, from: number, to: number): Promise<void> {
  await sql`UPDATE audit_events SET seq = ${to} WHERE seq = ${from}`.execute(db);
}

async function seqs(db: Kysely<DatabaseSchema>): Promise<string[]> {
  const rows = await db.selectFrom('audit_events').select('seq').orderBy('seq').execute();
  return rows.map((r) => String(r.seq));
}

describeEachEngine('audit log security', (engine) => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await createTestDatabase(engine);
  });
  afterEach(async () => {
    await database.close();
  });

  it('L3/append-only: the database refuses UPDATE, DELETE and TRUNCATE on audit_events', async () => {
    await writeEvents(database.db, 3);
    await expect(
      sql`UPDATE audit_events SET outcome = 'failure' WHERE seq = 2`.execute(database.db),
    ).rejects.toThrow(/audit_events is append-only \(UPDATE refused\)/);
    await expect(sql`DELETE FROM audit_events WHERE seq = 2`.execute(database.db)).rejects.toThrow(
      /audit_events is append-only \(DELETE refused\)/,
    );
    await expect(sql`TRUNCATE audit_events`.execute(database.db)).rejects.toThrow(
      /audit_events is append-only \(TRUNCATE refused\)/,
    );
    await expect(
      database.db
        .updateTable('audit_events')
        .set({ hash: '0'.repeat(64) })
        .where('seq', '=', '3')
        .execute(),
    ).rejects.toMatchObject({ code: '42501' });
    expect(await seqs(database.db)).toEqual(['1', '2', '3']);
    expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 3 });
  });

  it('L3/tamper: verify reports the first edited row', async () => {
    await writeEvents(database.db, 8);
    await tamper(database.db, async (db) => {
      await sql`UPDATE audit_events SET outcome = 'denied' WHERE seq = 6`.execute(db);
      await sql`UPDATE audit_events SET details = '{"i": 99}'::jsonb WHERE seq = 4`.execute(db);
    });
    const result = await verifyAuditChain(database.db, { batchSize: 3 });
    expect(result).toMatchObject({ ok: false, checked: 3, firstBadSeq: '4', problem: 'edited' });
    expect(formatVerification(result)).toMatch(/^audit log FAILED at seq 4 \(edited\): /);
  });

  it('L3/tamper: a sub-millisecond edit of occurred_at is caught', async () => {
    await writeEvents(database.db, 3);
    await tamper(database.db, async (db) => {
      await sql`UPDATE audit_events SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 2`.execute(
        db,
      );
    });
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: false,
      firstBadSeq: '2',
      problem: 'edited',
    });
  });

  it('L3/tamper: a row edited with a recomputed hash is caught by the next link', async () => {
    await writeEvents(database.db, 5);
    await tamper(database.db, async (db) => {
      const row = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', '=', '3')
        .executeTakeFirstOrThrow();
      const forged = { ...row, outcome: 'failure' as const };
      await db
        .updateTable('audit_events')
        .set({ outcome: forged.outcome, hash: hashAuditRow(forged) })
        .where('seq', '=', '3')
        .execute();
    });
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: false,
      checked: 2,
      firstBadSeq: '3',
      problem: 'edited',
    });
  });

  it('L3/tamper: a deleted middle row is caught, naming the missing seq', async () => {
    await writeEvents(database.db, 6);
    await tamper(database.db, async (db) => {
      await sql`DELETE FROM audit_events WHERE seq = 3`.execute(db);
    });
    const result = await verifyAuditChain(database.db, { batchSize: 2 });
    expect(result).toMatchObject({ ok: false, checked: 2, firstBadSeq: '4', problem: 'deleted' });
    expect(result.ok === false && result.message).toBe('seq 3 is missing before seq 4');
  });

  it('L3/tamper: deleting the first rows is caught', async () => {
    await writeEvents(database.db, 4);
    await tamper(database.db, async (db) => {
      await sql`DELETE FROM audit_events WHERE seq <= 2`.execute(db);
    });
    const result = await verifyAuditChain(database.db);
    expect(result).toMatchObject({ ok: false, checked: 0, firstBadSeq: '3', problem: 'deleted' });
    expect(result.ok === false && result.message).toBe('seqs 1..2 are missing before seq 3');
  });

  it('L3/tamper: a deleted row hidden by renumbering the later rows is caught', async () => {
    await writeEvents(database.db, 6);
    await tamper(database.db, async (db) => {
      await sql`DELETE FROM audit_events WHERE seq = 3`.execute(db);
      for (const s of [4, 5, 6]) await moveRow(db, s, s - 1);
    });
    expect(await seqs(database.db)).toEqual(['1', '2', '3', '4', '5']);
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: false,
      checked: 2,
      firstBadSeq: '3',
      problem: 'deleted',
    });
  });

  it('L3/tamper: two rows whose contents were swapped are reported as reordered', async () => {
    await writeEvents(database.db, 7);
    await tamper(database.db, async (db) => {
      await moveRow(db, 3, 1000);
      await moveRow(db, 6, 3);
      await moveRow(db, 1000, 6);
    });
    const result = await verifyAuditChain(database.db);
    expect(result).toMatchObject({ ok: false, checked: 2, firstBadSeq: '3', problem: 'reordered' });
    expect(result.ok === false && result.message).toBe('seq 3 holds the event recorded as seq 6');
  });

  it('L3/tamper: an adjacent swap is reported as reordered', async () => {
    await writeEvents(database.db, 4);
    await tamper(database.db, async (db) => {
      await moveRow(db, 1, 1000);
      await moveRow(db, 2, 1);
      await moveRow(db, 1000, 2);
    });
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: false,
      checked: 0,
      firstBadSeq: '1',
      problem: 'reordered',
    });
  });

  it('L3/tamper: a forged row slipped into the middle is reported as inserted', async () => {
    await writeEvents(database.db, 5);
    await tamper(database.db, async (db) => {
      for (const s of [5, 4, 3]) await moveRow(db, s, s + 1);
      // The forgery is internally consistent: correct seq, linked to seq 2, with a valid own hash.
      const before = await db
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', '=', '2')
        .executeTakeFirstOrThrow();
      const forged = {
        ...before,
        seq: '3',
        id: randomUUID(),
        action: 'record.export',
        prev_hash: before.hash,
      };
      await db
        .insertInto('audit_events')
        .values({ ...forged, details: JSON.stringify(forged.details), hash: hashAuditRow(forged) })
        .execute();
    });
    expect(await seqs(database.db)).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(await verifyAuditChain(database.db)).toMatchObject({
      ok: false,
      checked: 2,
      firstBadSeq: '3',
      problem: 'inserted',
    });
  });

  it('L3/tamper: tail truncation leaves a valid chain, detectable only against the recorded last hash', async () => {
    const hashes = await writeEvents(database.db, 4);
    const anchor = await verifyAuditChain(database.db);
    expect(anchor).toEqual({ ok: true, checked: 4, lastHash: hashes[3] });
    await tamper(database.db, async (db) => {
      await sql`DELETE FROM audit_events WHERE seq = 4`.execute(db);
    });
    const after = await verifyAuditChain(database.db);
    // The operator's recorded anchor no longer matches: that comparison is what exposes truncation.
    expect(after).toEqual({ ok: true, checked: 3, lastHash: hashes[2] });
    expect(after.ok && after.lastHash).not.toBe(anchor.ok && anchor.lastHash);
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

  if (engine === 'postgres') {
    it('L3/concurrency: two nodes writing 2×40 events concurrently produce one gapless chain', async () => {
      const other = await openDatabase({ url: database.url, embeddedDir: undefined });
      try {
        const write = (db: Kysely<DatabaseSchema>, node: number) =>
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
        const written = [...a, ...b].map((w) => Number(w.seq)).sort((x, y) => x - y);
        expect(written).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
        expect(await seqs(database.db)).toEqual(
          Array.from({ length: 80 }, (_, i) => String(i + 1)),
        );
        expect(await verifyAuditChain(other.db, { batchSize: 16 })).toMatchObject({
          ok: true,
          checked: 80,
        });
      } finally {
        await other.close();
      }
    });

    it('L3/concurrency: a second node waits for the uncommitted tail, then chains after it or takes its seq if it rolls back', async () => {
      const other = await openDatabase({ url: database.url, embeddedDir: undefined });
      try {
        for (const [ending, firstSeq, secondSeq] of [
          ['commit', '1', '2'],
          ['rollback', '3', '3'],
        ] as const) {
          let release!: () => void;
          const held = new Promise<void>((resolve) => {
            release = resolve;
          });
          let recorded!: (hash: string) => void;
          const firstRecorded = new Promise<string>((resolve) => {
            recorded = resolve;
          });
          const first = database.db.transaction().execute(async (trx) => {
            const r = await recordAudit(trx, event(1));
            expect(r.seq).toBe(firstSeq);
            recorded(r.hash);
            await held;
            if (ending === 'rollback') throw new Error('roll back');
          });
          const firstHash = await firstRecorded;
          let secondDone = false;
          const second = recordAudit(other.db, event(2)).then((r) => {
            secondDone = true;
            return r;
          });
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(secondDone).toBe(false);
          release();
          if (ending === 'rollback') await expect(first).rejects.toThrow('roll back');
          else await first;
          // Without the chain lock the second node would have read the old tail and collided on seq.
          expect((await second).seq).toBe(secondSeq);
          const row = await database.db
            .selectFrom('audit_events')
            .select('prev_hash')
            .where('seq', '=', secondSeq)
            .executeTakeFirstOrThrow();
          if (ending === 'commit') expect(row.prev_hash).toBe(firstHash);
        }
        expect(await seqs(database.db)).toEqual(['1', '2', '3']);
        expect(await verifyAuditChain(database.db)).toMatchObject({ ok: true, checked: 3 });
      } finally {
        await other.close();
      }
    });
  } else {
    it('L3/concurrency: concurrent writers on one embedded handle produce one gapless chain', async () => {
      const results = await Promise.all(
        Array.from({ length: 80 }, (_, i) =>
          i % 2 === 0
            ? database.db.transaction().execute((trx) => recordAudit(trx, event(i)))
            : recordAudit(database.db, event(i)),
        ),
      );
      expect(results.map((r) => Number(r.seq)).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 80 }, (_, i) => i + 1),
      );
      expect(await verifyAuditChain(database.db, { batchSize: 16 })).toMatchObject({
        ok: true,
        checked: 80,
      });
    });
  }
});
