// Z4 / Z3: an organization's researcher members see none of its patients' PHI, even when their
// account holds clinical scopes. Scopes come from the account's roles (a clinician elsewhere who
// also researches; a researcher whose account an admin later made a clinician), but what a person
// may do inside one organization is what that organization made them: a researcher member runs
// studies there and is not its clinical staff. Every clinical door is tried through the real API
// with a real session, next to a clinician member of the same organization who passes each one.
import { beforeAll, expect, it } from 'vitest';
import { createUser, mintSession, type Actor } from '../actors.js';
import { describeClinic } from '../clinical-actors.js';
import { insertStoredFile } from '../security/files-matrix.table.js';

describeClinic('researcher members and PHI (Z4)', (clinic) => {
  let orgB: string;
  let patientB: string;
  let fileB: string;
  /** Clinician of another organization and researcher of B: account roles clinician + researcher. */
  let dualRole: Actor;
  /** A researcher member of B whose account an admin later changed to clinician alone. */
  let roleChanged: Actor;
  /** B's own clinician, who must pass every door (so a refusal is the role, not the fixture). */
  let clinicianB: Actor;

  beforeAll(async () => {
    const orgAdminB = await clinic.actor(['clinician']);
    clinicianB = await clinic.actor(['clinician']);
    orgB = await clinic.organization({
      members: [
        [orgAdminB, 'org_admin'],
        [clinicianB, 'clinician'],
      ],
    });
    patientB = await clinic.patient(orgB, { givenName: 'Secret', familyName: 'Person' });
    fileB = await insertStoredFile(clinic.db, clinic.app.fileServices.storage, {
      ownerId: clinicianB.userId,
      patient: { patientId: patientB, organizationId: orgB },
    });

    const dual = await createUser(clinic.db, { roles: ['clinician', 'researcher'] });
    const orgA = await clinic.organization();
    await clinic.addMember(orgA, dual, 'clinician');
    await clinic.addMember(orgB, dual, 'researcher');
    dualRole = await mintSession(clinic.app, { ...dual, roles: ['clinician', 'researcher'] });
    // Working in B, as the organization switcher would leave the session.
    const chosen = await clinic.call(dualRole, 'PUT', '/api/organizations/active', {
      organizationId: orgB,
    });
    expect(chosen.statusCode).toBe(200);
    expect(chosen.json()).toMatchObject({ role: 'researcher' });

    const changed = await createUser(clinic.db, { roles: ['researcher'] });
    await clinic.addMember(orgB, changed, 'researcher');
    await clinic.db
      .updateTable('users')
      .set({ roles: ['clinician'] })
      .where('id', '=', changed.userId)
      .execute();
    roleChanged = await mintSession(clinic.app, { ...changed, roles: ['clinician'] });
  });

  /** Every clinical door of organization B: [label, method, url, body, status B's clinician gets]. */
  const doors = (): Array<[string, 'GET' | 'POST' | 'PATCH', string, unknown, number]> => [
    ['read the record', 'GET', `/api/patients/${patientB}`, undefined, 200],
    ['list the patients', 'POST', '/api/patients/search', {}, 200],
    ['list recent patients', 'GET', '/api/patients/recent', undefined, 200],
    ['read the notes', 'GET', `/api/patients/${patientB}/notes`, undefined, 200],
    ['read the consents', 'GET', `/api/patients/${patientB}/consents`, undefined, 200],
    ['list the documents', 'GET', `/api/files?patientId=${patientB}`, undefined, 200],
    ['read a document', 'GET', `/api/files/${fileB}`, undefined, 200],
    ['link a document', 'POST', `/api/files/${fileB}/download-link`, {}, 200],
    ['change the record', 'PATCH', `/api/patients/${patientB}`, { givenName: 'Changed' }, 200],
    [
      'write a note',
      'POST',
      `/api/patients/${patientB}/notes`,
      { body: 'Researcher wrote this.', shareable: false },
      201,
    ],
    [
      'add a patient',
      'POST',
      '/api/patients',
      {
        mrn: `R-${Date.now().toString(36)}`,
        givenName: 'New',
        familyName: 'Patient',
        birthDate: '1990-01-01',
        sex: 'unknown',
      },
      201,
    ],
  ];

  for (const [name, caller] of [
    ['a clinician elsewhere who is a researcher member of B', () => dualRole],
    ['a researcher member of B whose account was made a clinician', () => roleChanged],
  ] as const) {
    it(`Z4/IDOR: ${name} reaches none of B's PHI (404 for a record, 403 for the list)`, async () => {
      const reached: string[] = [];
      for (const [label, method, url, body] of doors()) {
        const answer = await clinic.call(caller(), method, url, body);
        if (answer.statusCode < 400) reached.push(`${label}: ${answer.statusCode}`);
        else expect([403, 404], `${label}: ${answer.body}`).toContain(answer.statusCode);
      }
      expect(reached).toEqual([]);
      // And nothing was written on B's record.
      expect(await clinic.rows('patients', { id: patientB, given_name: 'Secret' })).toHaveLength(1);
      expect(await clinic.rows('clinical_notes', { created_by: caller().userId })).toEqual([]);
    });
  }

  // Last: it changes the record the tests above must find unchanged.
  it("Z4/IDOR: B's own clinician passes every clinical door (the fixture is sound)", async () => {
    for (const [label, method, url, body, status] of doors()) {
      const answer = await clinic.call(clinicianB, method, url, body);
      expect(answer.statusCode, `${label}: ${answer.body}`).toBe(status);
    }
  });
});
