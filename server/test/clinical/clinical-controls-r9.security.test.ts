// Clinical threats found by mutation round 9: an archived record still taking staff changes and
// notes (Z4: archived records are closed to writes until restored), and a token narrowed to
// notes:write without patients:write writing into a record (Z3: a write to a record needs the
// record's write scope, whatever else the route asks); and a note carrying a direction override
// or a control character, which shows another text than the one stored (V1).
import { expect, it } from 'vitest';
import { scopesForRoles } from '../../src/modules/identity/index.js';
import { archivePatientRow } from '../actors.js';
import { describeClinic, narrowedToken } from '../clinical-actors.js';

describeClinic('clinical controls (round 9)', (clinic) => {
  it('Z4/archived record: staff can neither change an archived record nor add a note to it (409), and nothing is written', async () => {
    const clinician = await clinic.actor(['clinician']);
    const organizationId = await clinic.organization({ members: [[clinician, 'clinician']] });
    const patientId = await clinic.patient(organizationId);
    await archivePatientRow(clinic.db, patientId);

    const changed = await clinic.call(clinician, 'PATCH', `/api/patients/${patientId}`, {
      givenName: 'Changed',
    });
    expect(changed.statusCode, changed.body).toBe(409);
    const noted = await clinic.call(clinician, 'POST', `/api/patients/${patientId}/notes`, {
      body: 'Written after the archive',
      shareable: false,
    });
    expect(noted.statusCode, noted.body).toBe(409);
    expect(await clinic.rows('clinical_notes', { patient_id: patientId })).toEqual([]);
    // Reading the archived record still works: only writes are closed.
    const read = await clinic.call(clinician, 'GET', `/api/patients/${patientId}`);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.body).not.toContain('Changed');
  });

  it('Z3/narrow token: a token with notes:write but without patients:write writes no note into a record (404, as an invisible one)', async () => {
    const clinician = await clinic.actor(['clinician']);
    const organizationId = await clinic.organization({ members: [[clinician, 'clinician']] });
    const patientId = await clinic.patient(organizationId);
    const scopes = scopesForRoles(['clinician']).filter((scope) => scope !== 'patients:write');
    const narrow = await narrowedToken(clinic, clinician, scopes);
    const refused = await clinic.call(narrow, 'POST', `/api/patients/${patientId}/notes`, {
      body: 'Written through a narrowed token',
      shareable: false,
    });
    expect(refused.statusCode, refused.body).toBe(404);
    expect(await clinic.rows('clinical_notes', { patient_id: patientId })).toEqual([]);
    // The full token writes it: the route is right.
    const allowed = await clinic.call(clinician, 'POST', `/api/patients/${patientId}/notes`, {
      body: 'Written through the full token',
      shareable: false,
    });
    expect(allowed.statusCode, allowed.body).toBe(201);
  });
  it('V1/spoofed note: a note holding a direction override or a control character is refused (400 on body.body), and a plain multi-line note is kept', async () => {
    const clinician = await clinic.actor(['clinician']);
    const organizationId = await clinic.organization({ members: [[clinician, 'clinician']] });
    const patientId = await clinic.patient(organizationId);
    for (const body of ['Dose 10 mg \u202Egm 001\u202C daily', 'Allergy: none\u0000penicillin']) {
      const res = await clinic.call(clinician, 'POST', `/api/patients/${patientId}/notes`, {
        body,
        shareable: false,
      });
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(400);
      expect(res.body).toContain('body.body');
    }
    expect(await clinic.rows('clinical_notes', { patient_id: patientId })).toEqual([]);
    const plain = await clinic.call(clinician, 'POST', `/api/patients/${patientId}/notes`, {
      body: 'Seen today.\nFollow-up in two weeks.',
      shareable: false,
    });
    expect(plain.statusCode, plain.body).toBe(201);
  });
});
