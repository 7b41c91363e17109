// Threat against consent records crossing tenants (Z4): staff of one organization recording, for
// their own patient, a consent to another organization's document. The patient check passes (the
// patient is theirs), so only the document's organization stands in the way; a foreign document
// must answer the 404 of a missing one and record nothing.
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import type { ConsentDocumentView } from './schemas.js';

describeClinic('consent controls', (clinic) => {
  let adminA: Actor;
  let clinicianA: Actor;
  let adminB: Actor;
  let patientA: string;

  beforeAll(async () => {
    adminA = await clinic.actor(['clinician']);
    clinicianA = await clinic.actor(['clinician']);
    adminB = await clinic.actor(['clinician']);
    const organizationA = await clinic.organization({
      members: [
        [adminA, 'org_admin'],
        [clinicianA, 'clinician'],
      ],
    });
    await clinic.organization({ members: [[adminB, 'org_admin']] });
    patientA = await clinic.patient(organizationA);
  });

  const publish = async (admin: Actor, kind: string) => {
    const response = await clinic.call(admin, 'POST', '/api/consent-documents', {
      kind,
      title: `${kind} notice`,
      body: 'We keep your records safe.',
      required: true,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ document: ConsentDocumentView }>().document;
  };
  const record = (patientId: string, documentId: string) =>
    clinic.call(clinicianA, 'POST', `/api/patients/${patientId}/consents`, {
      documentId,
      channel: 'paper',
    });
  const consentsOf = (patientId: string) =>
    clinic.db
      .selectFrom('patient_consents')
      .select('document_id')
      .where('patient_id', '=', patientId)
      .execute();

  it('Z4: consent to another organization’s document answers the 404 of a missing document and records nothing', async () => {
    const foreign = await publish(adminB, 'treatment');
    const refused = await record(patientA, foreign.id);
    const missing = await record(patientA, randomUUID());
    expect(refused.statusCode, refused.body).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect({ ...refused.json(), requestId: undefined }).toEqual({
      ...missing.json(),
      requestId: undefined,
    });
    expect(await consentsOf(patientA)).toEqual([]);
    // The organization's own document is recorded: the refusal above is the document's tenant.
    const own = await publish(adminA, 'treatment');
    const recorded = await record(patientA, own.id);
    expect(recorded.statusCode, recorded.body).toBe(201);
    expect(await consentsOf(patientA)).toEqual([{ document_id: own.id }]);
  });
});
