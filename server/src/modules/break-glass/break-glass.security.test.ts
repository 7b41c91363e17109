// Threats against break-glass access (Z5, Z4, L3): reading a record without a grant, without
// fresh MFA, after expiry or revocation, with another admin's grant; writing under a grant;
// reads the patient cannot see; a reason that says nothing; PHI in the audit trail of a denial;
// finding patients to open without the scope, without an audit trail, or with junk queries.
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { createTestApp } from '../../../test/app-harness.js';
import { archivePatientRow, callAs, createActor } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';

const ENV = {
  HAVEN_MASTER_KEY: randomBytes(32).toString('base64'),
  HAVEN_BREAK_GLASS_MINUTES: '5',
};
const REASON = 'Patient unconscious in ER, record needed';

interface Grant {
  id: string;
  adminId: string;
  patientId: string;
  organizationId: string;
  reason: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  active: boolean;
}

describeClinic('break-glass security', { env: ENV }, (clinic, engine) => {
  let admin: Actor;
  let otherAdmin: Actor;
  let patient: Actor;
  let organizationId: string;
  let patientId: string;

  async function requestGrant(actor: Actor, body: object = { patientId, reason: REASON }) {
    return clinic.call(actor, 'POST', '/api/break-glass/grants', body);
  }
  async function grantFor(actor: Actor): Promise<Grant> {
    const res = await requestGrant(actor);
    expect(res.statusCode).toBe(201);
    return res.json<{ grant: Grant }>().grant;
  }
  /** Uses a grant: the only thing a grant opens. */
  function readRecord(actor: Actor, grantId: string) {
    return clinic.call(actor, 'GET', `/api/break-glass/grants/${grantId}/record`);
  }
  /** An admin ends a grant early. */
  function revokeGrant(actor: Actor, grantId: string) {
    return clinic.call(actor, 'POST', `/api/admin/break-glass/grants/${grantId}/revoke`, {});
  }
  async function eventsSince(seq: string) {
    return clinic.db
      .selectFrom('audit_events')
      .select(['action', 'actor_id', 'target_type', 'target_id', 'outcome', 'details'])
      .where('seq', '>', seq)
      .orderBy('seq')
      .execute();
  }
  async function lastSeq(): Promise<string> {
    const row = await clinic.db
      .selectFrom('audit_events')
      .select(clinic.db.fn.max('seq').as('max'))
      .executeTakeFirstOrThrow();
    return String(row.max ?? 0);
  }

  beforeAll(async () => {
    admin = await clinic.actor(['admin'], { displayName: 'Alex Admin' });
    otherAdmin = await clinic.actor(['admin'], { displayName: 'Sam Admin' });
    const clinician = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({ members: [[clinician, 'org_admin']] });
    ({ patientId, patient } = await clinic.portalPatient(organizationId, {
      mrn: 'BG-777',
      givenName: 'Jordan',
      familyName: 'Quill',
    }));
    await clinic.note(patientId, organizationId, clinician, [
      { body: 'Internal differential, not for the patient', shareable: false },
    ]);
  });

  it('Z5: requesting a grant without a fresh MFA check answers 403 STEP_UP_REQUIRED and creates nothing', async () => {
    const noMfa = await clinic.actor(['admin'], { mfa: false });
    const res = await requestGrant(noMfa);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('STEP_UP_REQUIRED');
    expect(await clinic.rows('break_glass_grants', { admin_id: noMfa.userId })).toHaveLength(0);
  });

  it('Z5: an MFA check older than five minutes answers 403 STEP_UP_REQUIRED', async () => {
    // A second node on the same database whose clock runs six minutes ahead: the access token
    // is still valid, but its MFA time is outside the step-up window.
    const later = await createTestApp(engine, {
      env: ENV,
      database: clinic.harness.database,
      build: { now: () => Date.now() + 6 * 60_000 },
    });
    try {
      const stale = await createActor(later.app, ['admin']);
      const res = await callAs(later.app, stale, 'POST', '/api/break-glass/grants', {
        patientId,
        reason: REASON,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('STEP_UP_REQUIRED');
      // The same admin may still use routes that need no step-up on that node.
      const listed = await callAs(later.app, stale, 'GET', '/api/admin/break-glass/grants');
      expect(listed.statusCode).toBe(200);
    } finally {
      await later.close();
    }
  });

  it('Z5: a reason shorter than 10 characters answers 400, even padded with spaces', async () => {
    for (const reason of ['too short', '   short     ', '']) {
      const res = await requestGrant(admin, { patientId, reason });
      expect(res.statusCode, JSON.stringify(reason)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    const res = await requestGrant(admin, { patientId, reason: 'Needed now\u0000for care' });
    expect(res.statusCode).toBe(400);
  });

  it('Z5/V4: a reason counted in code points, not UTF-16 units: astral padding is a 400, never a 500', async () => {
    const since = await lastSeq();
    // 5 emoji (10 UTF-16 units, 5 characters) padded with spaces to pass the schema's 10.
    const padded = await requestGrant(admin, {
      patientId,
      reason: '\u{1F691}'.repeat(5) + '     ',
    });
    expect(padded.statusCode, padded.body).toBe(400);
    expect(padded.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await eventsSince(since)).toEqual([]);
    // Ten astral characters are ten characters: accepted and stored as written.
    const astral = '\u{1F691}'.repeat(10);
    const ok = await requestGrant(admin, { patientId, reason: astral });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json<{ grant: Grant }>().grant.reason).toBe(astral);
  });

  it('Z5: a reason shown to the patient cannot carry reordering or invisible characters', async () => {
    for (const reason of [
      'Emergency \u202Eroom access needed',
      'Emergency room\u0085 access needed',
      'Emergency room access\u2066 needed',
      '\ud800'.repeat(12),
    ]) {
      const res = await requestGrant(admin, { patientId, reason });
      expect(res.statusCode, JSON.stringify(reason)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
  });

  it('Z5: the patient must be named in exactly one way', async () => {
    for (const body of [
      { reason: REASON },
      { patientId, organizationId, mrn: 'BG-777', reason: REASON },
      { patientId, mrn: 'BG-777', reason: REASON },
      { organizationId, reason: REASON },
      { mrn: 'BG-777', reason: REASON },
    ]) {
      const res = await requestGrant(admin, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
      expect(res.json().errors.length).toBeGreaterThan(0);
    }
  });

  it('Z5: no such patient answers 404 and is audited as breakglass.denied without the MRN', async () => {
    const since = await lastSeq();
    const byId = await requestGrant(admin, { patientId: randomUUID(), reason: REASON });
    const byMrn = await requestGrant(admin, {
      organizationId,
      mrn: 'NO-SUCH-MRN-42',
      reason: REASON,
    });
    expect(byId.statusCode).toBe(404);
    expect(byMrn.statusCode).toBe(404);
    const events = await eventsSince(since);
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ['breakglass.denied', 'denied'],
      ['breakglass.denied', 'denied'],
    ]);
    expect(JSON.stringify(events)).not.toContain('NO-SUCH-MRN-42');
    expect(JSON.stringify(events)).not.toContain(REASON);
  });

  it('Z5: a grant lasts the configured time and its audit event holds the grant id, not the reason', async () => {
    const since = await lastSeq();
    const res = await requestGrant(admin, { organizationId, mrn: 'BG-777', reason: REASON });
    expect(res.statusCode).toBe(201);
    const grant = res.json<{ grant: Grant }>().grant;
    expect(grant).toMatchObject({
      adminId: admin.userId,
      adminDisplayName: 'Alex Admin',
      patientId,
      // The admin reads whom the grant is for: name, MRN and organization, not just an id.
      patientGivenName: 'Jordan',
      patientFamilyName: 'Quill',
      patientMrn: 'BG-777',
      organizationId,
      organizationName: expect.any(String),
      reason: REASON,
      revokedAt: null,
      active: true,
    });
    expect(Date.parse(grant.expiresAt) - Date.parse(grant.createdAt)).toBe(5 * 60_000);
    const events = await eventsSince(since);
    expect(events).toEqual([
      {
        action: 'breakglass.granted',
        actor_id: admin.userId,
        target_type: 'patient',
        target_id: patientId,
        outcome: 'success',
        details: { grantId: grant.id, reasonLength: REASON.length, minutes: 5 },
      },
    ]);
  });

  it('Z5: using a grant that does not exist answers 404', async () => {
    const res = await readRecord(admin, randomUUID());
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });

  it("Z5: another admin's grant answers 404, like a missing one, and nothing is read", async () => {
    const grant = await grantFor(admin);
    const since = await lastSeq();
    const res = await readRecord(otherAdmin, grant.id);
    expect(res.statusCode).toBe(404);
    expect(res.body).not.toContain('Jordan');
    expect(await eventsSince(since)).toEqual([]);
  });

  it('Z5: an expired grant is refused with 403 BREAK_GLASS_INACTIVE and the refusal is audited', async () => {
    const grant = await grantFor(admin);
    await clinic.db
      .updateTable('break_glass_grants')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', grant.id)
      .execute();
    const since = await lastSeq();
    const res = await readRecord(admin, grant.id);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('BREAK_GLASS_INACTIVE');
    expect(res.body).not.toContain('Jordan');
    const events = await eventsSince(since);
    expect(events).toEqual([
      {
        action: 'breakglass.refused',
        actor_id: admin.userId,
        target_type: 'break_glass_grant',
        target_id: grant.id,
        outcome: 'denied',
        details: { grantId: grant.id, state: 'expired' },
      },
    ]);
  });

  it('Z5: a revoked grant is refused with 403 BREAK_GLASS_INACTIVE', async () => {
    const grant = await grantFor(admin);
    const ok = await readRecord(admin, grant.id);
    expect(ok.statusCode).toBe(200);
    const revoked = await revokeGrant(otherAdmin, grant.id);
    expect(revoked.statusCode).toBe(200);
    const res = await readRecord(admin, grant.id);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('BREAK_GLASS_INACTIVE');
    expect(res.body).not.toContain('Jordan');
  });

  it('Z5: a grant is read-only: staff reads and writes by the admin answer 403 and nothing changes', async () => {
    const grant = await grantFor(admin);
    /** The patient row and the ids of its notes, to compare before and after. */
    const stored = async () => ({
      patient: await clinic.db
        .selectFrom('patients')
        .selectAll()
        .where('id', '=', patientId)
        .executeTakeFirstOrThrow(),
      notes: await clinic.db
        .selectFrom('clinical_notes')
        .select('id')
        .where('patient_id', '=', patientId)
        .execute(),
    });
    const before = await stored();
    const attempts: Array<[method: 'GET' | 'POST' | 'PATCH', url: string, body?: object]> = [
      ['PATCH', `/api/patients/${patientId}`, { givenName: 'Changed' }],
      ['POST', `/api/patients/${patientId}/notes`, { body: 'Admin wrote this', shareable: true }],
      ['POST', `/api/patients/${patientId}/archive`, {}],
      ['GET', `/api/patients/${patientId}`],
      ['GET', `/api/patients/${patientId}/notes`],
    ];
    for (const [method, url, body] of attempts) {
      const res = await clinic.call(admin, method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().code).toBe('FORBIDDEN');
    }
    const after = await stored();
    expect(after.patient).toEqual(before.patient);
    expect(after.notes).toEqual(before.notes);
    // The grant's own route is still the one thing open, and only for reading.
    const read = await readRecord(admin, grant.id);
    expect(read.statusCode).toBe(200);
    const write = await clinic.call(
      admin,
      'POST',
      `/api/break-glass/grants/${grant.id}/record`,
      {},
    );
    expect(write.statusCode).not.toBe(200);
  });

  it('Z5/L3: every read under a grant is audited with the grant id and shown to the patient with the reason', async () => {
    const grant = await grantFor(admin);
    const since = await lastSeq();
    for (let i = 0; i < 2; i += 1) {
      const res = await readRecord(admin, grant.id);
      expect(res.statusCode).toBe(200);
      const body = res.json<{
        grant: Grant;
        record: { patient: { id: string } };
        notes: unknown[];
        consents: unknown[];
      }>();
      expect(body.grant.id).toBe(grant.id);
      expect(body.record.patient.id).toBe(patientId);
      // As the patient sees it: the private note stays hidden even from break-glass.
      expect(res.body).not.toContain('Internal differential');
    }
    const events = await eventsSince(since);
    expect(events).toEqual([
      expect.objectContaining({
        action: 'patient.read',
        actor_id: admin.userId,
        target_id: patientId,
        details: { grantId: grant.id, via: 'break_glass' },
      }),
      expect.objectContaining({
        action: 'patient.read',
        details: { grantId: grant.id, via: 'break_glass' },
      }),
    ]);
    const log = await clinic.call(patient, 'GET', '/api/portal/access-log?limit=5');
    expect(log.statusCode).toBe(200);
    const entries = log.json<{ entries: Array<Record<string, unknown>> }>().entries;
    expect(entries.slice(0, 2)).toEqual([
      {
        at: expect.any(String),
        action: 'patient.read',
        actor: { kind: 'break_glass', displayName: 'Alex Admin' },
        grantId: grant.id,
        reason: REASON,
      },
      {
        at: expect.any(String),
        action: 'patient.read',
        actor: { kind: 'break_glass', displayName: 'Alex Admin' },
        grantId: grant.id,
        reason: REASON,
      },
    ]);
  });

  it('Z5: grants are listed by state and revoked exactly once, by any admin, with an audit event', async () => {
    const grant = await grantFor(admin);
    let res = await clinic.call(otherAdmin, 'GET', '/api/admin/break-glass/grants?active=true');
    expect(res.statusCode).toBe(200);
    let grants = res.json<{ grants: Grant[] }>().grants;
    expect(grants[0]?.id).toBe(grant.id);
    expect(grants.every((g) => g.active)).toBe(true);

    const since = await lastSeq();
    res = await revokeGrant(otherAdmin, grant.id);
    expect(res.statusCode).toBe(200);
    expect(res.json().grant).toMatchObject({
      id: grant.id,
      active: false,
      revokedAt: expect.any(String),
    });
    const events = await eventsSince(since);
    expect(events).toEqual([
      expect.objectContaining({
        action: 'breakglass.revoked',
        actor_id: otherAdmin.userId,
        target_type: 'patient',
        target_id: patientId,
        details: { grantId: grant.id },
      }),
    ]);
    const row = await clinic.db
      .selectFrom('break_glass_grants')
      .select(['revoked_by'])
      .where('id', '=', grant.id)
      .executeTakeFirstOrThrow();
    expect(row.revoked_by).toBe(otherAdmin.userId);

    res = await revokeGrant(admin, grant.id);
    expect(res.statusCode).toBe(409);
    res = await revokeGrant(admin, randomUUID());
    expect(res.statusCode).toBe(404);

    res = await clinic.call(admin, 'GET', '/api/admin/break-glass/grants?active=true');
    grants = res.json<{ grants: Grant[] }>().grants;
    expect(grants.some((g) => g.id === grant.id)).toBe(false);
    res = await clinic.call(admin, 'GET', '/api/admin/break-glass/grants?active=false');
    grants = res.json<{ grants: Grant[] }>().grants;
    expect(grants.some((g) => g.id === grant.id)).toBe(true);
    expect(grants.every((g) => !g.active)).toBe(true);
    res = await clinic.call(admin, 'GET', '/api/admin/break-glass/grants');
    const all = res.json<{ grants: Grant[] }>().grants;
    const times = all.map((g) => g.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('Z3: people without the breakglass:request scope get 403 on every break-glass route', async () => {
    const grant = await grantFor(admin);
    const clinician = await clinic.actor(['clinician']);
    const calls: Array<[method: 'GET' | 'POST', url: string, body?: object]> = [
      ['POST', '/api/break-glass/grants', { patientId, reason: REASON }],
      ['GET', `/api/break-glass/grants/${grant.id}/record`],
      ['GET', '/api/admin/break-glass/grants'],
      ['POST', `/api/admin/break-glass/grants/${grant.id}/revoke`, {}],
    ];
    for (const actor of [clinician, patient]) {
      for (const [method, url, body] of calls) {
        const res = await clinic.call(actor, method, url, body);
        expect(res.statusCode, `${actor.roles.join()} ${method} ${url}`).toBe(403);
      }
    }
    const [row] = await clinic.rows('break_glass_grants', { id: grant.id });
    expect(row?.revoked_at).toBeNull();
  });
  /** The picker's search, as the admin's SPA sends it. */
  function searchPatients(actor: Actor, query: unknown) {
    return clinic.call(actor, 'POST', '/api/break-glass/patients/search', { query });
  }
  interface PatientMatch {
    id: string;
    givenName: string;
    familyName: string;
    birthDate: string;
    mrn: string;
    organizationId: string;
    organizationName: string;
  }

  it('Z3/Z4: only breakglass:request may search patients (clinician and patient 403), and nothing is listed or audited', async () => {
    const clinician = await clinic.actor(['clinician']);
    await clinic.addMember(organizationId, clinician, 'clinician');
    const since = await lastSeq();
    for (const actor of [clinician, patient]) {
      const res = await searchPatients(actor, 'Quill');
      expect(res.statusCode, actor.roles.join()).toBe(403);
      expect(res.body).not.toContain(patientId);
      expect(res.body).not.toContain('Jordan');
    }
    expect(await eventsSince(since)).toEqual([]);
    // The admin holding the scope finds the same patient.
    const res = await searchPatients(admin, 'Quill');
    expect(res.statusCode).toBe(200);
    expect(res.json<{ patients: PatientMatch[] }>().patients.map((p) => p.id)).toContain(patientId);
  });

  it('L3: a break-glass patient search is audited as a listing of each patient found, shown in their access list', async () => {
    const elsewhere = await clinic.organization({ name: `Faraway Clinic ${randomUUID()}` });
    const { patientId: farawayId, patient: farawayPatient } = await clinic.portalPatient(
      elsewhere,
      { givenName: 'Jordan', familyName: 'Quillfeather', mrn: 'FAR-1', birthDate: '1990-04-05' },
    );
    const since = await lastSeq();
    const res = await searchPatients(admin, 'quill, jord');
    expect(res.statusCode, res.body).toBe(200);
    const found = res.json<{ patients: PatientMatch[] }>().patients;
    // Only what the picker shows, in name order, across organizations.
    expect(found.map((p) => p.id)).toEqual([patientId, farawayId]);
    expect(found[1]).toEqual({
      id: farawayId,
      givenName: 'Jordan',
      familyName: 'Quillfeather',
      birthDate: '1990-04-05',
      mrn: 'FAR-1',
      organizationId: elsewhere,
      organizationName: expect.stringMatching(/^Faraway Clinic /),
    });
    // One batched listing per organization, naming each patient found, without the query.
    const events = await eventsSince(since);
    expect(events).toEqual([
      expect.objectContaining({
        action: 'patient.listed',
        actor_id: admin.userId,
        target_type: 'organization',
        target_id: organizationId,
        outcome: 'success',
        details: expect.objectContaining({ patientIds1: patientId, via: 'break_glass_search' }),
      }),
      expect.objectContaining({
        action: 'patient.listed',
        target_type: 'organization',
        target_id: elsewhere,
        details: expect.objectContaining({ patientIds1: farawayId, via: 'break_glass_search' }),
      }),
    ]);
    expect(JSON.stringify(events).toLowerCase()).not.toContain('quill, jord');
    for (const who of [patient, farawayPatient]) {
      const log = await clinic.call(who, 'GET', '/api/portal/access-log?limit=5');
      expect(log.statusCode).toBe(200);
      expect(log.json<{ entries: Array<Record<string, unknown>> }>().entries[0]).toMatchObject({
        action: 'patient.listed',
        actor: { kind: 'staff', displayName: 'Alex Admin' },
      });
    }
    // The MRN finds the patient too; a search that finds no one lists and audits no one.
    const byMrn = await searchPatients(admin, 'FAR-1');
    expect(byMrn.json<{ patients: PatientMatch[] }>().patients.map((p) => p.id)).toEqual([
      farawayId,
    ]);
    const quiet = await lastSeq();
    const none = await searchPatients(admin, 'Nobody Byth1sname');
    expect(none.json()).toEqual({ patients: [] });
    expect(await eventsSince(quiet)).toEqual([]);
  });

  it('Z5: a search lists at most 10 patients and leaves archived records out', async () => {
    for (let i = 0; i < 12; i += 1) {
      await clinic.patient(organizationId, { givenName: `Tess${i}`, familyName: 'Tenfold' });
    }
    // Named to sort first (family, then given name): left in, it would be on the page.
    const archived = await clinic.patient(organizationId, {
      givenName: 'Arch',
      familyName: 'Tenfold',
    });
    await archivePatientRow(clinic.db, archived);
    const res = await searchPatients(admin, 'Tenfold');
    expect(res.statusCode).toBe(200);
    const found = res.json<{ patients: PatientMatch[] }>().patients;
    expect(found).toHaveLength(10);
    expect(found.map((p) => p.id)).not.toContain(archived);
  });

  it('V1: a query under 2 characters or with control characters is 400, and nothing is audited', async () => {
    const since = await lastSeq();
    for (const query of [
      '',
      'Q',
      ' Q ',
      ', ,',
      '\u{1F691}',
      'Qu\u0000ill',
      'Quill\n',
      'Qu\tll',
      'Quill\u202E',
      'Q'.repeat(101),
      42,
    ]) {
      const res = await searchPatients(admin, query);
      expect(res.statusCode, JSON.stringify(query)).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    const extra = await clinic.call(admin, 'POST', '/api/break-glass/patients/search', {
      query: 'Quill',
      organizationId,
    });
    expect(extra.statusCode).toBe(400);
    expect(await eventsSince(since)).toEqual([]);
  });
});
