// Business-logic round 7 (clinical): "writes on an archived patient answer 409" held for staff
// routes (they hold the record to write), but the portal gave a consent on an archived record
// (201). Withdrawing a consent stays possible on an archived record, by staff or the patient.
import { expect, it } from 'vitest';
import { archivePatientRow } from '../actors.js';
import { describeClinic } from '../clinical-actors.js';

describeClinic('clinical logic r7: the portal on an archived record', (clinic) => {
  it('state machine: a patient cannot give a consent on an archived record (409), and can still withdraw one', async () => {
    const orgAdmin = await clinic.actor(['clinician']);
    const organizationId = await clinic.organization({ members: [[orgAdmin, 'org_admin']] });
    const publish = async (kind: string) => {
      const published = await clinic.call(orgAdmin, 'POST', '/api/consent-documents', {
        kind,
        title: `Document ${kind}`,
        body: 'Text of the document.',
        required: false,
      });
      expect(published.statusCode, published.body).toBe(201);
      return published.json<{ document: { id: string } }>().document.id;
    };
    const terms = await publish('terms');
    const research = await publish('research');
    const { patientId, patient } = await clinic.portalPatient(organizationId);
    const given = await clinic.call(patient, 'POST', '/api/portal/consents', { documentId: terms });
    expect(given.statusCode, given.body).toBe(201);
    const consentId = given.json<{ consent: { id: string } }>().consent.id;

    await archivePatientRow(clinic.db, patientId);

    const refused = await clinic.call(patient, 'POST', '/api/portal/consents', {
      documentId: research,
    });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(await clinic.rows('patient_consents', { patient_id: patientId })).toHaveLength(1);
    const withdrawn = await clinic.call(
      patient,
      'POST',
      `/api/portal/consents/${consentId}/withdraw`,
      {},
    );
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
  });
});
