// Threats against the audit chain that table access alone makes possible (L3, issue 16):
// rewriting the newest event and recomputing its seal (plain SHA-256, or under a wrong key),
// replacing keyed seals by plain ones, cutting the tail, rewriting the chain with the key
// itself. The chain key stops the first three; anchors published outside the database the rest.
import { sql, type Kysely } from 'kysely';
import { beforeEach, expect, it } from 'vitest';
import { describeEachEngine, useTestDatabase } from '../../../test/databases.js';
import { tamperWithAudit } from '../../../test/tampering.js';
import { sealEverything, sealedChain, testChainKey } from '../../../test/audit-chain.js';
import { migrateTo } from '../db/migrate.js';
import type { DatabaseSchema } from '../db/schema.js';
import type { AuditAnchor } from './anchors.js';
import { hashAuditRow, recordAudit, type AuditEvent } from './audit.js';
import type { AuditChainKey } from './chain-key.js';
import { sealAuditChain } from './seal.js';
import { verifyAuditChain, type VerifyOptions } from './verify.js';

type Db = Kysely<DatabaseSchema>;

function event(i: number): AuditEvent {
  return {
    actor: { type: 'user', id: `u-${i}` },
    action: 'record.view',
    target: { type: 'record', id: `r-${i}` },
    outcome: 'success',
    details: { i },
  };
}

type ChainRow = Awaited<ReturnType<typeof sealedChain>>[number];

/** Records events from..to and seals them with `key`; returns the anchor of the newest seal. */
async function writeKeyed(db: Db, key: AuditChainKey, from: number, to: number) {
  for (let i = from; i <= to; i += 1) await recordAudit(db, event(i));
  await sealEverything(db, { key });
  const rows = await sealedChain(db);
  const last = rows.at(-1);
  if (last === undefined) throw new Error('nothing sealed');
  return anchorOf(last);
}

function anchorOf(row: ChainRow): AuditAnchor {
  return {
    position: String(row.chain_position),
    seq: String(row.seq),
    hash: row.link_hash,
    keyId: row.key_id,
    at: new Date().toISOString(),
  };
}

/** An attacker with table-owner rights edits events and seals alike (test/tampering.ts). */
const tamper = (db: Db, edit: (db: Db) => Promise<void>): Promise<void> =>
  tamperWithAudit(db, edit, ['audit_events', 'audit_seals']);

/**
 * Changes the outcome of the event at `position` and gives it, and every later seal, a freshly
 * computed seal: `reseal` returns the new hash and key id of a row at a link.
 */
async function rewriteFrom(
  db: Db,
  position: number,
  reseal: (row: ChainRow, link: { position: string; prev_hash: string }) => [string, string | null],
): Promise<void> {
  await tamper(db, async (trx) => {
    const rows = await sealedChain(trx);
    let prevHash: string | undefined;
    for (const row of rows.filter((r) => Number(r.chain_position) >= position)) {
      const first = prevHash === undefined;
      const edited = first ? { ...row, outcome: 'failure' as const } : row;
      if (first) {
        await trx
          .updateTable('audit_events')
          .set({ outcome: 'failure' })
          .where('seq', '=', row.seq)
          .execute();
      }
      const link = {
        position: String(row.chain_position),
        prev_hash: prevHash ?? row.link_prev_hash,
      };
      const [hash, keyId] = reseal(edited, link);
      await sql`UPDATE audit_seals SET hash = ${hash}, prev_hash = ${link.prev_hash}, key_id = ${keyId}
                WHERE chain_position = ${link.position}`.execute(trx);
      prevHash = hash;
    }
  });
}

async function deleteFrom(db: Db, position: number): Promise<void> {
  await tamper(db, async (trx) => {
    await sql`DELETE FROM audit_events WHERE seq IN
                (SELECT seq FROM audit_seals WHERE chain_position >= ${position})`.execute(trx);
    await sql`DELETE FROM audit_seals WHERE chain_position >= ${position}`.execute(trx);
  });
}

describeEachEngine('audit chain key and anchors', (engine) => {
  const database = useTestDatabase(engine, { each: true });

  /** Verifies the chain, expecting it to fail as `found` says; returns the failure's message. */
  async function verifyFails(options: VerifyOptions, found: object): Promise<string> {
    const result = await verifyAuditChain(database.db, options);
    expect(result).toMatchObject({ ok: false, ...found });
    return result.ok ? '' : result.message;
  }
  let key: AuditChainKey;
  beforeEach(() => {
    key = testChainKey();
  });

  it('L3/keyed: seals are HMAC-SHA256 under the chain key and verify only with that key', async () => {
    await writeKeyed(database.db, key, 1, 3);
    const rows = await sealedChain(database.db);
    for (const row of rows) {
      const link = { position: row.chain_position, prev_hash: row.link_prev_hash };
      expect(row.key_id).toBe(key.id);
      expect(row.link_hash).toBe(hashAuditRow(row, link, key));
      expect(row.link_hash).not.toBe(hashAuditRow(row, link));
    }
    expect(await verifyAuditChain(database.db, { key })).toMatchObject({
      ok: true,
      checked: 3,
      keyed: 3,
    });
    const other = testChainKey();
    const message = await verifyFails(
      { key: other },
      { checked: 0, firstBadPosition: '1', problem: 'edited' },
    );
    expect(message).toContain(`chain key ${key.id}, not the configured key ${other.id}`);
    await expect(verifyAuditChain(database.db)).rejects.toThrow(/the chain is keyed/);
  });

  it('L3/keyed: rewriting the newest event and recomputing its unkeyed SHA-256 is caught', async () => {
    await writeKeyed(database.db, key, 1, 4);
    // The forger keeps the seal's key id and writes the plain SHA-256 anyone can compute.
    await rewriteFrom(database.db, 4, (row, link) => [hashAuditRow(row, link), key.id]);
    await verifyFails(
      { key },
      {
        checked: 3,
        firstBadPosition: '4',
        problem: 'edited',
        message: 'position 4 (seq 4) does not match its hash',
      },
    );
  });

  it('L3/keyed: a keyed seal replaced by a plain SHA-256 one (a downgrade) is caught', async () => {
    await writeKeyed(database.db, key, 1, 4);
    // The forger also clears key_id, so the seal passes for one from before keying.
    await rewriteFrom(database.db, 4, (row, link) => [hashAuditRow(row, link), null]);
    const message = await verifyFails(
      { key },
      { checked: 3, firstBadPosition: '4', problem: 'edited' },
    );
    expect(message).toMatch(
      /plain SHA-256 seal after the keyed seal at position 1: a keyed seal was replaced/,
    );
  });

  it('L3/keyed: a rewrite sealed under a wrong key (guessed, or another installation’s) is caught', async () => {
    await writeKeyed(database.db, key, 1, 4);
    const wrong = testChainKey();
    await rewriteFrom(database.db, 3, (row, link) => [hashAuditRow(row, link, wrong), key.id]);
    await verifyFails({ key }, { checked: 2, firstBadPosition: '3', problem: 'edited' });
    // Naming the wrong key's id instead only changes the message.
    await rewriteFrom(database.db, 3, (row, link) => [hashAuditRow(row, link, wrong), wrong.id]);
    const message = await verifyFails(
      { key },
      { checked: 2, firstBadPosition: '3', problem: 'edited' },
    );
    expect(message).toContain(`chain key ${wrong.id}`);
  });

  it('L3/anchors: deleting the newest sealed event is caught by the anchor', async () => {
    const anchor = await writeKeyed(database.db, key, 1, 5);
    expect(anchor).toMatchObject({ position: '5', keyId: key.id });
    expect(await verifyAuditChain(database.db, { key, anchors: [anchor] })).toMatchObject({
      ok: true,
      checked: 5,
      anchors: { matched: 1, newest: anchor },
    });
    await deleteFrom(database.db, 4);
    // The shorter chain is valid in itself…
    expect(await verifyAuditChain(database.db, { key })).toMatchObject({ ok: true, checked: 3 });
    // …but no longer reaches the anchored position.
    const message = await verifyFails(
      { key, anchors: [anchor] },
      { checked: 3, firstBadSeq: '5', firstBadPosition: '5', problem: 'deleted' },
    );
    expect(message).toMatch(
      /^the tail was cut below the anchor for position 5 \(seq 5, published .*\): the chain ends at position 3, and anchors reach position 5, so at least positions 4\.\.5 were deleted$/,
    );
  });

  it('L3/anchors: events deleted below the newest anchor are caught at the lowest anchor they reach past', async () => {
    const early = await writeKeyed(database.db, key, 1, 2);
    const middle = await writeKeyed(database.db, key, 3, 4);
    const newest = await writeKeyed(database.db, key, 5, 6);
    await deleteFrom(database.db, 2);
    const message = await verifyFails(
      { key, anchors: [newest, middle, early] },
      { checked: 1, firstBadPosition: '2', problem: 'deleted' },
    );
    expect(message).toMatch(/positions 2\.\.6 were deleted$/);
  });

  it('L3/anchors: a chain rewritten with the key itself (an insider) differs from the anchor', async () => {
    const anchor = await writeKeyed(database.db, key, 1, 3);
    await writeKeyed(database.db, key, 4, 5);
    await rewriteFrom(database.db, 2, (row, link) => [hashAuditRow(row, link, key), key.id]);
    // Every seal verifies under the key: only the anchor knows the old hashes.
    expect(await verifyAuditChain(database.db, { key })).toMatchObject({ ok: true, checked: 5 });
    const message = await verifyFails(
      { key, anchors: [anchor] },
      { checked: 2, firstBadPosition: '3', problem: 'edited' },
    );
    expect(message).toMatch(
      /^position 3 \(seq 3\) differs from the anchor published .*: the chain was rewritten at or before it$/,
    );
  });

  it('L3/anchors: a chain whose keyed seals were all replaced by plain ones is caught by a keyed anchor', async () => {
    const anchor = await writeKeyed(database.db, key, 1, 3);
    await rewriteFrom(database.db, 1, (row, link) => [hashAuditRow(row, link), null]);
    // Without an anchor it passes for a log sealed before keying (and says none is keyed)…
    expect(await verifyAuditChain(database.db, { key })).toMatchObject({ ok: true, keyed: 0 });
    // …the anchor tells otherwise.
    await verifyFails({ key, anchors: [anchor] }, { firstBadPosition: '3', problem: 'edited' });
  });

  it('L3/upgrade: plain seals from before 0006 verify, keyed seals follow them, and no plain seal may follow a keyed one', async () => {
    for (let i = 1; i <= 2; i += 1) await recordAudit(database.db, event(i));
    await sealEverything(database.db); // as the sealer of the previous release did
    const anchor = await writeKeyed(database.db, key, 3, 4);
    const rows = await sealedChain(database.db);
    expect(rows.map((r) => r.key_id)).toEqual([null, null, key.id, key.id]);
    expect(await verifyAuditChain(database.db, { key, anchors: [anchor] })).toMatchObject({
      ok: true,
      checked: 4,
      keyed: 2,
    });
    await recordAudit(database.db, event(5));
    await expect(sealAuditChain(database.db)).rejects.toThrow(/the chain is keyed/);
    expect(await sealEverything(database.db, { key })).toBe(1);
    // Going back before 0006 would leave keyed seals the old release checks as plain SHA-256.
    await expect(migrateTo(database.db, '0005_audit_sealing')).resolves.toMatchObject({
      error: expect.objectContaining({ message: expect.stringMatching(/keyed by 0006/) }),
    });
  });
});
