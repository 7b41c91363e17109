// A11, Z4: a clinician inviting a patient to the portal learns nothing about the account behind
// the address (not whether it exists, nor that its owner is a patient of another clinic), and an
// existing account sees the record only when its owner accepts. Each test names the threat; each
// fails with the control it names removed (scripts/mutation/mutants.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { createUser, uniqueEmail } from '../../../test/actors.js';
import { describeClinic, type Actor } from '../../../test/clinical-actors.js';
import { listDevMailbox } from '../../platform/mail.js';

interface OwnInvitationBody {
  id: string;
  organizationName: string;
  canAccept: boolean;
}

describeClinic('portal invitations security', (clinic) => {
  let clinician: Actor;
  let organizationId: string;
  const invite = (patientId: string, email: string) =>
    clinic.call(clinician, 'POST', `/api/patients/${patientId}/portal-invitation`, { email });
  const ownInvitations = async (invitee: Actor) => {
    const listed = await clinic.call(invitee, 'GET', '/api/account/portal-invitations');
    expect(listed.statusCode).toBe(200);
    return listed.json<{ invitations: OwnInvitationBody[] }>().invitations;
  };
  const acceptUrl = (id: string) => `/api/account/portal-invitations/${id}/accept`;
  const linkedTo = async (patientId: string) =>
    (await clinic.rows('patients', { id: patientId }))[0]?.portal_user_id;

  beforeAll(async () => {
    clinician = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({ members: [[clinician, 'clinician']] });
  });

  describe('A11/Z4 no account oracle', () => {
    it('A11/Z4: a clinician inviting any address gets the same answer and the same record, whatever account it has', async () => {
      const otherClinic = await clinic.organization({ members: [] });
      const elsewhere = await clinic.portalPatient(otherClinic);
      const addresses = [
        uniqueEmail('nobody'),
        (await createUser(clinic.db, { roles: ['patient'] })).email,
        (await createUser(clinic.db, { roles: ['clinician'], displayName: 'Dr Hidden' })).email,
        (await createUser(clinic.db, { roles: ['patient'], status: 'disabled' })).email,
        (await createUser(clinic.db, { roles: ['researcher'] })).email,
        // A patient of another clinic, whose account already shows that clinic's record.
        elsewhere.patient.email,
      ];
      const records: string[] = [];
      for (const email of addresses) {
        const patientId = await clinic.patient(organizationId);
        records.push(patientId);
        const response = await invite(patientId, email);
        expect(response.statusCode, email).toBe(201);
        expect(response.json(), email).toEqual({ status: 'invited' });
        const record = await clinic.call(clinician, 'GET', `/api/patients/${patientId}`);
        expect(record.json(), email).toMatchObject({ patient: { portalLinked: true } });
        expect(record.body).not.toContain('Dr Hidden');
        // A second invitation of the record is refused alike.
        const again = await invite(patientId, uniqueEmail('again'));
        expect(again.statusCode, email).toBe(409);
      }
      // No existing account was linked by the invitation itself.
      for (const patientId of records.slice(1)) {
        expect(await linkedTo(patientId)).toBeNull();
      }
    });

    it('A11: the invitee is told by mail, without the clinic’s or the patient’s name', async () => {
      const account = await createUser(clinic.db, { roles: ['patient'] });
      const patientId = await clinic.patient(organizationId, { familyName: 'Quietname' });
      await invite(patientId, account.email);
      const mails = (await listDevMailbox(clinic.harness.config.dataDir)).filter(
        (m) => m.to === account.email,
      );
      expect(mails.map((m) => m.subject)).toEqual([
        'You were invited to see a patient record in Haven',
      ]);
      expect(mails[0]?.text).not.toContain('Quietname');
      const name = await clinic.db
        .selectFrom('organizations')
        .select('name')
        .where('id', '=', organizationId)
        .executeTakeFirstOrThrow();
      expect(mails[0]?.text).not.toContain(name.name);
    });
  });

  describe('Z4 only the invitee answers', () => {
    it('Z4: another person can neither see, accept nor decline an invitation to see a record (404)', async () => {
      const invitee = await clinic.actor(['patient']);
      const stranger = await clinic.actor(['patient']);
      const patientId = await clinic.patient(organizationId);
      await invite(patientId, invitee.email);
      const [invitation] = await ownInvitations(invitee);
      expect(invitation?.canAccept).toBe(true);
      const id = invitation?.id ?? '';
      expect(await ownInvitations(stranger)).toEqual([]);
      for (const actor of [stranger, clinician]) {
        expect((await clinic.call(actor, 'POST', acceptUrl(id), {})).statusCode).toBe(404);
        const declined = await clinic.call(
          actor,
          'DELETE',
          `/api/account/portal-invitations/${id}`,
        );
        expect(declined.statusCode).toBe(404);
      }
      expect(await linkedTo(patientId)).toBeNull();
      // The invitee's own answer works.
      const accepted = await clinic.call(invitee, 'POST', acceptUrl(id), {});
      expect(accepted.statusCode, accepted.body).toBe(200);
      expect(await linkedTo(patientId)).toBe(invitee.userId);
    });

    it('A11: an expired invitation to see a record is not listed and cannot be accepted', async () => {
      const invitee = await clinic.actor(['patient']);
      const patientId = await clinic.patient(organizationId);
      await invite(patientId, invitee.email);
      const [invitation] = await ownInvitations(invitee);
      await clinic.db
        .updateTable('portal_invitations')
        .set({ expires_at: new Date(Date.now() - 60_000) })
        .where('id', '=', invitation?.id ?? '')
        .execute();
      expect(await ownInvitations(invitee)).toEqual([]);
      const accepted = await clinic.call(invitee, 'POST', acceptUrl(invitation?.id ?? ''), {});
      expect(accepted.statusCode).toBe(404);
      expect(await linkedTo(patientId)).toBeNull();
    });

    it('A11: declining ends the invitation, audited, and the record stays unlinked', async () => {
      const invitee = await clinic.actor(['patient']);
      const patientId = await clinic.patient(organizationId);
      await invite(patientId, invitee.email);
      const [invitation] = await ownInvitations(invitee);
      const declined = await clinic.call(
        invitee,
        'DELETE',
        `/api/account/portal-invitations/${invitation?.id ?? ''}`,
      );
      expect(declined.statusCode).toBe(204);
      expect(await ownInvitations(invitee)).toEqual([]);
      expect(await linkedTo(patientId)).toBeNull();
      const audit = await clinic.db
        .selectFrom('audit_events')
        .select('target_id')
        .where('action', '=', 'patient.portal_invitation_declined')
        .where('actor_id', '=', invitee.userId)
        .execute();
      expect(audit).toEqual([{ target_id: patientId }]);
    });
  });
});
