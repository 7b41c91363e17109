// Patient-record controls a seventh mutation hunt found no test for (Z4): an MRN is unique only
// within its organization, so the uniqueness check must not look at other organizations' patients
// (a refusal there would tell staff which MRNs another clinic holds); a portal invitation links a
// record only to an account that is a patient account and nothing else (a staff account linked to
// a record would mix a clinician's access with a patient's own-record access). Publishing a consent
// document is an audited change (L3), and portal invitations count in the strict sensitive rate
// class (R1).
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS, uniqueEmail } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';

describeClinic('patients controls (round 7)', (clinic) => {
  let clinicianA: Actor;
  let clinicianB: Actor;
  let orgA: string;

  beforeAll(async () => {
    clinicianA = await clinic.actor(['clinician']);
    clinicianB = await clinic.actor(['clinician']);
    orgA = await clinic.organization({ members: [[clinicianA, 'clinician']] });
    await clinic.organization({ members: [[clinicianB, 'clinician']] });
  });

  const patientBody = (mrn: string) => ({
    mrn,
    givenName: 'Grace',
    familyName: 'Hopper',
    birthDate: '1986-12-09',
    sex: 'female',
  });

  it('Z4 — an MRN held by another organization’s patient is no conflict: staff cannot probe which MRNs other clinics hold', async () => {
    const mrn = `R7-${randomUUID().slice(0, 8)}`;
    await clinic.patient(orgA, { mrn });
    // Inside the organization the MRN is taken…
    const sameOrg = await clinic.call(clinicianA, 'POST', '/api/patients', patientBody(mrn));
    expect(sameOrg.statusCode, sameOrg.body).toBe(409);
    // …in another organization it is free, on creation and on a change.
    const created = await clinic.call(clinicianB, 'POST', '/api/patients', patientBody(mrn));
    expect(created.statusCode, created.body).toBe(201);
    const other = await clinic.call(
      clinicianB,
      'POST',
      '/api/patients',
      patientBody(`R7-${randomUUID().slice(0, 8)}`),
    );
    expect(other.statusCode, other.body).toBe(201);
    const otherId = other.json<{ patient: { id: string } }>().patient.id;
    // The organization's own patient created above holds it now: a change to it is refused…
    const taken = await clinic.call(clinicianB, 'PATCH', `/api/patients/${otherId}`, { mrn });
    expect(taken.statusCode, taken.body).toBe(409);
    // …while a third MRN that only organization A holds is accepted.
    const onlyInA = `R7-${randomUUID().slice(0, 8)}`;
    await clinic.patient(orgA, { mrn: onlyInA });
    const changed = await clinic.call(clinicianB, 'PATCH', `/api/patients/${otherId}`, {
      mrn: onlyInA,
    });
    expect(changed.statusCode, changed.body).toBe(200);
  });

  it('Z4 — a portal invitation never links a record to an active account that is not only a patient account', async () => {
    for (const roles of [['clinician'], ['patient', 'researcher']] as const) {
      const patient = await clinic.patient(orgA);
      const account = await clinic.actor([...roles]);
      const response = await clinic.call(
        clinicianA,
        'POST',
        `/api/patients/${patient}/portal-invitation`,
        { email: account.email },
      );
      // Invited like any address (A11); the account itself cannot accept.
      expect(response.statusCode, `${roles.join('+')}: ${response.body}`).toBe(201);
      const listed = await clinic.call(account, 'GET', '/api/account/portal-invitations');
      const [invitation] = listed.json<{ invitations: Array<{ id: string }> }>().invitations;
      const accepted = await clinic.call(
        account,
        'POST',
        `/api/account/portal-invitations/${invitation?.id ?? ''}/accept`,
        {},
      );
      expect(accepted.statusCode, roles.join('+')).toBe(409);
      const [row] = await clinic.rows('patients', { id: patient });
      expect(row?.portal_user_id, roles.join('+')).toBeNull();
      const after = await clinic.db
        .selectFrom('users')
        .select(['roles', 'status'])
        .where('id', '=', account.userId)
        .executeTakeFirstOrThrow();
      expect(after).toEqual({ roles: [...roles], status: 'active' });
    }
  });

  it('L3 — publishing a consent document (which every patient must then accept) is audited with who, which and what version', async () => {
    const orgAdmin = await clinic.actor(['clinician']);
    const organizationId = await clinic.organization({ members: [[orgAdmin, 'org_admin']] });
    const published = await clinic.call(orgAdmin, 'POST', '/api/consent-documents', {
      kind: 'hipaa_notice',
      title: 'Privacy notice',
      body: 'We keep your records safe.',
      required: true,
    });
    expect(published.statusCode, published.body).toBe(201);
    const documentId = published.json<{ document: { id: string } }>().document.id;
    const events = await clinic.db
      .selectFrom('audit_events')
      .select(['actor_id', 'target_type', 'outcome', 'details'])
      .where('action', '=', 'consent.document_published')
      .where('target_id', '=', documentId)
      .execute();
    expect(events).toEqual([
      {
        actor_id: orgAdmin.userId,
        target_type: 'consent_document',
        outcome: 'success',
        details: expect.objectContaining({ organizationId, kind: 'hipaa_notice', version: 1 }),
      },
    ]);
  });
});

describeClinic(
  'patients rate classes (round 7)',
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_SENSITIVE: '2/60' } },
  (clinic) => {
    it('R1 — portal invitations (which mail a link to any address) count in the strict sensitive class: the third is 429', async () => {
      const clinician = await clinic.actor(['clinician']);
      const organizationId = await clinic.organization({ members: [[clinician, 'clinician']] });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const patient = await clinic.patient(organizationId);
        const res = await clinic.app.inject({
          method: 'POST',
          url: `/api/patients/${patient}/portal-invitation`,
          remoteAddress: '203.0.113.75',
          headers: { authorization: clinician.authorization },
          payload: { email: uniqueEmail('r7-portal') },
        });
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([201, 201, 429]);
    });
  },
);
