// The patient portal and the account export, as a patient uses them: their record, consents
// (give, withdraw, the gate), shared notes, the access list with paging, and the export.
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import type { ConsentKind } from '../../platform/db/schema.js';
import { recordAudit } from '../../platform/audit/audit.js';

interface AccessEntry {
  at: string;
  action: string;
  actor: { kind: string; displayName: string };
  grantId: string | null;
  reason: string | null;
}

/** The patient's record as the clinic keeps it (and as the portal shows it back). */
const ROBIN = {
  givenName: 'Robin',
  familyName: 'Hart',
  birthDate: '1990-12-31',
  address: { line1: '5 Elm Road', city: 'Springfield', postalCode: '12345', country: 'US' },
  contactMethods: [{ type: 'phone', value: '+15551234567', verified: true }],
};

describeClinic('patient portal', (clinic) => {
  let clinician: Actor;
  let patient: Actor;
  let organizationId: string;
  let patientId: string;

  async function publish(kind: ConsentKind, version: number, required: boolean, title: string) {
    const row = await clinic.db
      .insertInto('consent_documents')
      .values({
        organization_id: organizationId,
        kind,
        version,
        title,
        body: `${title}: the full text.`,
        required,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function auditActions(): Promise<Array<{ action: string; actor_id: string | null }>> {
    return clinic.db
      .selectFrom('audit_events')
      .select(['action', 'actor_id'])
      .where('target_type', '=', 'patient')
      .where('target_id', '=', patientId)
      .orderBy('seq')
      .execute();
  }

  beforeAll(async () => {
    clinician = await clinic.actor(['clinician'], { displayName: 'Dr Grey' });
    organizationId = await clinic.organization({
      name: 'Riverside Clinic',
      members: [[clinician, 'clinician']],
    });
    ({ patientId, patient } = await clinic.portalPatient(
      organizationId,
      { ...ROBIN, mrn: 'RH-1001' },
      { displayName: 'Robin Patient' },
    ));
  });

  it('shows the patient their record and audits the read', async () => {
    const res = await clinic.call(patient, 'GET', '/api/portal/record');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      record: {
        patient: { id: patientId, mrn: 'RH-1001', sex: 'unknown', ...ROBIN },
        organization: { id: organizationId, name: 'Riverside Clinic', country: 'US' },
      },
    });
    expect((await auditActions()).at(-1)).toEqual({
      action: 'patient.read',
      actor_id: patient.userId,
    });
  });

  it('lists current documents, gives and withdraws consent through the portal, and keeps the gate', async () => {
    const oldNotice = await publish('hipaa_notice', 1, true, 'Privacy notice v1');
    const notice = await publish('hipaa_notice', 2, true, 'Privacy notice v2');
    const research = await publish('research', 1, false, 'Research use');

    let res = await clinic.call(patient, 'GET', '/api/portal/consents');
    expect(res.statusCode).toBe(200);
    let body = res.json<{
      documents: Array<{ id: string; current: boolean }>;
      consents: unknown[];
      gate: { satisfied: boolean; missing: Array<{ documentId: string }> };
    }>();
    expect(body.documents.map((d) => d.id).sort()).toEqual([notice, research].sort());
    expect(body.documents.every((d) => d.current)).toBe(true);
    expect(body.consents).toEqual([]);
    expect(body.gate).toMatchObject({ satisfied: false, missing: [{ documentId: notice }] });

    // A superseded version cannot be consented to from the portal.
    res = await clinic.call(patient, 'POST', '/api/portal/consents', { documentId: oldNotice });
    expect(res.statusCode).toBe(409);

    res = await clinic.call(patient, 'POST', '/api/portal/consents', { documentId: notice });
    expect(res.statusCode).toBe(201);
    const consent = res.json<{ consent: { id: string; channel: string } }>().consent;
    expect(consent).toMatchObject({
      documentId: notice,
      channel: 'portal',
      kind: 'hipaa_notice',
      version: 2,
      withdrawnAt: null,
      current: true,
    });
    res = await clinic.call(patient, 'POST', '/api/portal/consents', { documentId: notice });
    expect(res.statusCode).toBe(409);

    res = await clinic.call(patient, 'GET', '/api/portal/consents');
    body = res.json<typeof body>();
    expect(body.gate).toEqual({ satisfied: true, missing: [] });
    expect(body.consents).toHaveLength(1);

    res = await clinic.call(patient, 'POST', `/api/portal/consents/${consent.id}/withdraw`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json().consent.withdrawnAt).toEqual(expect.any(String));
    res = await clinic.call(patient, 'POST', `/api/portal/consents/${consent.id}/withdraw`, {});
    expect(res.statusCode).toBe(409);
    res = await clinic.call(patient, 'GET', '/api/portal/consents');
    expect(res.json<typeof body>().gate.satisfied).toBe(false);

    const stored = await clinic.db
      .selectFrom('patient_consents')
      .select(['channel', 'recorded_by', 'withdrawn_by'])
      .where('id', '=', consent.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({
      channel: 'portal',
      recorded_by: patient.userId,
      withdrawn_by: patient.userId,
    });
    const actions = (await auditActions()).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'patient.consents_read',
        'patient.consent_recorded',
        'patient.consent_withdrawn',
      ]),
    );
  });

  it('rejects malformed portal input with a clear 400', async () => {
    for (const [url, body] of [
      ['/api/portal/consents', { documentId: 'not-a-uuid' }],
      ['/api/portal/consents', {}],
      ['/api/portal/consents', { documentId: patientId, extra: true }],
    ] as const) {
      const res = await clinic.call(patient, 'POST', url, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('VALIDATION_FAILED');
    }
    for (const query of ['before=abc', 'before=-1', 'limit=0', 'limit=101', 'other=1']) {
      const res = await clinic.call(patient, 'GET', `/api/portal/access-log?${query}`);
      expect(res.statusCode, query).toBe(400);
    }
    const res = await clinic.call(patient, 'POST', '/api/portal/consents/nope/withdraw', {});
    expect(res.statusCode).toBe(400);
  });

  it('shows shared notes newest first, current version only, with the author', async () => {
    const first = await clinic.db
      .insertInto('clinical_notes')
      .values({
        patient_id: patientId,
        organization_id: organizationId,
        created_by: clinician.userId,
        created_at: new Date(Date.now() - 60_000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const second = await clinic.db
      .insertInto('clinical_notes')
      .values({
        patient_id: patientId,
        organization_id: organizationId,
        created_by: clinician.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await clinic.db
      .insertInto('clinical_note_versions')
      .values([
        {
          note_id: first.id,
          version: 1,
          body: 'Follow-up in two weeks.',
          shareable: true,
          author_id: clinician.userId,
        },
        {
          note_id: second.id,
          version: 1,
          body: 'Blood pressure normal',
          shareable: true,
          author_id: clinician.userId,
        },
        {
          note_id: second.id,
          version: 2,
          body: 'Blood pressure normal; keep walking.',
          shareable: true,
          author_id: clinician.userId,
          correction_reason: 'Added advice',
        },
      ])
      .execute();
    const res = await clinic.call(patient, 'GET', '/api/portal/notes');
    expect(res.statusCode).toBe(200);
    const notes = res.json<{ notes: Array<Record<string, unknown>> }>().notes;
    expect(notes).toEqual([
      {
        id: second.id,
        body: 'Blood pressure normal; keep walking.',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        author: { displayName: 'Dr Grey' },
      },
      {
        id: first.id,
        body: 'Follow-up in two weeks.',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        author: { displayName: 'Dr Grey' },
      },
    ]);
    expect((await auditActions()).at(-1)?.action).toBe('patient.notes_read');
  });

  it('pages the access list newest first, naming staff and the system, without the patient’s own views', async () => {
    await recordAudit(clinic.db, {
      actor: { type: 'user', id: clinician.userId },
      action: 'patient.updated',
      target: { type: 'patient', id: patientId },
      outcome: 'success',
      details: { fields: 'address' },
    });
    await recordAudit(clinic.db, {
      actor: { type: 'system' },
      action: 'patient.read',
      target: { type: 'patient', id: patientId },
      outcome: 'success',
    });
    const total = (await auditActions()).filter((a) => a.actor_id !== patient.userId).length;
    const seen: AccessEntry[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/portal/access-log?limit=3${before ? `&before=${before}` : ''}`;
      const res = await clinic.call(patient, 'GET', url);
      expect(res.statusCode).toBe(200);
      const page = res.json<{ entries: AccessEntry[]; nextBefore: string | null }>();
      expect(page.entries.length).toBeLessThanOrEqual(3);
      seen.push(...page.entries);
      before = page.nextBefore;
      pages += 1;
    } while (before !== null && pages < 50);
    expect(seen).toHaveLength(total);
    const times = seen.map((e) => e.at);
    expect([...times].sort().reverse()).toEqual(times);
    expect(seen[0]).toEqual({
      at: expect.any(String),
      action: 'patient.read',
      actor: { kind: 'system', displayName: 'Haven' },
      grantId: null,
      reason: null,
    });
    expect(seen[1]).toMatchObject({
      action: 'patient.updated',
      actor: { kind: 'staff', displayName: 'Dr Grey' },
    });
    // The patient read their notes and record above; the list is of what others did.
    expect(seen.some((e) => e.actor.kind === 'you')).toBe(false);
    // Reading the list is not an access to the record: it is audited, but not listed.
    const reads = await clinic.db
      .selectFrom('audit_events')
      .select(['target_type', 'target_id'])
      .where('action', '=', 'portal.access_log_read')
      .where('actor_id', '=', patient.userId)
      .execute();
    expect(reads.length).toBe(pages);
    expect(reads[0]).toEqual({ target_type: 'user', target_id: patient.userId });
    expect(seen.some((e) => e.action === 'portal.access_log_read')).toBe(false);
  });

  it('exports the account of a patient with their record, and of anyone else without one', async () => {
    let res = await clinic.call(patient, 'GET', '/api/account/export');
    expect(res.statusCode).toBe(200);
    const exported = res.json<{
      exportedAt: string;
      account: Record<string, unknown>;
      sessions: Array<{ id: string; userAgent: string | null }>;
      patient: {
        record: { patient: { id: string } };
        consents: unknown[];
        notes: unknown[];
        accessLog: AccessEntry[];
      };
    }>();
    expect(exported.account).toEqual({
      id: patient.userId,
      email: patient.email,
      displayName: 'Robin Patient',
      roles: ['patient'],
      createdAt: expect.any(String),
      mfaEnrolled: false,
    });
    expect(exported.sessions).toEqual([
      {
        id: patient.sessionId,
        createdAt: expect.any(String),
        lastSeenAt: expect.any(String),
        userAgent: 'vitest',
      },
    ]);
    expect(exported.patient.record.patient.id).toBe(patientId);
    expect(exported.patient.consents).toHaveLength(1);
    expect(exported.patient.notes).toHaveLength(2);
    expect(exported.patient.accessLog.length).toBeGreaterThan(5);

    res = await clinic.call(clinician, 'GET', '/api/account/export');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      account: { id: clinician.userId, roles: ['clinician'], mfaEnrolled: true },
      patient: null,
    });
    const audited = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'actor_id', 'details'])
      .where('action', '=', 'account.exported')
      .orderBy('seq')
      .execute();
    expect(audited.map((e) => [e.actor_id, e.details.patientIncluded])).toEqual([
      [patient.userId, true],
      [clinician.userId, false],
    ]);
  });

  it('exports the whole access list, however long, and every shared note', async () => {
    // More than the old 1,000-entry cap and than the portal's 500-note page.
    const before = await clinic.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('target_type', '=', 'patient')
      .where('target_id', '=', patientId)
      .executeTakeFirstOrThrow();
    await clinic.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 1005; i += 1) {
        await recordAudit(trx, {
          actor: { type: 'user', id: clinician.userId },
          action: 'patient.listed',
          target: { type: 'patient', id: patientId },
          outcome: 'success',
        });
      }
    });
    const notes = await clinic.db
      .insertInto('clinical_notes')
      .values(
        Array.from({ length: 505 }, () => ({
          patient_id: patientId,
          organization_id: organizationId,
          created_by: clinician.userId,
        })),
      )
      .returning('id')
      .execute();
    await clinic.db
      .insertInto('clinical_note_versions')
      .values(
        notes.map((note) => ({
          note_id: note.id,
          version: 1,
          body: 'Routine check.',
          shareable: true,
          author_id: clinician.userId,
        })),
      )
      .execute();
    const sharedBefore = (await clinic.call(patient, 'GET', '/api/portal/notes')).json<{
      notes: unknown[];
    }>().notes.length;

    const res = await clinic.call(patient, 'GET', '/api/account/export');
    expect(res.statusCode).toBe(200);
    const exported = res.json<{ patient: { notes: unknown[]; accessLog: AccessEntry[] } }>();
    // The portal read of the notes above adds one more entry.
    expect(exported.patient.accessLog.length).toBe(Number(before.n) + 1005 + 1);
    expect(sharedBefore).toBe(500);
    expect(exported.patient.notes.length).toBeGreaterThanOrEqual(505);
  });

  it('Z4/staff-only notes: a note the patient cannot read leaves no trace in their access list or export until it is shared', async () => {
    const write = (shareable: boolean, body: string) =>
      clinic.call(clinician, 'POST', `/api/patients/${patientId}/notes`, { body, shareable });
    const hidden = await write(false, 'Discussed safeguarding concern with the team.');
    expect(hidden.statusCode).toBe(201);
    const hiddenId = hidden.json<{ note: { id: string } }>().note.id;
    const read = await clinic.call(
      clinician,
      'GET',
      `/api/patients/${patientId}/notes/${hiddenId}`,
    );
    expect(read.statusCode).toBe(200);
    const listed = async () => {
      const res = await clinic.call(patient, 'GET', '/api/portal/access-log?limit=100');
      expect(res.statusCode).toBe(200);
      return res.json<{ entries: AccessEntry[] }>().entries.map((e) => e.action);
    };
    // Both events are in the audit log, naming the note…
    const events = await clinic.db
      .selectFrom('audit_events')
      .select('action')
      .where('target_id', '=', patientId)
      .where(({ ref }) => ref('details', '->>').key('noteId'), '=', hiddenId)
      .execute();
    expect(events.map((e) => e.action).sort()).toEqual([
      'patient.note_created',
      'patient.note_read',
    ]);
    // …and neither reaches the patient, nor the patient's export.
    const before = await listed();
    expect(before).not.toContain('patient.note_created');
    expect(before).not.toContain('patient.note_read');
    const exported = await clinic.call(patient, 'GET', '/api/account/export');
    const exportedActions = exported
      .json<{ patient: { accessLog: AccessEntry[] } }>()
      .patient.accessLog.map((e) => e.action);
    expect(exportedActions).not.toContain('patient.note_created');

    // Once a correction shares it, the patient can read the note and sees who wrote and read it.
    const shared = await clinic.call(
      clinician,
      'POST',
      `/api/patients/${patientId}/notes/${hiddenId}/versions`,
      {
        body: 'Discussed support options with the team.',
        shareable: true,
        reason: 'Share with the patient',
      },
    );
    expect(shared.statusCode).toBe(201);
    const after = await listed();
    expect(after).toContain('patient.note_created');
    expect(after).toContain('patient.note_read');
  });

  it('shows the patient a staff search that listed them, from the one batched event of the page', async () => {
    const other = await clinic.patient(organizationId, { familyName: 'Zz Unlisted' });
    const search = await clinic.call(clinician, 'POST', '/api/patients/search', { limit: 100 });
    expect(search.statusCode).toBe(200);
    const listed = search.json<{ patients: Array<{ id: string }> }>().patients.map((p) => p.id);
    expect(listed).toContain(patientId);
    const res = await clinic.call(patient, 'GET', '/api/portal/access-log?limit=1');
    const [newest] = res.json<{ entries: AccessEntry[] }>().entries;
    expect(newest).toMatchObject({
      action: 'patient.listed',
      actor: { kind: 'staff', displayName: 'Dr Grey' },
    });
    // A page that did not name the patient is not theirs to see.
    const narrow = await clinic.call(clinician, 'POST', '/api/patients/search', {
      name: 'Zz Unlisted',
    });
    expect(narrow.json<{ patients: Array<{ id: string }> }>().patients).toEqual([
      expect.objectContaining({ id: other }),
    ]);
    const after = await clinic.call(patient, 'GET', '/api/portal/access-log?limit=1');
    expect(after.json<{ entries: AccessEntry[] }>().entries).toEqual([newest]);
  });

  it('needs a session: anonymous calls are 401', async () => {
    for (const url of ['/api/portal/record', '/api/account/export']) {
      const res = await clinic.call(null, 'GET', url);
      expect(res.statusCode).toBe(401);
    }
  });
});
