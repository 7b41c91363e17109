// Threats against the recent-patients list (Z4, L3): it names only patients of the caller's
// active organization and only the caller's own views: another organization's patient, or a
// colleague's view, never appears; the listing itself is one batched PHI audit event.
import { beforeAll, describe, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';

interface Recent {
  patients: Array<{ id: string; mrn: string; givenName: string; familyName: string }>;
}

describeClinic('recent patients security', (clinic) => {
  let clinician: Actor;
  let colleague: Actor;
  let orgA: string;
  let orgB: string;
  let first: string;
  let second: string;
  let colleaguesPatient: string;
  let patientB: string;

  const choose = async (actor: Actor, organizationId: string) => {
    const chosen = await clinic.call(actor, 'PUT', '/api/organizations/active', {
      organizationId,
    });
    expect(chosen.statusCode, chosen.body).toBe(200);
  };
  const open = async (actor: Actor, patientId: string) => {
    const read = await clinic.call(actor, 'GET', `/api/patients/${patientId}`);
    expect(read.statusCode, read.body).toBe(200);
  };
  const recent = async (actor: Actor) => {
    const response = await clinic.call(actor, 'GET', '/api/patients/recent');
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Recent>().patients;
  };

  beforeAll(async () => {
    clinician = await clinic.actor(['clinician']);
    colleague = await clinic.actor(['clinician']);
    orgA = await clinic.organization({
      members: [
        [clinician, 'clinician'],
        [colleague, 'clinician'],
      ],
    });
    orgB = await clinic.organization({ members: [[clinician, 'clinician']] });
    first = await clinic.patient(orgA, { givenName: 'Ada', familyName: 'First' });
    second = await clinic.patient(orgA, { givenName: 'Bea', familyName: 'Second' });
    colleaguesPatient = await clinic.patient(orgA, { familyName: 'Colleague' });
    patientB = await clinic.patient(orgB, { familyName: 'Bravo' });

    await choose(clinician, orgA);
    await open(clinician, first);
    await open(clinician, second);
    await open(clinician, first);
    await choose(colleague, orgA);
    await open(colleague, colleaguesPatient);
    await choose(clinician, orgB);
    await open(clinician, patientB);
  });

  describe('Z4 recent patients never list another organization or another person', () => {
    it('Z4: lists only the active organization, never a patient of the other one', async () => {
      await choose(clinician, orgA);
      const listed = await recent(clinician);
      expect(listed.map((p) => p.id)).toEqual([first, second]);
      expect(listed[0]).toMatchObject({ givenName: 'Ada', familyName: 'First' });
      expect(listed[0]!.mrn).toMatch(/\S/);
      await choose(clinician, orgB);
      expect((await recent(clinician)).map((p) => p.id)).toEqual([patientB]);
    });

    it("Z4: lists only the caller's own views, never a colleague's", async () => {
      expect((await recent(colleague)).map((p) => p.id)).toEqual([colleaguesPatient]);
      await choose(clinician, orgA);
      expect((await recent(clinician)).map((p) => p.id)).not.toContain(colleaguesPatient);
    });

    it('Z4: refuses a person without the scope, and a staff member of no organization', async () => {
      const patient = await clinic.actor(['patient']);
      expect((await clinic.call(patient, 'GET', '/api/patients/recent')).statusCode).toBe(403);
      const loner = await clinic.actor(['clinician']);
      const response = await clinic.call(loner, 'GET', '/api/patients/recent');
      expect(response.statusCode).toBeGreaterThanOrEqual(400);
      expect(response.body).not.toContain(first);
    });
  });

  it('L3: the listing is one batched PHI audit event naming the patients shown', async () => {
    await choose(colleague, orgA);
    await recent(colleague);
    const events = await clinic.rows('audit_events', {
      actor_id: colleague.userId,
      action: 'patient.listed',
    });
    const details = events.at(-1)?.details as Record<string, unknown> | undefined;
    expect(details).toMatchObject({ list: 'recent', count: 1, patientIds1: colleaguesPatient });
  });
});
