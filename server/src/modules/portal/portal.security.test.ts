// Threats against the patient portal and the account export (Z4, Z3, L3): reaching another
// patient's record, consents or notes; an account with no linked record; private or superseded
// note text leaking; the access list hiding who read the record; an export carrying anyone
// else's data.
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import type { DatabaseSchema } from '../../platform/db/schema.js';
import { recordAudit } from '../../platform/audit/audit.js';

type Db = Kysely<DatabaseSchema>;

async function insertDocument(db: Db, organizationId: string, title: string): Promise<string> {
  const row = await db
    .insertInto('consent_documents')
    .values({
      organization_id: organizationId,
      kind: 'hipaa_notice',
      version: 1,
      title,
      body: `${title} body text`,
      required: true,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** One patient in their own organization, with data that is theirs alone (every value marked). */
interface World {
  tag: string;
  organizationId: string;
  organizationName: string;
  clinician: Actor;
  clinicianName: string;
  patientId: string;
  patient: Actor;
  documentId: string;
  documentTitle: string;
  consentId: string;
  sharedBody: string;
  privateBody: string;
  grantId: string;
  grantReason: string;
  /** Values of this patient's world that their own export shows. */
  values: string[];
  /** Values no one else may ever see: `values` plus ids the export does not show even to them. */
  secrets: string[];
}

describeClinic('patient portal security', (clinic) => {
  let admin: Actor;
  let alpha: World;
  let beta: World;

  async function buildWorld(tag: string): Promise<World> {
    const clinicianName = `Dr ${tag} Clinician`;
    const clinician = await clinic.actor(['clinician'], { displayName: clinicianName });
    const organizationName = `Clinic ${tag}`;
    const organizationId = await clinic.organization({
      name: organizationName,
      members: [[clinician, 'org_admin']],
    });
    const { patientId, patient } = await clinic.portalPatient(
      organizationId,
      {
        givenName: `Given${tag}`,
        familyName: `Family${tag}`,
        mrn: `MRN-${tag}`,
        birthDate: tag === 'Alpha' ? '1971-02-03' : '1988-09-17',
        address: {
          line1: `1 ${tag} Street`,
          city: `${tag}ville`,
          postalCode: tag === 'Alpha' ? '11111' : '99999',
          country: 'US',
        },
        contactMethods: [
          {
            type: 'phone',
            value: tag === 'Alpha' ? '+15550001111' : '+15550009999',
            verified: true,
          },
          { type: 'email', value: `contact-${tag.toLowerCase()}@example.org`, verified: false },
        ],
      },
      { displayName: `Portal ${tag}`, email: `portal-${tag.toLowerCase()}@example.org` },
    );
    const documentTitle = `Privacy notice ${tag}`;
    const documentId = await insertDocument(clinic.db, organizationId, documentTitle);
    const consent = await clinic.db
      .insertInto('patient_consents')
      .values({
        patient_id: patientId,
        document_id: documentId,
        channel: 'paper',
        recorded_by: clinician.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sharedBody = `Shared note of ${tag}`;
    const privateBody = `Private note of ${tag}`;
    await clinic.note(patientId, organizationId, clinician, [
      { body: sharedBody, shareable: true },
    ]);
    await clinic.note(patientId, organizationId, clinician, [
      { body: privateBody, shareable: false },
    ]);
    // A staff read, as the patients routes record it.
    await recordAudit(clinic.db, {
      actor: { type: 'user', id: clinician.userId },
      action: 'patient.read',
      target: { type: 'patient', id: patientId },
      outcome: 'success',
    });
    const grantReason = `Emergency review of ${tag} requested by on-call`;
    const granted = await clinic.call(admin, 'POST', '/api/break-glass/grants', {
      patientId,
      reason: grantReason,
    });
    expect(granted.statusCode).toBe(201);
    const grantId = granted.json<{ grant: { id: string } }>().grant.id;
    const used = await clinic.call(admin, 'GET', `/api/break-glass/grants/${grantId}/record`);
    expect(used.statusCode).toBe(200);
    return {
      tag,
      organizationId,
      organizationName,
      clinician,
      clinicianName,
      patientId,
      patient,
      documentId,
      documentTitle,
      consentId: consent.id,
      sharedBody,
      privateBody,
      grantId,
      grantReason,
      secrets: [],
      values: [
        organizationId,
        organizationName,
        clinicianName,
        patientId,
        patient.userId,
        patient.email,
        patient.sessionId,
        `Given${tag}`,
        `Family${tag}`,
        `MRN-${tag}`,
        tag === 'Alpha' ? '1971-02-03' : '1988-09-17',
        `1 ${tag} Street`,
        `${tag}ville`,
        tag === 'Alpha' ? '+15550001111' : '+15550009999',
        `contact-${tag.toLowerCase()}@example.org`,
        documentId,
        documentTitle,
        consent.id,
        sharedBody,
        grantId,
        grantReason,
      ],
    };
  }

  beforeAll(async () => {
    admin = await clinic.actor(['admin'], { displayName: 'Root Admin' });
    alpha = await buildWorld('Alpha');
    beta = await buildWorld('Beta');
    for (const world of [alpha, beta]) {
      world.secrets = [...world.values, world.clinician.userId, world.clinician.email];
    }
  });

  /** Each patient as the caller, with the other one as the one whose data must not show. */
  const eachPatientAndTheOther = () =>
    [
      [alpha, beta],
      [beta, alpha],
    ] as const;

  it('Z4: a patient sees only their own record', async () => {
    for (const [self, other] of eachPatientAndTheOther()) {
      const res = await clinic.call(self.patient, 'GET', '/api/portal/record');
      expect(res.statusCode).toBe(200);
      const body = res.json<{ record: { patient: { id: string; mrn: string } } }>();
      expect(body.record.patient.id).toBe(self.patientId);
      expect(body.record.patient.mrn).toBe(`MRN-${self.tag}`);
      for (const value of other.secrets) expect(res.body).not.toContain(value);
    }
  });

  it("Z4: another patient's consent id answers 404 on withdraw, identical to a missing one, and nothing changes", async () => {
    const theirs = await clinic.call(
      alpha.patient,
      'POST',
      `/api/portal/consents/${beta.consentId}/withdraw`,
      {},
    );
    const missing = await clinic.call(
      alpha.patient,
      'POST',
      `/api/portal/consents/${randomUUID()}/withdraw`,
      {},
    );
    expect(theirs.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(theirs.json().code).toBe('NOT_FOUND');
    expect(theirs.json().detail).toBe(missing.json().detail);
    const [row] = await clinic.rows('patient_consents', { id: beta.consentId });
    expect(row?.withdrawn_at).toBeNull();
  });

  it("Z4: consenting to another organization's document answers 404 and records nothing", async () => {
    const res = await clinic.call(alpha.patient, 'POST', '/api/portal/consents', {
      documentId: beta.documentId,
    });
    expect(res.statusCode).toBe(404);
    const rows = await clinic.db
      .selectFrom('patient_consents')
      .select('id')
      .where('patient_id', '=', alpha.patientId)
      .where('document_id', '=', beta.documentId)
      .execute();
    expect(rows).toHaveLength(0);
  });

  it('Z4: a patient-role user without a linked record gets 404 on every portal route', async () => {
    const unlinked = await clinic.actor(['patient']);
    const calls: Array<[method: 'GET' | 'POST', url: string, body?: object]> = [
      ['GET', '/api/portal/record'],
      ['GET', '/api/portal/consents'],
      ['POST', '/api/portal/consents', { documentId: alpha.documentId }],
      ['POST', `/api/portal/consents/${alpha.consentId}/withdraw`, {}],
      ['GET', '/api/portal/notes'],
      ['GET', '/api/portal/access-log'],
    ];
    for (const [method, url, body] of calls) {
      const res = await clinic.call(unlinked, method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().code).toBe('NOT_FOUND');
    }
    expect(await clinic.rows('patient_consents', { recorded_by: unlinked.userId })).toHaveLength(0);
    // The export still works for them: there is simply no patient part.
    const exported = await clinic.call(unlinked, 'GET', '/api/account/export');
    expect(exported.statusCode).toBe(200);
    expect(exported.json().patient).toBeNull();
  });

  it('Z3: staff and machine clients cannot use the portal (no portal scope)', async () => {
    const machine = await clinic.machineClient([]);
    for (const actor of [alpha.clinician, admin, machine]) {
      const res = await clinic.call(actor, 'GET', '/api/portal/record');
      expect(res.statusCode).toBe(403);
    }
  });

  it('Z4: non-shareable notes and older versions never reach the patient', async () => {
    const corrected = await clinic.note(alpha.patientId, alpha.organizationId, alpha.clinician, [
      { body: 'FIRST DRAFT with a wrong dose', shareable: true },
      { body: 'Corrected dose, shared', shareable: true },
    ]);
    const madePrivate = await clinic.note(alpha.patientId, alpha.organizationId, alpha.clinician, [
      { body: 'Was shared once', shareable: true },
      { body: 'Now private', shareable: false },
    ]);
    const madeShared = await clinic.note(alpha.patientId, alpha.organizationId, alpha.clinician, [
      { body: 'Private first version', shareable: false },
      { body: 'Shared second version', shareable: true },
    ]);
    const res = await clinic.call(alpha.patient, 'GET', '/api/portal/notes');
    expect(res.statusCode).toBe(200);
    const notes = res.json<{ notes: Array<{ id: string; body: string }> }>().notes;
    const byId = new Map(notes.map((n) => [n.id, n.body]));
    expect(byId.get(corrected)).toBe('Corrected dose, shared');
    expect(byId.has(madePrivate)).toBe(false);
    expect(byId.get(madeShared)).toBe('Shared second version');
    for (const hidden of [
      'FIRST DRAFT',
      'Was shared once',
      'Now private',
      'Private first version',
      alpha.privateBody,
      beta.sharedBody,
      beta.privateBody,
    ]) {
      expect(res.body).not.toContain(hidden);
    }
    // Break-glass shows the record exactly as the patient sees it: the same filter applies.
    const granted = await clinic.call(
      admin,
      'GET',
      `/api/break-glass/grants/${alpha.grantId}/record`,
    );
    expect(granted.statusCode).toBe(200);
    for (const hidden of ['FIRST DRAFT', 'Now private', alpha.privateBody]) {
      expect(granted.body).not.toContain(hidden);
    }
  });

  it('L3: the access list shows staff reads and break-glass reads with the grant and its reason, and nothing of others', async () => {
    const res = await clinic.call(alpha.patient, 'GET', '/api/portal/access-log?limit=100');
    expect(res.statusCode).toBe(200);
    const entries = res.json<{
      entries: Array<{
        action: string;
        actor: { kind: string; displayName: string };
        grantId: string | null;
        reason: string | null;
      }>;
    }>().entries;
    expect(entries).toContainEqual(
      expect.objectContaining({
        action: 'patient.read',
        actor: { kind: 'staff', displayName: alpha.clinicianName },
        grantId: null,
        reason: null,
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        action: 'patient.read',
        actor: { kind: 'break_glass', displayName: 'Root Admin' },
        grantId: alpha.grantId,
        reason: alpha.grantReason,
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        action: 'breakglass.granted',
        actor: { kind: 'break_glass', displayName: 'Root Admin' },
        grantId: alpha.grantId,
      }),
    );
    for (const value of [beta.grantId, beta.grantReason, beta.clinicianName, beta.patientId]) {
      expect(res.body).not.toContain(value);
    }
    // Emergency accesses can be listed alone, so routine reads cannot bury them.
    const emergency = await clinic.call(
      alpha.patient,
      'GET',
      '/api/portal/access-log?breakGlassOnly=true',
    );
    const emergencyEntries = emergency.json<{ entries: Array<{ grantId: string | null }> }>()
      .entries;
    expect(emergencyEntries.length).toBeGreaterThanOrEqual(2);
    expect(emergencyEntries.every((e) => e.grantId === alpha.grantId)).toBe(true);
  });

  it("Z4: the account export contains exactly the caller's own data, nothing of the other patient", async () => {
    for (const [self, other] of eachPatientAndTheOther()) {
      const res = await clinic.call(self.patient, 'GET', '/api/account/export');
      expect(res.statusCode).toBe(200);
      const json = res.body;
      // Everything of their own is there (the test would prove nothing with an empty export)…
      for (const value of self.values) expect(json, `own ${value}`).toContain(value);
      // …and nothing at all of the other patient, their organization, staff, grant or account.
      for (const value of other.secrets) expect(json, `other ${value}`).not.toContain(value);
      expect(json).not.toContain(self.privateBody);
      expect(json).not.toContain(admin.email);
      const body = res.json<{
        account: { id: string };
        sessions: Array<{ id: string }>;
        patient: { record: { patient: { id: string } } };
      }>();
      expect(body.account.id).toBe(self.patient.userId);
      expect(body.sessions.map((s) => s.id)).toEqual([self.patient.sessionId]);
      expect(body.patient.record.patient.id).toBe(self.patientId);
    }
  });

  it('Z4: the export of a staff member holds no patient data', async () => {
    const res = await clinic.call(alpha.clinician, 'GET', '/api/account/export');
    expect(res.statusCode).toBe(200);
    expect(res.json().patient).toBeNull();
    for (const value of [alpha.patientId, `MRN-${alpha.tag}`, alpha.sharedBody, beta.patientId]) {
      expect(res.body).not.toContain(value);
    }
  });

  it('Z3: a machine client cannot export an account, even holding account:read', async () => {
    const machine = await clinic.machineClient(['account:read']);
    const res = await clinic.call(machine, 'GET', '/api/account/export');
    expect(res.statusCode).toBe(403);
  });

  it('L3: an export is audited (account.exported, and patient.exported for the record) without PHI values', async () => {
    const before = await clinic.db
      .selectFrom('audit_events')
      .select(clinic.db.fn.max('seq').as('max'))
      .executeTakeFirstOrThrow();
    const res = await clinic.call(alpha.patient, 'GET', '/api/account/export');
    expect(res.statusCode).toBe(200);
    const events = await clinic.db
      .selectFrom('audit_events')
      .select(['action', 'actor_id', 'target_type', 'target_id', 'details'])
      .where('seq', '>', String(before.max))
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.action)).toEqual(['account.exported', 'patient.exported']);
    expect(events[1]).toMatchObject({
      actor_id: alpha.patient.userId,
      target_type: 'patient',
      target_id: alpha.patientId,
    });
    const stored = JSON.stringify(events);
    for (const value of [`MRN-${alpha.tag}`, `Given${alpha.tag}`, alpha.sharedBody]) {
      expect(stored).not.toContain(value);
    }
  });
  it("Z4: a grant id of another patient in an event's details never reveals that grant's reason", async () => {
    await recordAudit(clinic.db, {
      actor: { type: 'user', id: admin.userId },
      action: 'patient.read',
      target: { type: 'patient', id: alpha.patientId },
      outcome: 'success',
      details: { grantId: beta.grantId },
    });
    const res = await clinic.call(alpha.patient, 'GET', '/api/portal/access-log?limit=1');
    expect(res.statusCode).toBe(200);
    const [entry] = res.json<{ entries: Array<{ grantId: string; reason: string | null }> }>()
      .entries;
    expect(entry?.grantId).toBe(beta.grantId);
    expect(entry?.reason).toBeNull();
    expect(res.body).not.toContain(beta.grantReason);
  });
});
