// Threats against the administrator's security-events panel (Z3, Z4, L3): a reader without
// audit:read seeing the log through the panel's own door, a burst of ordinary failed sign-ins
// pushing real lockouts out of view, the panel flooding the log with one event per kind of
// event it shows, and the panel naming a patient to a reader the search would not name them to.
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import { recordAudit, type AuditEvent } from '../../../platform/audit/audit.js';
import { SECURITY_EVENTS_WINDOW_DAYS } from './service.js';

const PATH = '/api/admin/audit-events/security';
const ENV = { HAVEN_MASTER_KEY: randomBytes(32).toString('base64') };

interface Entry {
  id: string;
  seq: string;
  occurredAt: string;
  actorDisplayName: string | null;
  action: string;
  targetName: string | null;
  details: Record<string, unknown>;
}

describeClinic('security events panel security', { env: ENV }, (clinic) => {
  let admin: Actor;
  let worker: Actor;
  /** The ids of the events the panel must list, newest first. */
  const expected: string[] = [];

  async function panel(actor: Actor, query = ''): Promise<Entry[]> {
    const res = await clinic.call(actor, 'GET', `${PATH}${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ events: Entry[] }>().events;
  }
  async function newestSeq(): Promise<string> {
    const row = await clinic.db
      .selectFrom('audit_events')
      .select(clinic.db.fn.max('seq').as('max'))
      .executeTakeFirstOrThrow();
    return String(row.max ?? 0);
  }
  async function writtenSince(seq: string) {
    return clinic.db
      .selectFrom('audit_events')
      .select(['action', 'actor_id', 'details'])
      .where('seq', '>', seq)
      .orderBy('seq')
      .execute();
  }

  beforeAll(async () => {
    admin = await clinic.actor(['admin'], { displayName: 'Audit Admin' });
    worker = await clinic.actor(['clinician'], { displayName: 'Casey Worker' });
    const base = Date.now();
    const ago = (minutes: number) => new Date(base - minutes * 60_000);
    const asWorker = { type: 'user', id: worker.userId } as const;
    const asAdmin = { type: 'user', id: admin.userId } as const;
    const anonymous = { type: 'anonymous' } as const;
    const write = (event: AuditEvent, at: Date) => recordAudit(clinic.db, event, at);
    const shown = async (event: AuditEvent, at: Date) => {
      expected.push((await write(event, at)).id);
    };

    // Outside the window: a lockout and a reuse the panel no longer calls recent.
    const old = new Date(base - (SECURITY_EVENTS_WINDOW_DAYS + 1) * 86_400_000);
    await write(
      { actor: anonymous, action: 'auth.login', outcome: 'denied', details: { reason: 'backoff' } },
      old,
    );
    await write({ actor: asWorker, action: 'auth.refresh_reuse', outcome: 'denied' }, old);

    // Two lockouts of one instant: the later write (higher seq) comes first. Written here in
    // the order they must not be listed in, then reordered in `expected`.
    const tie = ago(15);
    const earlierLockout = (
      await write(
        {
          actor: anonymous,
          action: 'auth.login',
          outcome: 'denied',
          details: { reason: 'backoff' },
        },
        tie,
      )
    ).id;
    const laterLockout = (
      await write(
        {
          actor: anonymous,
          action: 'auth.login',
          outcome: 'denied',
          details: { reason: 'backoff' },
        },
        tie,
      )
    ).id;
    const session = { type: 'session', id: randomUUID() };
    await shown(
      { actor: asWorker, action: 'auth.refresh_reuse', target: session, outcome: 'denied' },
      ago(1),
    );
    await shown(
      {
        actor: asAdmin,
        action: 'breakglass.refused',
        outcome: 'denied',
        details: { state: 'expired' },
      },
      ago(3),
    );
    await shown({ actor: asAdmin, action: 'breakglass.revoked', outcome: 'success' }, ago(5));
    await shown(
      {
        actor: asAdmin,
        action: 'breakglass.denied',
        outcome: 'denied',
        details: { lookup: 'patient_id' },
      },
      ago(7),
    );
    await shown({ actor: asAdmin, action: 'breakglass.granted', outcome: 'success' }, ago(9));
    await shown(
      {
        actor: asWorker,
        action: 'auth.step_up',
        outcome: 'denied',
        details: { reason: 'backoff' },
      },
      ago(11),
    );
    await shown(
      { actor: asWorker, action: 'auth.mfa', outcome: 'denied', details: { reason: 'backoff' } },
      ago(13),
    );
    expected.push(laterLockout, earlierLockout);

    // The noise: sixty ordinary failed sign-ins, all newer than the lockouts, and the events of
    // the same families that are no lockout, no reuse and no break-glass decision.
    for (let i = 0; i < 60; i += 1) {
      const user = { type: 'user', id: worker.userId };
      await write(
        {
          actor: anonymous,
          action: 'auth.login',
          target: user,
          outcome: 'failure',
          details: { reason: 'wrong_password', backoff_ms: 0 },
        },
        ago(14 - i * 0.2),
      );
    }
    await write(
      { actor: asWorker, action: 'auth.mfa', outcome: 'failure', details: { backoff_ms: 0 } },
      ago(2),
    );
    await write({ actor: asWorker, action: 'auth.login', outcome: 'success' }, ago(4));
    await write(
      { actor: asAdmin, action: 'breakglass.listed', outcome: 'success', details: { count: 0 } },
      ago(6),
    );
    await write(
      {
        actor: asWorker,
        action: 'auth.password_reset',
        outcome: 'denied',
        details: { reason: 'backoff' },
      },
      ago(8),
    );
  });

  it('Z3: a clinician, an organization administrator, a patient and a machine client get the refusal the search gives', async () => {
    const clinician = await clinic.actor(['clinician']);
    const orgAdmin = await clinic.actor(['clinician']);
    await clinic.organization({ members: [[orgAdmin, 'org_admin']] });
    const patient = await clinic.actor(['patient']);
    const machine = await clinic.machineClient(['users:read']);
    const before = await newestSeq();
    for (const actor of [clinician, orgAdmin, patient, machine, null]) {
      const search = await clinic.call(actor, 'GET', '/api/admin/audit-events');
      const res = await clinic.call(actor, 'GET', PATH);
      expect(res.statusCode).toBe(actor === null ? 401 : 403);
      expect({ status: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({
        status: search.statusCode,
        code: search.json<{ code: string }>().code,
      });
      expect(res.body).not.toContain('backoff');
      expect(res.body).not.toContain('breakglass');
    }
    // A refused reader read nothing, so nothing was searched.
    expect((await writtenSince(before)).map((e) => e.action)).not.toContain('audit.searched');
  });

  it('L3/crowding: lists lockouts, reuse and break-glass, never an ordinary failed sign-in, newest first', async () => {
    const events = await panel(admin, '?limit=50');
    expect(events.map((e) => e.id)).toEqual(expected);
    expect(events.map((e) => e.action)).toEqual([
      'auth.refresh_reuse',
      'breakglass.refused',
      'breakglass.revoked',
      'breakglass.denied',
      'breakglass.granted',
      'auth.step_up',
      'auth.mfa',
      'auth.login',
      'auth.login',
    ]);
    expect(events.filter((e) => e.action === 'auth.login').map((e) => e.details.reason)).toEqual([
      'backoff',
      'backoff',
    ]);
    // The search's entry, with the actor's display name.
    expect(events[0]).toMatchObject({ actorDisplayName: 'Casey Worker', targetName: null });
    const times = events.map((e) => Date.parse(e.occurredAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    // The default is the panel's eight: the sixty newer failed sign-ins crowd no lockout out.
    const panelDefault = await panel(admin);
    expect(panelDefault.map((e) => e.id)).toEqual(expected.slice(0, 8));
    expect(panelDefault.at(-1)?.action).toBe('auth.login');
  });

  it('L3: the limit is respected, and a limit outside 1 to 50 or another parameter is a 400', async () => {
    expect((await panel(admin, '?limit=3')).map((e) => e.id)).toEqual(expected.slice(0, 3));
    expect((await panel(admin, '?limit=1')).map((e) => e.id)).toEqual(expected.slice(0, 1));
    for (const query of ['limit=0', 'limit=51', 'limit=ten', 'action=auth.login', 'before=5']) {
      const res = await clinic.call(admin, 'GET', `${PATH}?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
    }
  });

  it('L3/flood: every call writes exactly one audit.searched event, naming no one', async () => {
    const before = await newestSeq();
    await panel(admin);
    expect(await writtenSince(before)).toEqual([
      {
        action: 'audit.searched',
        actor_id: admin.userId,
        details: { view: 'security-events', results: 8, patientsShown: 0 },
      },
    ]);
    const again = await newestSeq();
    await panel(admin, '?limit=2');
    const written = await writtenSince(again);
    expect(written).toHaveLength(1);
    expect(written[0]?.details).toMatchObject({ view: 'security-events', results: 2 });
    // Reading the panel is no security event itself: it never lists its own trail.
    expect((await panel(admin, '?limit=50')).map((e) => e.action)).not.toContain('audit.searched');
  });

  it("Z4/audit-names-patient: a break-glass grant names the patient only to the grant's holder", async () => {
    const granter = await clinic.actor(['admin'], { displayName: 'Grace Granter' });
    const organizationId = await clinic.organization({ name: 'Harbour Clinic' });
    const patientId = await clinic.patient(organizationId, {
      givenName: 'Ada',
      familyName: 'Lovelace',
    });
    const granted = await clinic.call(granter, 'POST', '/api/break-glass/grants', {
      patientId,
      reason: 'Patient unconscious in ER, record needed',
    });
    expect(granted.statusCode, granted.body).toBe(201);

    const before = await newestSeq();
    const [seenByOther] = await panel(admin, '?limit=1');
    expect(seenByOther).toMatchObject({
      action: 'breakglass.granted',
      actorDisplayName: 'Grace Granter',
      targetName: 'A patient at Harbour Clinic',
    });
    expect(JSON.stringify(seenByOther)).not.toContain('Lovelace');
    expect((await writtenSince(before))[0]?.details).toMatchObject({ patientsShown: 0 });

    const [seenByHolder] = await panel(granter, '?limit=1');
    expect(seenByHolder?.targetName).toBe('Ada Lovelace');
    const [searched] = (await writtenSince(before)).slice(-1);
    expect(searched).toMatchObject({ action: 'audit.searched', details: { patientsShown: 1 } });
  });
});
