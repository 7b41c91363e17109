// Consent documents and consent records over HTTP, and the consent gate that later features
// rely on: only a live consent to the newest version of each required kind satisfies it.
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import { HavenError } from '../../../platform/errors.js';
import type { ConsentDocumentView, ConsentGateView, ConsentRecordView } from './schemas.js';
import { consentGate, listConsentDocuments, recordConsent, requireConsent } from './service.js';

describeClinic('consents', (clinic) => {
  let orgAdmin: Actor;
  let clinician: Actor;

  beforeAll(async () => {
    orgAdmin = await clinic.actor(['clinician']);
    clinician = await clinic.actor(['clinician']);
  });

  /** A fresh organization (so document versions start at 1) with both actors as members. */
  async function freshOrganization(): Promise<string> {
    const organizationId = await clinic.organization({
      members: [
        [orgAdmin, 'org_admin'],
        [clinician, 'clinician'],
      ],
    });
    for (const actor of [orgAdmin, clinician]) {
      await clinic.db
        .updateTable('sessions')
        .set({ active_organization_id: organizationId })
        .where('id', '=', actor.sessionId)
        .execute();
    }
    return organizationId;
  }

  async function publish(
    kind: string,
    required = true,
    title = `${kind} notice`,
  ): Promise<ConsentDocumentView> {
    const response = await clinic.call(orgAdmin, 'POST', '/api/consent-documents', {
      kind,
      title,
      body: 'We keep your records safe.\n\nSigned below.',
      required,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ document: ConsentDocumentView }>().document;
  }

  async function record(patientId: string, documentId: string, channel = 'paper') {
    return clinic.call(clinician, 'POST', `/api/patients/${patientId}/consents`, {
      documentId,
      channel,
    });
  }

  async function gateOf(patientId: string): Promise<ConsentGateView> {
    const response = await clinic.call(clinician, 'GET', `/api/patients/${patientId}/consents`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ gate: ConsentGateView }>().gate;
  }

  it('publishes versions per kind (previous + 1), lists every version newest first', async () => {
    await freshOrganization();
    const hipaa1 = await publish('hipaa_notice');
    const terms1 = await publish('terms', false);
    const hipaa2 = await publish('hipaa_notice');
    expect([hipaa1.version, terms1.version, hipaa2.version]).toEqual([1, 1, 2]);
    expect(hipaa2).toMatchObject({ kind: 'hipaa_notice', required: true, current: true });
    const list = await clinic.call(clinician, 'GET', '/api/consent-documents');
    expect(list.statusCode).toBe(200);
    const documents = list.json<{ documents: ConsentDocumentView[] }>().documents;
    expect(documents.map((d) => [d.id, d.current])).toEqual([
      [hipaa2.id, true],
      [terms1.id, true],
      [hipaa1.id, false],
    ]);
    expect(documents[0]?.body).toBe('We keep your records safe.\n\nSigned below.');
  });

  it('only an org_admin publishes: a clinician member gets 403', async () => {
    await freshOrganization();
    const response = await clinic.call(clinician, 'POST', '/api/consent-documents', {
      kind: 'terms',
      title: 'Terms',
      body: 'Text',
      required: true,
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('concurrent publications of one kind get distinct consecutive versions, never a 500', async () => {
    const organizationId = await freshOrganization();
    const responses = await Promise.all(
      [1, 2, 3, 4].map(() =>
        clinic.call(orgAdmin, 'POST', '/api/consent-documents', {
          kind: 'research',
          title: 'Research',
          body: 'Text',
          required: false,
        }),
      ),
    );
    for (const response of responses) expect([201, 409]).toContain(response.statusCode);
    const versions = (await listConsentDocuments(clinic.db, organizationId))
      .map((d) => d.version)
      .sort();
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    expect(versions.length).toBe(responses.filter((r) => r.statusCode === 201).length);
  });

  it('the gate needs a live consent to the newest required version', async () => {
    const organizationId = await freshOrganization();
    const patientId = await clinic.patient(organizationId);
    expect(await gateOf(patientId)).toEqual({ satisfied: true, missing: [] });

    const v1 = await publish('treatment');
    await publish('research', false);
    expect(await gateOf(patientId)).toEqual({
      satisfied: false,
      missing: [{ documentId: v1.id, kind: 'treatment', version: 1, title: v1.title }],
    });

    const given = await record(patientId, v1.id);
    expect(given.statusCode, given.body).toBe(201);
    const consent = given.json<{ consent: ConsentRecordView }>().consent;
    expect(consent).toMatchObject({
      documentId: v1.id,
      kind: 'treatment',
      version: 1,
      channel: 'paper',
      withdrawnAt: null,
      current: true,
    });
    expect((await gateOf(patientId)).satisfied).toBe(true);

    // A new version re-opens the gate; the old consent is kept but no longer current.
    const v2 = await publish('treatment');
    const reopened = await gateOf(patientId);
    expect(reopened.satisfied).toBe(false);
    expect(reopened.missing.map((m) => m.documentId)).toEqual([v2.id]);
    const list = await clinic.call(clinician, 'GET', `/api/patients/${patientId}/consents`);
    const consents = list.json<{ consents: ConsentRecordView[] }>().consents;
    expect(consents.map((c) => [c.id, c.current])).toEqual([[consent.id, false]]);

    expect((await record(patientId, v2.id)).statusCode).toBe(201);
    expect((await gateOf(patientId)).satisfied).toBe(true);

    // A newest version that is not required lifts the requirement for that kind.
    await publish('treatment', false);
    expect((await gateOf(patientId)).satisfied).toBe(true);
  });

  /** The clinician withdraws the patient's consent. */
  const withdraw = (patientId: string, consentId: string) =>
    clinic.call(clinician, 'POST', `/api/patients/${patientId}/consents/${consentId}/withdraw`, {});

  it('a withdrawn consent no longer satisfies the gate; it can be given again', async () => {
    const organizationId = await freshOrganization();
    const patientId = await clinic.patient(organizationId);
    const doc = await publish('hipaa_notice');
    const consent = (await record(patientId, doc.id, 'in_person')).json<{
      consent: ConsentRecordView;
    }>().consent;
    expect((await gateOf(patientId)).satisfied).toBe(true);

    const withdrawn = await withdraw(patientId, consent.id);
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect(withdrawn.json<{ consent: ConsentRecordView }>().consent.withdrawnAt).not.toBeNull();
    expect((await gateOf(patientId)).satisfied).toBe(false);

    const twice = await withdraw(patientId, consent.id);
    expect(twice.statusCode).toBe(409);

    expect((await record(patientId, doc.id, 'phone')).statusCode).toBe(201);
    expect((await gateOf(patientId)).satisfied).toBe(true);
    const list = await clinic.call(clinician, 'GET', `/api/patients/${patientId}/consents`);
    expect(list.json<{ consents: ConsentRecordView[] }>().consents).toHaveLength(2);
  });

  it('a second live consent to the same version is a 409', async () => {
    const organizationId = await freshOrganization();
    const patientId = await clinic.patient(organizationId);
    const doc = await publish('terms');
    expect((await record(patientId, doc.id)).statusCode).toBe(201);
    const again = await record(patientId, doc.id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'CONFLICT' });
  });

  it('consents cannot be recorded on an archived patient (409); withdrawal stays possible', async () => {
    const organizationId = await freshOrganization();
    const patientId = await clinic.patient(organizationId);
    const doc = await publish('terms');
    const other = await publish('research');
    const consent = (await record(patientId, doc.id)).json<{ consent: ConsentRecordView }>()
      .consent;
    await clinic.call(clinician, 'POST', `/api/patients/${patientId}/archive`, {});
    expect((await record(patientId, other.id)).statusCode).toBe(409);
    const withdrawn = await withdraw(patientId, consent.id);
    expect(withdrawn.statusCode).toBe(200);
  });

  it('requireConsent answers 409 CONSENT_REQUIRED listing each missing document', async () => {
    const organizationId = await freshOrganization();
    const patientId = await clinic.patient(organizationId);
    const db = clinic.db;
    await expect(requireConsent(db, patientId, organizationId)).resolves.toBeUndefined();
    const hipaa = await publish('hipaa_notice');
    const terms = await publish('terms');
    const error = await requireConsent(db, patientId, organizationId).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HavenError);
    const haven = error as HavenError;
    expect(haven.code).toBe('CONSENT_REQUIRED');
    expect(haven.statusCode).toBe(409);
    expect(haven.extra.errors?.map((e) => e.field)).toEqual([
      'consents.hipaa_notice',
      'consents.terms',
    ]);
    expect(haven.extra.errors?.[0]?.message).toContain(hipaa.id);
    expect(haven.extra.errors?.[1]?.message).toContain(terms.id);
    expect((await consentGate(db, patientId, organizationId)).missing).toHaveLength(2);
  });

  it('recordConsent with currentVersionOnly refuses a superseded version (portal rule)', async () => {
    const organizationId = await freshOrganization();
    const patientId = await clinic.patient(organizationId);
    const v1 = await publish('terms');
    const v2 = await publish('terms');
    const db = clinic.db;
    const attempt = (documentId: string) =>
      db.transaction().execute((trx) =>
        recordConsent(trx, {
          patientId,
          organizationId,
          documentId,
          channel: 'portal',
          recordedBy: clinician.userId,
          currentVersionOnly: true,
        }),
      );
    await expect(attempt(v1.id)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(attempt(v2.id)).resolves.toMatchObject({ documentId: v2.id, channel: 'portal' });
  });
});
