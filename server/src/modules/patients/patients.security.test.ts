// Threats against patients, consents and notes (Z4, L3, V1): another organization's objects are
// a 404 on every route, the active organization bounds what a member sees, every read and write
// leaves exactly its audit events with field names and no values, hostile input is a 400 that
// names the field, and note history cannot be rewritten even with SQL.
import { beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { machineClientAuthorization, mintSession, uniqueEmail } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';

type Method = 'GET' | 'POST' | 'PATCH';
const MISSING = '00000000-0000-4000-8000-000000000000';

/** The problem without its per-request id: a foreign object must be indistinguishable. */
function problemShape(response: LightMyRequestResponse) {
  const { requestId: _requestId, ...rest } = response.json<Record<string, unknown>>();
  void _requestId;
  return { status: response.statusCode, type: response.headers['content-type'], ...rest };
}

describeClinic('patients security', (clinic) => {
  let adminA: Actor;
  let clinicianA: Actor;
  let clinicianB: Actor;
  let orgA: string;
  let orgB: string;
  let patientA: string;
  let patientB: string;
  let noteA: string;
  let consentA: string;
  let documentA: string;
  let documentB: string;

  /** Creates through the API as `actor` and returns the new object's id from `{ [key]: { id } }`. */
  async function createdId(actor: Actor, url: string, key: string, body: object) {
    const response = await clinic.call(actor, 'POST', url, body);
    return response.json<Record<string, { id: string }>>()[key]!.id;
  }

  beforeAll(async () => {
    adminA = await clinic.actor(['clinician']);
    clinicianA = await clinic.actor(['clinician']);
    clinicianB = await clinic.actor(['clinician']);
    orgA = await clinic.organization({
      members: [
        [adminA, 'org_admin'],
        [clinicianA, 'clinician'],
      ],
    });
    orgB = await clinic.organization({ members: [[clinicianB, 'org_admin']] });
    patientA = await clinic.patient(orgA, { familyName: 'Alpha' });
    patientB = await clinic.patient(orgB, { familyName: 'Bravo' });
    const terms = (organization: string) => ({
      kind: 'terms',
      title: `Terms ${organization}`,
      body: `Terms of organization ${organization}`,
      required: true,
    });
    documentA = await createdId(adminA, '/api/consent-documents', 'document', terms('A'));
    documentB = await createdId(clinicianB, '/api/consent-documents', 'document', terms('B'));
    consentA = await createdId(clinicianA, `/api/patients/${patientA}/consents`, 'consent', {
      documentId: documentA,
      channel: 'paper',
    });
    noteA = await createdId(clinicianA, `/api/patients/${patientA}/notes`, 'note', {
      body: 'Org A note',
      shareable: false,
    });
  });

  describe('Z4 object-level scope', () => {
    /** Every patient route, given ids; each must answer exactly like a missing object. */
    function routes(ids: {
      patient: string;
      note: string;
      consent: string;
      document: string;
    }): Array<[Method, string, unknown]> {
      const p = `/api/patients/${ids.patient}`;
      return [
        ['GET', p, undefined],
        ['PATCH', p, { givenName: 'Mallory' }],
        ['POST', `${p}/archive`, {}],
        ['POST', `${p}/restore`, {}],
        ['POST', `${p}/portal-invitation`, { email: uniqueEmail('z4') }],
        ['GET', `${p}/consents`, undefined],
        ['POST', `${p}/consents`, { documentId: ids.document, channel: 'paper' }],
        ['POST', `${p}/consents/${ids.consent}/withdraw`, {}],
        ['GET', `${p}/notes`, undefined],
        ['GET', `${p}/notes/${ids.note}`, undefined],
        ['POST', `${p}/notes`, { body: 'Injected', shareable: true }],
        ['POST', `${p}/notes/${ids.note}/versions`, { body: 'X', shareable: true, reason: 'r' }],
      ];
    }

    it('Z4: a clinician of another organization gets 404 for the patient, its notes and consents on every route', async () => {
      const foreign = routes({
        patient: patientA,
        note: noteA,
        consent: consentA,
        document: documentA,
      });
      const missing = routes({
        patient: MISSING,
        note: MISSING,
        consent: MISSING,
        document: MISSING,
      });
      for (const [index, [method, url, body]] of foreign.entries()) {
        const response = await clinic.call(clinicianB, method, url, body);
        expect(response.statusCode, `${method} ${url}`).toBe(404);
        const [m2, u2, b2] = missing[index] ?? ['GET', '', undefined];
        const reference = await clinic.call(clinicianB, m2, u2, b2);
        expect(problemShape(response), `${method} ${url}`).toEqual(problemShape(reference));
      }
      // Nothing of organization A changed or was added by those attempts.
      const db = clinic.db;
      const row = await db
        .selectFrom('patients')
        .select(['given_name', 'archived_at', 'portal_user_id'])
        .where('id', '=', patientA)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ given_name: 'Pat', archived_at: null, portal_user_id: null });
      expect(await clinic.rows('clinical_notes', { patient_id: patientA })).toHaveLength(1);
      const [consent] = await clinic.rows('patient_consents', { id: consentA });
      expect(consent?.withdrawn_at).toBeNull();
    });

    it("Z4: another organization's note, consent or document used under one's own patient is a 404", async () => {
      const p = `/api/patients/${patientB}`;
      const attempts: Array<[Method, string, unknown]> = [
        ['GET', `${p}/notes/${noteA}`, undefined],
        ['POST', `${p}/notes/${noteA}/versions`, { body: 'X', shareable: false, reason: 'r' }],
        ['POST', `${p}/consents/${consentA}/withdraw`, {}],
        ['POST', `${p}/consents`, { documentId: documentA, channel: 'paper' }],
      ];
      for (const [method, url, body] of attempts) {
        const response = await clinic.call(clinicianB, method, url, body);
        expect(response.statusCode, `${method} ${url}`).toBe(404);
        expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
      }
      // And the organization's own document still works on its own patient.
      const own = await clinic.call(clinicianB, 'POST', `${p}/consents`, {
        documentId: documentB,
        channel: 'paper',
      });
      expect(own.statusCode).toBe(201);
    });

    it('Z4: a search cursor from another organization is a 404 and search never shows its patients', async () => {
      const cursor = await clinic.call(clinicianB, 'POST', '/api/patients/search', {
        cursor: patientA,
      });
      expect(cursor.statusCode).toBe(404);
      expect(cursor.json()).toMatchObject({ code: 'NOT_FOUND' });
      const all = await clinic.call(clinicianB, 'POST', '/api/patients/search', {
        includeArchived: true,
        limit: 100,
      });
      const ids = all.json<{ patients: Array<{ id: string }> }>().patients.map((p) => p.id);
      expect(ids).toContain(patientB);
      expect(ids).not.toContain(patientA);
      const documents = await clinic.call(clinicianB, 'GET', '/api/consent-documents');
      const docIds = documents
        .json<{ documents: Array<{ id: string }> }>()
        .documents.map((d) => d.id);
      expect(docIds).toEqual([documentB]);
    });

    it("Z4: a clinician of org A with org B active cannot see org A's patients", async () => {
      const both = await clinic.actor(['clinician']);
      const db = clinic.db;
      await db
        .insertInto('organization_members')
        .values([
          { organization_id: orgA, user_id: both.userId, role: 'clinician' },
          { organization_id: orgB, user_id: both.userId, role: 'clinician' },
        ])
        .execute();
      await db
        .updateTable('sessions')
        .set({ active_organization_id: orgB })
        .where('id', '=', both.sessionId)
        .execute();
      const read = await clinic.call(both, 'GET', `/api/patients/${patientA}`);
      expect(read.statusCode).toBe(404);
      const notes = await clinic.call(both, 'GET', `/api/patients/${patientA}/notes`);
      expect(notes.statusCode).toBe(404);
      const search = await clinic.call(both, 'POST', '/api/patients/search', { name: 'Alpha' });
      expect(search.json<{ patients: unknown[] }>().patients).toEqual([]);
      expect((await clinic.call(both, 'GET', `/api/patients/${patientB}`)).statusCode).toBe(200);
      // Switching to org A opens A and closes B.
      await db
        .updateTable('sessions')
        .set({ active_organization_id: orgA })
        .where('id', '=', both.sessionId)
        .execute();
      expect((await clinic.call(both, 'GET', `/api/patients/${patientA}`)).statusCode).toBe(200);
      expect((await clinic.call(both, 'GET', `/api/patients/${patientB}`)).statusCode).toBe(404);
    });

    it('Z4: a former member no longer reaches the organization (membership checked on every request)', async () => {
      const leaver = await clinic.actor(['clinician']);
      const db = clinic.db;
      await db
        .insertInto('organization_members')
        .values({ organization_id: orgA, user_id: leaver.userId, role: 'clinician' })
        .execute();
      expect((await clinic.call(leaver, 'GET', `/api/patients/${patientA}`)).statusCode).toBe(200);
      await sql`delete from organization_members where user_id = ${leaver.userId}`.execute(db);
      const after = await clinic.call(leaver, 'GET', `/api/patients/${patientA}`);
      expect(after.statusCode).toBe(409);
      expect(after.json()).toMatchObject({ code: 'NO_ACTIVE_ORGANIZATION' });
    });

    it('Z4: a portal invitation never links the record to an account whose email is unproven (self sign-up pre-hijack)', async () => {
      const db = clinic.db;
      const patient = await clinic.patient(orgA, { familyName: 'Prehijack' });
      // What POST /api/onboarding/signup leaves behind when someone registers a patient's email:
      // a patient account, still invited (unverified), with the registrant's password.
      const email = uniqueEmail('prehijack');
      const pending = await db
        .insertInto('users')
        .values({
          email,
          email_normalized: email.toLowerCase(),
          display_name: 'Registrant',
          roles: ['patient'],
          status: 'invited',
          password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const response = await clinic.call(
        clinicianA,
        'POST',
        `/api/patients/${patient}/portal-invitation`,
        { email },
      );
      // Answered as any invitation is (A11): the clinician learns nothing about the address.
      expect(response.statusCode, response.body).toBe(201);
      const [row] = await clinic.rows('patients', { id: patient });
      expect(row?.portal_user_id).toBeNull();
      const account = await db
        .selectFrom('users')
        .select(['roles', 'status'])
        .where('id', '=', pending.id)
        .executeTakeFirstOrThrow();
      expect(account).toEqual({ roles: ['patient'], status: 'invited' });
      // The owner confirms the address later; the registrant, who knows the password, signs in:
      // the invitation that reached the pending account is never accepted.
      await db
        .updateTable('users')
        .set({ status: 'active' })
        .where('id', '=', pending.id)
        .execute();
      const registrant = await mintSession(clinic.app, {
        userId: pending.id,
        email,
        roles: ['patient'],
      });
      const listed = await clinic.call(registrant, 'GET', '/api/account/portal-invitations');
      const [invitation] = listed.json<{ invitations: Array<{ id: string; canAccept: boolean }> }>()
        .invitations;
      expect(invitation?.canAccept).toBe(false);
      const accepted = await clinic.call(
        registrant,
        'POST',
        `/api/account/portal-invitations/${invitation?.id ?? ''}/accept`,
        {},
      );
      expect(accepted.statusCode).toBe(409);
      const [after] = await clinic.rows('patients', { id: patient });
      expect(after?.portal_user_id).toBeNull();
    });

    it('Z4: patients, machine clients and non-members are refused before any patient row is read', async () => {
      const patient = await clinic.actor(['patient']);
      expect((await clinic.call(patient, 'GET', `/api/patients/${patientA}`)).statusCode).toBe(403);
      const machine = await machineClientAuthorization(clinic.app, ['patients:read']);
      const viaMachine = await clinic.call(
        { authorization: machine },
        'GET',
        `/api/patients/${patientA}`,
      );
      expect(viaMachine.statusCode).toBe(403);
      const loner = await clinic.actor(['clinician']);
      const viaLoner = await clinic.call(loner, 'GET', `/api/patients/${patientA}`);
      expect(viaLoner.statusCode).toBe(409);
      expect((await clinic.call(null, 'GET', `/api/patients/${patientA}`)).statusCode).toBe(401);
    });

    it('Z4: a clinician member cannot publish consent documents (org_admin only)', async () => {
      const sneaky = { kind: 'research', title: 'Sneaky', body: 'Text', required: true };
      const response = await clinic.call(clinicianA, 'POST', '/api/consent-documents', sneaky);
      expect(response.statusCode).toBe(403);
      const docs = await clinic.db
        .selectFrom('consent_documents')
        .select('id')
        .where('organization_id', '=', orgA)
        .where('kind', '=', 'research')
        .execute();
      expect(docs).toEqual([]);
    });
  });

  describe('L3 PHI audit', () => {
    const PHI = {
      mrn: 'SECRETMRN-7731',
      givenName: 'Quintessa',
      familyName: 'Vandermolen',
      birthDate: '1933-03-03',
      newFamilyName: 'Oosterhuis',
      phone: '+15550001111',
      street: '42 Hidden Lane',
      email: uniqueEmail('phi-portal'),
    };

    interface AuditRow {
      seq: string;
      action: string;
      actor_id: string | null;
      target_type: string | null;
      target_id: string | null;
      details: Record<string, unknown>;
    }

    async function lastSeq(): Promise<string> {
      const row = await clinic.db
        .selectFrom('audit_events')
        .select(sql<string>`coalesce(max(seq), 0)::text`.as('seq'))
        .executeTakeFirstOrThrow();
      return row.seq;
    }

    async function eventsSince(seq: string): Promise<AuditRow[]> {
      return clinic.db
        .selectFrom('audit_events')
        .select(['seq', 'action', 'actor_id', 'target_type', 'target_id', 'details'])
        .where(sql<boolean>`seq > ${seq}::bigint`)
        .orderBy('seq')
        .execute();
    }

    /** The patient ids a batched event names, in order (auditPhiBatch splits them in fives). */
    function batchedIds(details: Record<string, unknown> = {}): string[] {
      return Object.keys(details)
        .filter((key) => key.startsWith('patientIds'))
        .sort((a, b) => Number(a.slice(10)) - Number(b.slice(10)))
        .flatMap((key) => String(details[key]).split(','));
    }

    /** Runs one call and returns the audit events it left, as [action, target, details]. */
    async function audited(
      actor: Actor,
      method: Method,
      url: string,
      body?: unknown,
    ): Promise<{
      response: LightMyRequestResponse;
      events: Array<[string, string | null, Record<string, unknown>]>;
    }> {
      const before = await lastSeq();
      const response = await clinic.call(actor, method, url, body);
      const rows = await eventsSince(before);
      for (const row of rows) expect(row.actor_id).toBe(actor.userId);
      return { response, events: rows.map((r) => [r.action, r.target_id, r.details]) };
    }

    it('L3: every read and write of a record leaves exactly its events, with field names and no values', async () => {
      const created = await audited(clinicianA, 'POST', '/api/patients', {
        mrn: PHI.mrn,
        givenName: PHI.givenName,
        familyName: PHI.familyName,
        birthDate: PHI.birthDate,
        sex: 'female',
        address: { line1: PHI.street, city: 'Leiden', postalCode: '2311', country: 'NL' },
        contactMethods: [{ type: 'phone', value: PHI.phone, verified: false }],
      });
      expect(created.response.statusCode).toBe(201);
      const id = created.response.json<{ patient: { id: string } }>().patient.id;
      expect(created.events).toEqual([
        [
          'patient.created',
          id,
          { fields: 'address,birthDate,contactMethods,familyName,givenName,mrn,sex' },
        ],
      ]);

      const read = await audited(clinicianA, 'GET', `/api/patients/${id}`);
      expect(read.events).toEqual([['patient.read', id, {}]]);

      // Only the changed field is named: givenName and sex are sent unchanged.
      const patched = await audited(clinicianA, 'PATCH', `/api/patients/${id}`, {
        familyName: PHI.newFamilyName,
        givenName: PHI.givenName,
        sex: 'female',
      });
      expect(patched.response.statusCode).toBe(200);
      expect(patched.events).toEqual([['patient.updated', id, { fields: 'familyName' }]]);

      const unchanged = await audited(clinicianA, 'PATCH', `/api/patients/${id}`, {
        sex: 'female',
      });
      expect(unchanged.events).toEqual([['patient.read', id, {}]]);

      const search = await audited(clinicianA, 'POST', '/api/patients/search', {
        name: PHI.newFamilyName,
      });
      // A search page is one batched event on the organization that names the patients listed.
      expect(search.events).toEqual([
        ['patient.listed', orgA, { count: 1, part: 1, parts: 1, patientIds1: id }],
      ]);
      const searchMany = await audited(clinicianA, 'POST', '/api/patients/search', { limit: 100 });
      const listed = searchMany.response.json<{ patients: Array<{ id: string }> }>().patients;
      expect(listed.length).toBeGreaterThan(1);
      expect(searchMany.events).toHaveLength(1);
      expect(searchMany.events[0]?.slice(0, 2)).toEqual(['patient.listed', orgA]);
      expect(batchedIds(searchMany.events[0]?.[2])).toEqual(listed.map((p) => p.id));

      const consentsRead = await audited(clinicianA, 'GET', `/api/patients/${id}/consents`);
      expect(consentsRead.events).toEqual([['patient.consents_read', id, {}]]);

      const recorded = await audited(clinicianA, 'POST', `/api/patients/${id}/consents`, {
        documentId: documentA,
        channel: 'in_person',
      });
      const consentId = recorded.response.json<{ consent: { id: string } }>().consent.id;
      expect(recorded.events).toEqual([
        ['patient.consent_recorded', id, { consentId, documentId: documentA }],
      ]);
      const withdrawn = await audited(
        clinicianA,
        'POST',
        `/api/patients/${id}/consents/${consentId}/withdraw`,
        {},
      );
      expect(withdrawn.events).toEqual([
        ['patient.consent_withdrawn', id, { consentId, documentId: documentA }],
      ]);

      const noteCreated = await audited(clinicianA, 'POST', `/api/patients/${id}/notes`, {
        body: `Seen ${PHI.givenName} today`,
        shareable: false,
      });
      const noteId = noteCreated.response.json<{ note: { id: string } }>().note.id;
      expect(noteCreated.events).toEqual([['patient.note_created', id, { noteId }]]);
      const corrected = await audited(
        clinicianA,
        'POST',
        `/api/patients/${id}/notes/${noteId}/versions`,
        {
          body: 'Corrected',
          shareable: true,
          reason: 'wrong visit',
        },
      );
      expect(corrected.events).toEqual([['patient.note_corrected', id, { noteId, version: 2 }]]);
      const notesRead = await audited(clinicianA, 'GET', `/api/patients/${id}/notes`);
      expect(notesRead.events).toEqual([['patient.notes_read', id, {}]]);
      const noteRead = await audited(clinicianA, 'GET', `/api/patients/${id}/notes/${noteId}`);
      expect(noteRead.events).toEqual([['patient.note_read', id, { noteId }]]);

      const invited = await audited(clinicianA, 'POST', `/api/patients/${id}/portal-invitation`, {
        email: PHI.email,
      });
      expect(invited.response.statusCode).toBe(201);
      const portalUser = await clinic.db
        .selectFrom('patients')
        .select('portal_user_id')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect(invited.events).toEqual([
        ['patient.portal_invited', id, {}],
        ['portal.user_invited', portalUser.portal_user_id, { role: 'patient', reinvited: false }],
      ]);

      const archived = await audited(clinicianA, 'POST', `/api/patients/${id}/archive`, {});
      expect(archived.events).toEqual([['patient.archived', id, { fields: 'archivedAt' }]]);
      const restored = await audited(clinicianA, 'POST', `/api/patients/${id}/restore`, {});
      expect(restored.events).toEqual([['patient.restored', id, { fields: 'archivedAt' }]]);

      const all = await clinic.db.selectFrom('audit_events').selectAll().execute();
      const dump = JSON.stringify(all);
      for (const value of [
        PHI.mrn,
        PHI.givenName,
        PHI.familyName,
        PHI.newFamilyName,
        PHI.birthDate,
        PHI.phone,
        PHI.street,
        PHI.email,
        'Seen ',
        'wrong visit',
      ]) {
        expect(dump, value).not.toContain(value);
      }
    });

    it('L3: a search listing N patients writes exactly one PHI event naming all N, not one per row', async () => {
      const lister = await clinic.actor(['clinician']);
      const organization = await clinic.organization({ members: [[lister, 'clinician']] });
      const created: string[] = [];
      for (const familyName of [
        'Batch A',
        'Batch B',
        'Batch C',
        'Batch D',
        'Batch E',
        'Batch F',
        'Batch G',
      ]) {
        created.push(await clinic.patient(organization, { familyName }));
      }
      const { response, events } = await audited(lister, 'POST', '/api/patients/search', {
        name: 'Batch',
      });
      expect(response.statusCode).toBe(200);
      const listed = response.json<{ patients: Array<{ id: string }> }>().patients.map((p) => p.id);
      expect([...listed].sort()).toEqual([...created].sort());
      expect(events).toHaveLength(1);
      const [action, target, details] = events[0] ?? [];
      expect([action, target]).toEqual(['patient.listed', organization]);
      expect(details).toMatchObject({ count: created.length, part: 1, parts: 1 });
      expect(batchedIds(details)).toEqual(listed);
      // A search that lists no one discloses no record and writes no event.
      const none = await audited(lister, 'POST', '/api/patients/search', { name: 'Nobody' });
      expect(none.events).toEqual([]);
    });

    it('L3: refused requests (another organization, bad input) leave no PHI access event', async () => {
      const before = await lastSeq();
      await clinic.call(clinicianB, 'GET', `/api/patients/${patientA}`);
      await clinic.call(clinicianB, 'GET', `/api/patients/${patientA}/notes`);
      await clinic.call(clinicianA, 'PATCH', `/api/patients/${patientA}`, {
        birthDate: '2999-01-01',
      });
      const rows = await eventsSince(before);
      expect(rows.filter((r) => r.action.startsWith('patient.'))).toEqual([]);
    });
  });

  describe('V1 hostile input', () => {
    /** A valid create body: each case below changes one field of it. */
    const base: Record<string, unknown> = {
      mrn: 'V1-0001',
      givenName: 'Val',
      familyName: 'Idation',
      birthDate: '1990-01-01',
      sex: 'other',
    };
    const tomorrow = new Date(Date.now() + 36 * 3600 * 1000).toISOString().slice(0, 10);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['an impossible date', { birthDate: '2001-02-30' }, 'body.birthDate'],
      ['a date before 1900', { birthDate: '1899-12-31' }, 'body.birthDate'],
      ['a date in the future', { birthDate: tomorrow }, 'body.birthDate'],
      ['a date with a time', { birthDate: '1990-01-01T00:00:00Z' }, 'body.birthDate'],
      ['a NUL in a name', { givenName: 'Ev\u0000il' }, 'body.givenName'],
      ['a bidi override in a name', { familyName: 'abc\u202Edef' }, 'body.familyName'],
      ['an escape sequence in a name', { familyName: '\u001b[31mred' }, 'body.familyName'],
      ['a blank name', { givenName: '   ' }, 'body.givenName'],
      ['a name too long', { familyName: 'x'.repeat(101) }, 'body.familyName'],
      ['an MRN with spaces', { mrn: 'a b' }, 'body.mrn'],
      ['an MRN starting with a dash', { mrn: '-abc' }, 'body.mrn'],
      ['an MRN too long', { mrn: 'A'.repeat(33) }, 'body.mrn'],
      ['an unknown sex', { sex: 'robot' }, 'body.sex'],
      [
        'a phone not in E.164',
        { contactMethods: [{ type: 'phone', value: '555-1234', verified: false }] },
        'body.contactMethods.0.value',
      ],
      [
        'an E.164 phone too short for its numbering plan (+1 needs ten digits)',
        { contactMethods: [{ type: 'phone', value: '+1555123456', verified: false }] },
        'body.contactMethods.0.value',
      ],
      [
        'an email that is not one',
        { contactMethods: [{ type: 'email', value: 'not an email', verified: false }] },
        'body.contactMethods.0.value',
      ],
      [
        'too many contact methods',
        {
          contactMethods: Array.from({ length: 11 }, () => ({
            type: 'phone',
            value: '+15551234567',
            verified: false,
          })),
        },
        'body.contactMethods',
      ],
      [
        'a lower-case country',
        { address: { line1: 'x', city: 'y', postalCode: '1', country: 'us' } },
        'body.address.country',
      ],
      [
        'a control character in the address',
        { address: { line1: 'x\u0007', city: 'y', postalCode: '1', country: 'US' } },
        'body.address.line1',
      ],
      [
        'an extra address property',
        { address: { line1: 'x', city: 'y', postalCode: '1', country: 'US', evil: 1 } },
        'body.address.evil',
      ],
      ['an unknown property', { isAdmin: true }, 'body.isAdmin'],
      ['a portal link smuggled in', { portalUserId: MISSING }, 'body.portalUserId'],
    ];

    for (const [label, change, field] of cases) {
      it(`V1: ${label} is answered 400 naming ${field}`, async () => {
        const create = await clinic.call(clinicianA, 'POST', '/api/patients', {
          ...base,
          ...change,
        });
        expect(create.statusCode, create.body).toBe(400);
        const problem = create.json<{ code: string; errors: Array<{ field: string }> }>();
        expect(problem.code).toBe('VALIDATION_FAILED');
        expect(problem.errors.map((e) => e.field)).toContain(field);
        expect(create.headers['content-type']).toContain('application/problem+json');
        const patch = await clinic.call(clinicianA, 'PATCH', `/api/patients/${patientA}`, change);
        expect(patch.statusCode, patch.body).toBe(400);
      });
    }

    it('V1: hostile search bodies, ids and consent/note input are answered 400 with the field', async () => {
      const checks: Array<[Method, string, unknown, string]> = [
        ['POST', '/api/patients/search', { name: 'a\u0000' }, 'body.name'],
        ['POST', '/api/patients/search', { limit: 0 }, 'body.limit'],
        ['POST', '/api/patients/search', { limit: 101 }, 'body.limit'],
        ['POST', '/api/patients/search', { cursor: "1' or '1'='1" }, 'body.cursor'],
        ['POST', '/api/patients/search', { birthDate: '1990-13-01' }, 'body.birthDate'],
        ['POST', '/api/patients/search', { name: 'x'.repeat(101) }, 'body.name'],
        ['GET', '/api/patients/not-a-uuid', undefined, 'params.patientId'],
        ['GET', `/api/patients/${patientA}/notes/../../x`, undefined, ''],
        [
          'POST',
          `/api/patients/${patientA}/notes`,
          { body: 'x'.repeat(20_001), shareable: false },
          'body.body',
        ],
        [
          'POST',
          `/api/patients/${patientA}/notes`,
          { body: 'a\u0000b', shareable: false },
          'body.body',
        ],
        [
          'POST',
          `/api/patients/${patientA}/notes`,
          { body: 'ok', shareable: 'yes' },
          'body.shareable',
        ],
        [
          'POST',
          `/api/patients/${patientA}/consents`,
          { documentId: documentA, channel: 'portal' },
          'body.channel',
        ],
        ['POST', `/api/patients/${patientA}/portal-invitation`, { email: 'nobody' }, 'body.email'],
        ['POST', `/api/patients/${patientA}/archive`, { force: true }, 'body.force'],
        [
          'POST',
          '/api/consent-documents',
          { kind: 'secret', title: 't', body: 'b', required: true },
          'body.kind',
        ],
        [
          'POST',
          '/api/consent-documents',
          { kind: 'terms', title: 't\u202E', body: 'b', required: true },
          'body.title',
        ],
      ];
      for (const [method, url, body, field] of checks) {
        const actor = url === '/api/consent-documents' ? adminA : clinicianA;
        const response = await clinic.call(actor, method, url, body);
        if (field === '') {
          expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
          expect(response.statusCode, url).toBeLessThan(500);
          continue;
        }
        expect(response.statusCode, `${method} ${url} ${field}`).toBe(400);
        const problem = response.json<{ errors?: Array<{ field: string }> }>();
        expect(
          problem.errors?.map((e) => e.field),
          `${method} ${url}`,
        ).toContain(field);
      }
    });

    it('V1: a refused value is never echoed back in the problem', async () => {
      const response = await clinic.call(clinicianA, 'POST', '/api/patients', {
        ...base,
        contactMethods: [{ type: 'phone', value: 'SECRET-PHONE-99', verified: false }],
      });
      expect(response.statusCode).toBe(400);
      expect(response.body).not.toContain('SECRET-PHONE-99');
    });
  });

  describe('clinical history is kept', () => {
    it('V1: note versions cannot be updated or deleted even with SQL (the trigger refuses)', async () => {
      const db = clinic.db;
      await expect(
        sql`update clinical_note_versions set body = 'rewritten' where note_id = ${noteA}`.execute(
          db,
        ),
      ).rejects.toThrow(/never destroyed/);
      await expect(
        sql`delete from clinical_note_versions where note_id = ${noteA}`.execute(db),
      ).rejects.toThrow(/never destroyed/);
      await expect(sql`delete from clinical_notes where id = ${noteA}`.execute(db)).rejects.toThrow(
        /never destroyed/,
      );
      await expect(
        sql`delete from patient_consents where id = ${consentA}`.execute(db),
      ).rejects.toThrow(/never destroyed/);
      await expect(sql`delete from patients where id = ${patientA}`.execute(db)).rejects.toThrow(
        /never destroyed/,
      );
      const versions = await db
        .selectFrom('clinical_note_versions')
        .select('body')
        .where('note_id', '=', noteA)
        .execute();
      expect(versions).toEqual([{ body: 'Org A note' }]);
    });
  });
});
