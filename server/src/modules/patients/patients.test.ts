// Patients of the active organization over HTTP against the real app: create, read, change,
// archive and restore, search with filters and stable keyset paging, portal invitations.
import { beforeAll, expect, it } from 'vitest';
import { uniqueEmail } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { listDevMailbox } from '../../platform/mail.js';

let mrnCounter = 0;
const nextMrn = () => `T-${process.pid}-${++mrnCounter}`;

interface PatientView {
  id: string;
  mrn: string;
  givenName: string;
  familyName: string;
  birthDate: string;
  sex: string;
  archived: boolean;
  address: Record<string, string> | null;
  contactMethods: Array<{ type: string; value: string; verified: boolean }>;
  portalLinked: boolean;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
}

describeClinic('patients', (clinic) => {
  let clinician: Actor;

  beforeAll(async () => {
    clinician = await clinic.actor(['clinician']);
    await clinic.organization({ members: [[clinician, 'clinician']] });
  });

  async function createPatient(input: Record<string, unknown> = {}): Promise<PatientView> {
    const response = await clinic.call(clinician, 'POST', '/api/patients', {
      mrn: nextMrn(),
      givenName: 'Ada',
      familyName: 'Lovelace',
      birthDate: '1985-12-10',
      sex: 'female',
      ...input,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ patient: PatientView }>().patient;
  }

  /** Archives or restores the record as the clinician. */
  const lifecycle = (patientId: string, action: 'archive' | 'restore') =>
    clinic.call(clinician, 'POST', `/api/patients/${patientId}/${action}`, {});
  /** Invites the email to the record's portal as the clinician. */
  const invitePortal = (patientId: string, email: string) =>
    clinic.call(clinician, 'POST', `/api/patients/${patientId}/portal-invitation`, { email });

  async function search(body: Record<string, unknown>) {
    const response = await clinic.call(clinician, 'POST', '/api/patients/search', body);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ patients: PatientView[]; nextCursor: string | null }>();
  }

  it('creates a patient with normalized names and reads it back', async () => {
    const patient = await createPatient({
      givenName: '  Zoe\u0301 ',
      familyName: 'Brontë',
      address: { line1: ' 1 Main St ', city: 'Springfield', postalCode: '12345', country: 'US' },
      contactMethods: [
        { type: 'phone', value: '+15551234567', verified: true },
        { type: 'email', value: 'zoe@example.org', verified: false },
      ],
    });
    expect(patient.givenName).toBe('Zoé');
    expect(patient.givenName.length).toBe(3);
    expect(patient.address).toEqual({
      line1: '1 Main St',
      city: 'Springfield',
      postalCode: '12345',
      country: 'US',
    });
    expect(patient).toMatchObject({
      birthDate: '1985-12-10',
      archived: false,
      archivedAt: null,
      portalLinked: false,
    });
    const read = await clinic.call(clinician, 'GET', `/api/patients/${patient.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json<{ patient: PatientView }>().patient).toEqual(patient);
  });

  it('keeps the birth date exact whatever the time zone (a date, not a timestamp)', async () => {
    const patient = await createPatient({ birthDate: '2000-01-01' });
    const read = await clinic.call(clinician, 'GET', `/api/patients/${patient.id}`);
    expect(read.json<{ patient: PatientView }>().patient.birthDate).toBe('2000-01-01');
  });

  it('answers 409 (not 500) for an MRN already taken in the organization', async () => {
    const mrn = nextMrn();
    await createPatient({ mrn });
    const again = await clinic.call(clinician, 'POST', '/api/patients', {
      mrn,
      givenName: 'B',
      familyName: 'C',
      birthDate: '1990-01-01',
      sex: 'male',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'CONFLICT' });
  });

  it('allows the same MRN in another organization', async () => {
    const mrn = nextMrn();
    await createPatient({ mrn });
    const other = await clinic.actor(['clinician']);
    await clinic.organization({ members: [[other, 'clinician']] });
    const created = await clinic.call(other, 'POST', '/api/patients', {
      mrn,
      givenName: 'B',
      familyName: 'C',
      birthDate: '1990-01-01',
      sex: 'male',
    });
    expect(created.statusCode).toBe(201);
  });

  it('updates only the given fields and refuses an empty patch', async () => {
    const patient = await createPatient();
    const patched = await clinic.call(clinician, 'PATCH', `/api/patients/${patient.id}`, {
      familyName: 'King',
      sex: 'female',
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const after = patched.json<{ patient: PatientView }>().patient;
    expect(after.familyName).toBe('King');
    expect(after.givenName).toBe('Ada');
    expect(after.mrn).toBe(patient.mrn);
    const empty = await clinic.call(clinician, 'PATCH', `/api/patients/${patient.id}`, {});
    expect(empty.statusCode).toBe(400);
  });

  it('PATCH can clear the address and refuses an MRN taken by another patient', async () => {
    const first = await createPatient();
    const patient = await createPatient({
      address: { line1: '1 A St', city: 'X', postalCode: '1', country: 'GB' },
    });
    const cleared = await clinic.call(clinician, 'PATCH', `/api/patients/${patient.id}`, {
      address: null,
    });
    expect(cleared.json<{ patient: PatientView }>().patient.address).toBeNull();
    const clash = await clinic.call(clinician, 'PATCH', `/api/patients/${patient.id}`, {
      mrn: first.mrn,
    });
    expect(clash.statusCode).toBe(409);
  });

  it('archives and restores; an archived record cannot be changed; double archive is 409', async () => {
    const patient = await createPatient();
    const archived = await lifecycle(patient.id, 'archive');
    expect(archived.statusCode).toBe(200);
    const view = archived.json<{ patient: PatientView }>().patient;
    expect(view.archived).toBe(true);
    expect(view.archivedAt).not.toBeNull();
    expect((await lifecycle(patient.id, 'archive')).statusCode).toBe(409);
    const patch = await clinic.call(clinician, 'PATCH', `/api/patients/${patient.id}`, {
      givenName: 'X',
    });
    expect(patch.statusCode).toBe(409);
    const restored = await lifecycle(patient.id, 'restore');
    expect(restored.statusCode).toBe(200);
    expect(restored.json<{ patient: PatientView }>().patient.archived).toBe(false);
    expect((await lifecycle(patient.id, 'restore')).statusCode).toBe(409);
  });

  it('search filters by name prefix (either name, any case), MRN and birth date, all combined', async () => {
    const tag = `Q${process.pid}x${Date.now() % 100000}`;
    const a = await createPatient({
      familyName: `${tag}alpha`,
      givenName: 'Mia',
      birthDate: '1970-05-05',
    });
    const b = await createPatient({
      familyName: 'Other',
      givenName: `${tag}beta`,
      birthDate: '1971-06-06',
    });
    await createPatient({ familyName: 'Unrelated', givenName: 'Name' });

    const byName = await search({ name: tag.toLowerCase() });
    expect(byName.patients.map((p) => p.id).sort()).toEqual([a.id, b.id].sort());
    const byMrn = await search({ mrn: a.mrn });
    expect(byMrn.patients.map((p) => p.id)).toEqual([a.id]);
    const combined = await search({ name: tag, birthDate: '1971-06-06' });
    expect(combined.patients.map((p) => p.id)).toEqual([b.id]);
    const none = await search({ name: tag, mrn: a.mrn, birthDate: '1971-06-06' });
    expect(none.patients).toEqual([]);
    // LIKE wildcards typed in the box are literal characters.
    expect((await search({ name: '%' })).patients).toEqual([]);
    expect((await search({ name: '_' })).patients).toEqual([]);
  });

  it('search hides archived patients unless asked to include them', async () => {
    const tag = `Arch${process.pid}z${Date.now() % 100000}`;
    const patient = await createPatient({ familyName: tag });
    await lifecycle(patient.id, 'archive');
    expect((await search({ name: tag })).patients).toEqual([]);
    const included = await search({ name: tag, includeArchived: true });
    expect(included.patients.map((p) => [p.id, p.archived])).toEqual([[patient.id, true]]);
  });

  it('pages in family, given, id order with a stable cursor, even across inserts', async () => {
    const tag = `Pg${process.pid}q${Date.now() % 100000}`;
    const names = [
      ['b', 'x'],
      ['A', 'z'],
      ['a', 'y'],
      ['c', 'a'],
      ['B', 'a'],
    ];
    for (const [family, given] of names) {
      await createPatient({ familyName: `${tag}${family}`, givenName: given });
    }
    const expected = [...names].map(([f, g]) => `${tag}${f}`.toLowerCase() + '|' + g).sort();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { patients: PatientView[]; nextCursor: string | null } = await search({
        name: tag,
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.patients.map((p) => `${p.familyName.toLowerCase()}|${p.givenName}`));
      if (pages === 0) {
        // A patient inserted before the cursor position must not shift later pages.
        await createPatient({ familyName: `${tag}A`, givenName: 'a' });
      }
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
  });

  it('the default page size is 25 and nextCursor is null on the last page', async () => {
    const tag = `Many${process.pid}w${Date.now() % 100000}`;
    for (let i = 0; i < 26; i++) {
      await createPatient({ familyName: tag, givenName: `g${String(i).padStart(2, '0')}` });
    }
    const first = await search({ name: tag });
    expect(first.patients).toHaveLength(25);
    expect(first.nextCursor).toBe(first.patients[24]?.id);
    const second = await search({ name: tag, cursor: first.nextCursor });
    expect(second.patients.map((p) => p.givenName)).toEqual(['g25']);
    expect(second.nextCursor).toBeNull();
  });

  it('a portal invitation creates an invited patient account, links the record and mails the link', async () => {
    const patient = await createPatient();
    const email = uniqueEmail('portal');
    const response = await invitePortal(patient.id, email);
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toEqual({ status: 'invited' });
    const user = await clinic.db
      .selectFrom('users')
      .select(['id', 'roles', 'status', 'display_name'])
      .where('email_normalized', '=', email.toLowerCase())
      .executeTakeFirstOrThrow();
    // The account starts with the record's name: the accept form shows it filled in.
    expect(user).toMatchObject({
      roles: ['patient'],
      status: 'invited',
      display_name: `${patient.givenName} ${patient.familyName}`,
    });
    const linked = await clinic.db
      .selectFrom('patients')
      .select('portal_user_id')
      .where('id', '=', patient.id)
      .executeTakeFirstOrThrow();
    expect(linked.portal_user_id).toBe(user.id);
    const mails = await listDevMailbox(clinic.harness.config.dataDir);
    expect(mails.some((mail) => mail.to === email)).toBe(true);
    const read = await clinic.call(clinician, 'GET', `/api/patients/${patient.id}`);
    expect(read.json<{ patient: PatientView }>().patient.portalLinked).toBe(true);
    const again = await invitePortal(patient.id, uniqueEmail('portal'));
    expect(again.statusCode).toBe(409);
  });

  it('invites an existing patient account, which sees the record once it accepts (A11)', async () => {
    const patient = await createPatient();
    const account = await clinic.actor(['patient']);
    const invited = await invitePortal(patient.id, account.email.toUpperCase());
    expect(invited.statusCode, invited.body).toBe(201);
    expect(invited.json()).toEqual({ status: 'invited' });
    const [before] = await clinic.rows('patients', { id: patient.id });
    expect(before?.portal_user_id).toBeNull();
    // Staff read "invited or linked", as after a new account's invitation.
    const record = await clinic.call(clinician, 'GET', `/api/patients/${patient.id}`);
    expect(record.json()).toMatchObject({ patient: { portalLinked: true } });
    // A second invitation of the record is a 409, whoever it names.
    expect((await invitePortal(patient.id, uniqueEmail('other'))).statusCode).toBe(409);

    const listed = await clinic.call(account, 'GET', '/api/account/portal-invitations');
    const [invitation] = listed.json<{ invitations: Array<{ id: string; canAccept: boolean }> }>()
      .invitations;
    expect(invitation?.canAccept).toBe(true);
    const accepted = await clinic.call(
      account,
      'POST',
      `/api/account/portal-invitations/${invitation?.id ?? ''}/accept`,
      {},
    );
    expect(accepted.statusCode, accepted.body).toBe(200);
    const [after] = await clinic.rows('patients', { id: patient.id });
    expect(after?.portal_user_id).toBe(account.userId);
    expect((await clinic.call(account, 'GET', '/api/portal/record')).statusCode).toBe(200);

    // The same account cannot show a second record: invited like anyone, it cannot accept.
    const second = await createPatient();
    expect((await invitePortal(second.id, account.email)).statusCode).toBe(201);
    const again = await clinic.call(account, 'GET', '/api/account/portal-invitations');
    const [secondInvitation] = again.json<{
      invitations: Array<{ id: string; canAccept: boolean; reason?: string }>;
    }>().invitations;
    expect(secondInvitation).toMatchObject({
      canAccept: false,
      reason: expect.stringContaining('already shows a patient record'),
    });
    const refused = await clinic.call(
      account,
      'POST',
      `/api/account/portal-invitations/${secondInvitation?.id ?? ''}/accept`,
      {},
    );
    expect(refused.statusCode).toBe(409);
    const [secondRow] = await clinic.rows('patients', { id: second.id });
    expect(secondRow?.portal_user_id).toBeNull();
  });

  it('answers 409 NO_ACTIVE_ORGANIZATION for a clinician with two organizations and none chosen', async () => {
    const both = await clinic.actor(['clinician']);
    await clinic.organization({ members: [[both, 'clinician']] });
    await clinic.organization({ members: [[both, 'clinician']] });
    const response = await clinic.call(both, 'POST', '/api/patients/search', {});
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ code: 'NO_ACTIVE_ORGANIZATION' });
  });
});
