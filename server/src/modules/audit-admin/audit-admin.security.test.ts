// Threats against audit-log administration (Z3, L3, V1): non-admins reading the log, tampering
// that verification must catch, LIKE metacharacters widening a search, malformed filters.
import { beforeAll, expect, it } from 'vitest';
import { sql } from 'kysely';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { sealEverything } from '../../../test/audit-chain.js';
import { tamperWithAudit } from '../../../test/tampering.js';

describeClinic('audit log administration security', (clinic) => {
  let admin: Actor;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
    for (const action of ['axc.one', 'a_c.two', 'ab.three']) {
      await recordAudit(clinic.db, { actor: { type: 'system' }, action, outcome: 'success' });
    }
  });

  it('Z3: people and machine clients without audit:read get 403 on search and verify', async () => {
    const clinician = await clinic.actor(['clinician']);
    const patient = await clinic.actor(['patient']);
    const machine = await clinic.machineClient(['users:read']);
    for (const actor of [clinician, patient, machine]) {
      const search = await clinic.call(actor, 'GET', '/api/admin/audit-events');
      expect(search.statusCode).toBe(403);
      expect(search.body).not.toContain('axc.one');
      const verify = await clinic.call(actor, 'POST', '/api/admin/audit-log/verify', {});
      expect(verify.statusCode).toBe(403);
    }
    expect((await clinic.call(null, 'GET', '/api/admin/audit-events')).statusCode).toBe(401);
  });

  it('V1: LIKE metacharacters in an action prefix are literal characters', async () => {
    const actions = async (action: string) => {
      const res = await clinic.call(
        admin,
        'GET',
        `/api/admin/audit-events?action=${encodeURIComponent(action)}`,
      );
      expect(res.statusCode).toBe(200);
      return res.json<{ events: Array<{ action: string }> }>().events.map((e) => e.action);
    };
    expect(await actions('a_c.')).toEqual(['a_c.two']);
    expect(await actions('%.')).toEqual([]);
    expect(await actions('a%.')).toEqual([]);
    expect(await actions('\\')).toEqual([]);
    expect(await actions('a_c.two')).toEqual(['a_c.two']);
    expect(await actions('a_c.tw_')).toEqual([]);
  });

  it('V1: malformed filters answer 400, never a 500', async () => {
    for (const query of [
      'actorId=not-a-uuid',
      'before=abc',
      'before=-5',
      'before=99999999999999999999',
      'limit=0',
      'limit=101',
      'limit=ten',
      'from=yesterday',
      'to=2030-13-01T00:00:00Z',
      'outcome=maybe',
      'unknown=1',
      `targetId=${'x'.repeat(129)}`,
      'action=%01bad',
      'action=',
      // Valid RFC 3339, but before year 1: no driver can send it as a timestamptz.
      'from=0000-01-01T00:00:00Z',
      'to=0001-01-01T00:00:00%2B01:00',
    ]) {
      const res = await clinic.call(admin, 'GET', `/api/admin/audit-events?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    for (const query of [
      'from=0001-01-01T00:00:00Z',
      'to=9999-12-31T23:59:59Z',
      'from=2030-01-01T00:00:00.123456789Z',
    ]) {
      const res = await clinic.call(admin, 'GET', `/api/admin/audit-events?${query}`);
      expect(res.statusCode, query).toBeLessThan(500);
    }
    const extra = await clinic.call(admin, 'POST', '/api/admin/audit-log/verify', {
      repair: true,
    });
    expect(extra.statusCode).toBe(400);
  });

  it('L3: verification reports a tampered row and the failure is itself audited', async () => {
    let res = await clinic.call(admin, 'POST', '/api/admin/audit-log/verify', {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true });

    // Sealed (by the job in production), so the chain covers the row about to be tampered with.
    await sealEverything(clinic.db);
    const target = await clinic.db
      .selectFrom('audit_events as e')
      .innerJoin('audit_seals as s', 's.seq', 'e.seq')
      .select(['e.seq', 's.chain_position'])
      .where('action', '=', 'a_c.two')
      .executeTakeFirstOrThrow();
    const seq = String(target.seq);
    await tamperWithAudit(clinic.db, async (trx) => {
      await sql`UPDATE audit_events SET outcome = 'failure' WHERE seq = ${seq}`.execute(trx);
    });

    res = await clinic.call(admin, 'POST', '/api/admin/audit-log/verify', {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      ok: false,
      checked: Number(target.chain_position) - 1,
      firstBadSeq: seq,
      problem: 'edited',
      message: expect.stringContaining(`seq ${seq}`),
    });
    const [event] = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'outcome', 'details'])
      .orderBy('seq', 'desc')
      .limit(1)
      .execute();
    expect(event).toEqual({
      action: 'audit.verified',
      outcome: 'failure',
      details: {
        ok: false,
        checked: Number(target.chain_position) - 1,
        firstBadSeq: seq,
        problem: 'edited',
      },
    });
  });
});
