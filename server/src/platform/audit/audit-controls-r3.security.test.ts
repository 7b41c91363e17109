// L3: what the hash links alone cannot show. An insider holding the chain key (or a key that
// leaked) re-seals the newest events in another order — so that one action appears to come
// before another — with every seal a valid HMAC and every link intact, before an anchor
// covers them. The sealer only ever appends in (xid, seq) order, so the verifier refuses a
// chain that is out of that order.
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { describeEachEngine, useTestDatabase } from '../../../test/databases.js';
import { tamperWithAudit } from '../../../test/tampering.js';
import { sealEverything, sealedChain, testChainKey } from '../../../test/audit-chain.js';
import { hashAuditRow, recordAudit } from './audit.js';
import { verifyAuditChain } from './verify.js';

describeEachEngine('audit controls (r3)', (engine) => {
  const database = useTestDatabase(engine, { each: true });

  it('L3/sealing order: events re-sealed with the key in another order are reported as reordered', async () => {
    const key = testChainKey();
    for (const action of ['record.view', 'consent.withdrawn', 'record.export', 'auth.logout']) {
      await recordAudit(database.db, {
        actor: { type: 'user', id: 'u-1' },
        action,
        outcome: 'success',
      });
    }
    await sealEverything(database.db, { key });
    expect(await verifyAuditChain(database.db, { key })).toMatchObject({ ok: true, checked: 4 });
    const [first, second, third, fourth] = await sealedChain(database.db);
    if (!first || !second || !third || !fourth) throw new Error('four events were sealed');
    expect(BigInt(second.xid)).toBeLessThan(BigInt(third.xid));

    // The export is made to come before the withdrawal of consent: positions 2..4 re-sealed
    // as third, second, fourth, each a valid HMAC linked to the one before.
    await tamperWithAudit(
      database.db,
      async (db) => {
        await sql`DELETE FROM audit_seals WHERE chain_position >= 2`.execute(db);
        let prevHash = first.link_hash;
        for (const [index, event] of [third, second, fourth].entries()) {
          const position = index + 2;
          const hash = hashAuditRow(event, { position, prev_hash: prevHash }, key);
          await db
            .insertInto('audit_seals')
            .values({
              chain_position: position,
              seq: event.seq,
              xid: event.xid,
              prev_hash: prevHash,
              hash,
              key_id: key.id,
            })
            .execute();
          prevHash = hash;
        }
      },
      ['audit_events', 'audit_seals'],
    );

    const result = await verifyAuditChain(database.db, { key });
    expect(result).toMatchObject({
      ok: false,
      checked: 2,
      firstBadSeq: String(second.seq),
      firstBadPosition: '3',
      problem: 'reordered',
    });
    expect(result.ok === false && result.message).toContain('out of the sealing order');
  });
});
