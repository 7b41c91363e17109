// Threats against audit search and export (L3, V1, V3, Z3): a family search that widens to a
// neighbouring family, an export that skips audit:read or leaves no trace, a CSV cell that a
// spreadsheet runs as a formula, an export without a bound, and a grants listing that floods
// the log with one event per grant.
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { recordAudit } from '../../platform/audit/audit.js';
import { EXPORT_ROW_CAP } from './service.js';

const ENV = {
  HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
  HAVEN_BREAK_GLASS_MINUTES: '5',
};

describeClinic('audit search and export security', { env: ENV }, (clinic) => {
  let admin: Actor;
  let formulaActor: Actor;

  async function actions(query: string): Promise<string[]> {
    const res = await clinic.call(admin, 'GET', `/api/admin/audit-events?limit=100&${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ events: Array<{ action: string }> }>().events.map((e) => e.action);
  }
  async function lastEvent(action: string) {
    return clinic.db
      .selectFrom('audit_events')
      .select(['actor_id', 'outcome', 'details'])
      .where('action', '=', action)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  beforeAll(async () => {
    admin = await clinic.actor(['admin'], { displayName: 'Audit Admin' });
    formulaActor = await clinic.actor(['clinician'], { displayName: '=HYPERLINK("http://x")' });
    const system = { type: 'system' } as const;
    for (const action of [
      'famx.granted',
      'famx.revoked',
      'famx',
      'famxy.granted',
      'fam_x.other',
      'prefam.famx',
    ]) {
      await recordAudit(clinic.db, { actor: system, action, outcome: 'success' });
    }
    await recordAudit(clinic.db, {
      actor: { type: 'user', id: formulaActor.userId },
      action: 'csvtest.injected',
      target: { type: '@target', id: '+1+1' },
      outcome: 'success',
      details: { note: '-2+3' },
    });
  });

  it('family search: breakglass finds every breakglass.* action and nothing else', async () => {
    // 'famx' is the family: itself and famx.*, never famxy.* or a later segment named famx.
    expect((await actions('action=famx')).sort()).toEqual(['famx', 'famx.granted', 'famx.revoked']);
    // The family's name is literal: '_' in it is no LIKE wildcard.
    expect(await actions('action=fam_x')).toEqual(['fam_x.other']);
    expect(await actions('action=fam%25')).toEqual([]);
    // An exact action stays exact; a prefix ending in a dot or a star still works.
    expect(await actions('action=famx.granted')).toEqual(['famx.granted']);
    expect((await actions('action=famx.')).sort()).toEqual(['famx.granted', 'famx.revoked']);
    expect(await actions('action=famx.gr*')).toEqual(['famx.granted']);
    expect(await actions('action=famx.g_*')).toEqual([]);
  });

  it('family search: the real breakglass family finds grants, revocations and listings only', async () => {
    await recordAudit(clinic.db, {
      actor: { type: 'system' },
      action: 'breakglassx.fake',
      outcome: 'success',
    });
    const res = await clinic.call(admin, 'GET', '/api/admin/break-glass/grants');
    expect(res.statusCode).toBe(200);
    const found = await actions('action=breakglass');
    expect(found).toContain('breakglass.listed');
    expect(found.every((action) => action.startsWith('breakglass.'))).toBe(true);
  });

  it('L3: the action catalogue offers known actions and families and needs audit:read', async () => {
    const res = await clinic.call(admin, 'GET', '/api/admin/audit-events/actions');
    expect(res.statusCode).toBe(200);
    const catalogue = res.json<{ families: string[]; actions: string[] }>();
    // From the code (PHI actions, the audit module's own) and from the log itself.
    expect(catalogue.actions).toEqual(
      expect.arrayContaining(['patient.read', 'breakglass.granted', 'audit.exported', 'famx']),
    );
    expect(catalogue.actions).toContain('famxy.granted');
    expect(catalogue.families).toEqual(
      expect.arrayContaining(['audit', 'breakglass', 'patient', 'famx', 'famxy']),
    );
    expect(new Set(catalogue.families).size).toBe(catalogue.families.length);
    const clinician = await clinic.actor(['clinician']);
    const denied = await clinic.call(clinician, 'GET', '/api/admin/audit-events/actions');
    expect(denied.statusCode).toBe(403);
  });

  it('L3/Z3: the audit CSV export is audited and needs audit:read', async () => {
    const clinician = await clinic.actor(['clinician']);
    const machine = await clinic.machineClient(['users:read']);
    for (const actor of [clinician, machine]) {
      const res = await clinic.call(actor, 'GET', '/api/admin/audit-events/export.csv');
      expect(res.statusCode).toBe(403);
      expect(res.body).not.toContain('famx');
    }
    expect((await clinic.call(null, 'GET', '/api/admin/audit-events/export.csv')).statusCode).toBe(
      401,
    );

    const from = '2000-01-01T00:00:00.000Z';
    const res = await clinic.call(
      admin,
      'GET',
      `/api/admin/audit-events/export.csv?action=famx&actorId=${formulaActor.userId}&from=${from}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="haven-audit-.+\.csv"$/,
    );
    expect(res.headers['haven-export-row-cap']).toBe(String(EXPORT_ROW_CAP));
    expect(res.headers['haven-export-truncated']).toBe('false');
    // The filters are ANDed: famx actions by a clinician who wrote none of them.
    expect(res.body.trim().split('\r\n')).toHaveLength(1);

    const event = await lastEvent('audit.exported');
    expect(event).toEqual({
      actor_id: admin.userId,
      outcome: 'success',
      details: {
        format: 'csv',
        filters: 'actorId,action,from',
        action: 'famx',
        outcome: null,
        from,
        to: null,
        rows: 0,
        truncated: false,
      },
    });
    // Whom the admin looked into stays out of the trail, as for a search.
    expect(JSON.stringify(event)).not.toContain(formulaActor.userId);

    const familyExport = await clinic.call(
      admin,
      'GET',
      '/api/admin/audit-events/export.csv?action=famx',
    );
    const lines = familyExport.body.trim().split('\r\n');
    expect(lines[0]).toBe(
      'seq,occurred_at,actor_type,actor_id,actor_display_name,action,target_type,target_id,outcome,request_id,details',
    );
    expect(lines.slice(1).map((line) => line.split(',')[5])).toEqual([
      'famx',
      'famx.revoked',
      'famx.granted',
    ]);
    expect(familyExport.headers['haven-export-rows']).toBe('3');
  });

  it('V1: malformed export filters answer 400 and paging parameters are refused', async () => {
    for (const query of ['before=5', 'limit=5', 'actorId=nope', 'from=yesterday', 'x=1']) {
      const res = await clinic.call(admin, 'GET', `/api/admin/audit-events/export.csv?${query}`);
      expect(res.statusCode, query).toBe(400);
    }
  });

  it('V3: an audit CSV cell starting with = is neutralized', async () => {
    const res = await clinic.call(
      admin,
      'GET',
      '/api/admin/audit-events/export.csv?action=csvtest.injected',
    );
    expect(res.statusCode).toBe(200);
    const [, row] = res.body.trim().split('\r\n');
    // Display name (=), target type (@), target id (+): each behind a quote; the name's own
    // quotes doubled inside a quoted field. JSON details begin with '{' and stay as they are.
    expect(row).toContain(`"'=HYPERLINK(""http://x"")"`);
    expect(row).toContain(`,'@target,'+1+1,`);
    expect(row).toContain('"{""note"":""-2+3""}"');
    expect(row).not.toMatch(/(^|,)[=+\-@]/);
  });

  it('L3/DoS: an audit CSV export stops at the row cap and says so in its headers', async () => {
    // One statement, not 10,001 recordAudit calls: the rows only need to match the filter.
    await sql`
      INSERT INTO audit_events (id, occurred_at, actor_type, action, outcome, details)
      SELECT gen_random_uuid(), now(), 'system', 'capfam.row', 'success', '{}'::jsonb
      FROM generate_series(1, ${EXPORT_ROW_CAP + 1})`.execute(clinic.db);
    const res = await clinic.call(admin, 'GET', '/api/admin/audit-events/export.csv?action=capfam');
    expect(res.statusCode).toBe(200);
    expect(res.headers['haven-export-truncated']).toBe('true');
    expect(res.headers['haven-export-rows']).toBe(String(EXPORT_ROW_CAP));
    // The header line and exactly the cap of records.
    expect(res.body.trim().split('\r\n')).toHaveLength(EXPORT_ROW_CAP + 1);
    expect((await lastEvent('audit.exported'))?.details).toMatchObject({
      rows: EXPORT_ROW_CAP,
      truncated: true,
    });
  });

  it('L3: listing break-glass grants writes one batched audit event, not one per grant', async () => {
    const organizationId = await clinic.organization();
    const patientIds = [
      await clinic.patient(organizationId, { mrn: 'AUD-1' }),
      await clinic.patient(organizationId, { mrn: 'AUD-2' }),
      await clinic.patient(organizationId, { mrn: 'AUD-3' }),
    ];
    for (const patientId of patientIds) {
      const res = await clinic.call(admin, 'POST', '/api/break-glass/grants', {
        patientId,
        reason: 'Patient unconscious in ER, record needed',
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const before = await clinic.db
      .selectFrom('audit_events')
      .select(clinic.db.fn.max('seq').as('max'))
      .executeTakeFirstOrThrow();
    const res = await clinic.call(admin, 'GET', '/api/admin/break-glass/grants');
    expect(res.statusCode).toBe(200);
    expect(res.json<{ grants: unknown[] }>().grants.length).toBeGreaterThanOrEqual(3);
    const written = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'target_id', 'details'])
      .where('seq', '>', String(before.max ?? 0))
      .execute();
    expect(written).toHaveLength(1);
    expect(written[0]?.action).toBe('breakglass.listed');
    expect(written[0]?.details).toMatchObject({ count: expect.any(Number) });
    // The one event names no patient.
    for (const patientId of patientIds) expect(JSON.stringify(written)).not.toContain(patientId);
  });
});
