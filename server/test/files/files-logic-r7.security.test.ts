// Business-logic round 7 (files): what an upload into a patient's record leaves behind once the
// uploader or the patient's consent is gone. A clinician removed from the organization kept every
// document they had attached to its records (reading the patient's name, downloading, deleting
// the record's document) and could finish an upload started before the removal; an upload started
// under a consent that was withdrawn meanwhile still landed on the record. Each is checked on
// what holds at the moment of the request, not at the moment the upload started. A record's
// document could also be sent into the uploader's personal bucket or another organization's
// bucket, whose owners hold the storage credentials and so the patient's document outside the
// record's organization; it now goes to the default storage or the record organization's buckets.
import { afterAll, expect, it } from 'vitest';
import { archivePatientRow } from '../actors.js';
import { describeClinic, type Actor, type Clinic } from '../clinical-actors.js';
import { LOCAL_S3_CLINIC, addOwnedBucket } from '../owned-buckets.js';
import { startS3Server, type TestS3Server } from '../s3-server.js';
import { pdfBytes, tusCreate, tusPatch, tusUpload } from '../tus.js';

const s3: TestS3Server = await startS3Server('haven-logic-r7');
afterAll(async () => {
  await s3.stop();
});

interface Staffed {
  readonly orgAdmin: Actor;
  readonly clinician: Actor;
  readonly organizationId: string;
  readonly patientId: string;
}

async function staffedRecord(clinic: Clinic): Promise<Staffed> {
  const orgAdmin = await clinic.actor(['clinician']);
  const clinician = await clinic.actor(['clinician']);
  const organizationId = await clinic.organization({
    members: [
      [orgAdmin, 'org_admin'],
      [clinician, 'clinician'],
    ],
  });
  const patientId = await clinic.patient(organizationId, {
    givenName: 'Zelda',
    familyName: 'Recordholder',
  });
  return { orgAdmin, clinician, organizationId, patientId };
}

async function removeMember(clinic: Clinic, world: Staffed, member: Actor): Promise<void> {
  const removed = await clinic.call(
    world.orgAdmin,
    'DELETE',
    `/api/organizations/${world.organizationId}/members/${member.userId}`,
  );
  expect(removed.statusCode, removed.body).toBe(204);
}

describeClinic(
  'files logic r7: record documents after removal or withdrawal',
  LOCAL_S3_CLINIC,
  (clinic) => {
    it('Z4/F6: a clinician removed from the organization no longer reads, lists, links or deletes the record documents they uploaded', async () => {
      const world = await staffedRecord(clinic);
      const { clinician, patientId } = world;
      const upload = await tusUpload(clinic.app, clinician, pdfBytes(2000), {
        filename: 'referral.pdf',
        patientId,
      });
      expect(upload.last.statusCode, upload.last.body).toBe(204);
      const fileId = String(upload.last.headers['haven-file-id']);
      await clinic.db
        .updateTable('files')
        .set({ status: 'clean' })
        .where('id', '=', fileId)
        .execute();
      // While a member: the uploader sees, links and lists it.
      expect((await clinic.call(clinician, 'GET', `/api/files/${fileId}`)).statusCode).toBe(200);

      await removeMember(clinic, world, clinician);

      const read = await clinic.call(clinician, 'GET', `/api/files/${fileId}`);
      expect(read.statusCode, read.body).toBe(404);
      expect(read.body).not.toContain('Recordholder');
      const list = await clinic.call(clinician, 'GET', '/api/files');
      expect(list.statusCode).toBe(200);
      expect(list.json<{ files: unknown[] }>().files).toEqual([]);
      expect(list.body).not.toContain('Recordholder');
      const link = await clinic.call(clinician, 'POST', `/api/files/${fileId}/download-link`, {});
      expect(link.statusCode, link.body).toBe(404);
      const deleted = await clinic.call(clinician, 'DELETE', `/api/files/${fileId}`);
      expect(deleted.statusCode, deleted.body).toBe(404);
      // The record keeps its document, for the organization's staff.
      const [row] = await clinic.rows('files', { id: fileId });
      expect(row?.status).toBe('clean');
      const staff = await clinic.call(world.orgAdmin, 'GET', `/api/files?patientId=${patientId}`);
      expect(staff.json<{ files: Array<{ id: string }> }>().files.map((f) => f.id)).toEqual([
        fileId,
      ]);
    });

    it('Z4: a personal file stays its uploader’s after they leave an organization, and a patient keeps what they attached to their own record', async () => {
      const world = await staffedRecord(clinic);
      const personal = await tusUpload(clinic.app, world.clinician, pdfBytes(1500), {
        filename: 'cv.pdf',
      });
      expect(personal.last.statusCode).toBe(204);
      const personalId = String(personal.last.headers['haven-file-id']);
      await removeMember(clinic, world, world.clinician);
      expect(
        (await clinic.call(world.clinician, 'GET', `/api/files/${personalId}`)).statusCode,
      ).toBe(200);

      const { patientId, patient } = await clinic.portalPatient(world.organizationId);
      const own = await tusUpload(clinic.app, patient, pdfBytes(1500), {
        filename: 'insurance.pdf',
        patientId,
      });
      expect(own.last.statusCode, own.last.body).toBe(204);
      const ownId = String(own.last.headers['haven-file-id']);
      const mine = await clinic.call(patient, 'GET', '/api/files');
      expect(mine.json<{ files: Array<{ id: string }> }>().files.map((f) => f.id)).toEqual([ownId]);
      expect((await clinic.call(patient, 'DELETE', `/api/files/${ownId}`)).statusCode).toBe(204);
    });

    it('Z4: an upload into a record started before the uploader’s removal cannot be completed after it', async () => {
      const world = await staffedRecord(clinic);
      const body = pdfBytes(3000);
      const started = await tusCreate(clinic.app, world.clinician, body.length, {
        filename: 'late.pdf',
        patientId: world.patientId,
      });
      expect(started.statusCode, started.body).toBe(201);
      const location = String(started.headers.location);
      const uploadId = location.split('/').pop()!;

      await removeMember(clinic, world, world.clinician);

      const finished = await tusPatch(clinic.app, world.clinician, location, 0, body);
      expect(finished.statusCode, finished.body).toBe(404);
      expect(finished.headers['haven-file-id']).toBeUndefined();
      expect(await clinic.rows('files', { patient_id: world.patientId })).toEqual([]);
      const [session] = await clinic.rows('upload_sessions', { id: uploadId });
      expect(session).toMatchObject({ status: 'failed', failure_reason: 'record_access_lost' });
    });

    it('consent gate: an upload started under a consent withdrawn before it completes does not land on the record', async () => {
      const orgAdmin = await clinic.actor(['clinician']);
      const organizationId = await clinic.organization({ members: [[orgAdmin, 'org_admin']] });
      const published = await clinic.call(orgAdmin, 'POST', '/api/consent-documents', {
        kind: 'hipaa_notice',
        title: 'Privacy notice',
        body: 'How we use your data.',
        required: true,
      });
      expect(published.statusCode, published.body).toBe(201);
      const documentId = published.json<{ document: { id: string } }>().document.id;
      const { patientId, patient } = await clinic.portalPatient(organizationId);
      const consent = await clinic.call(patient, 'POST', '/api/portal/consents', { documentId });
      expect(consent.statusCode, consent.body).toBe(201);
      const consentId = consent.json<{ consent: { id: string } }>().consent.id;

      const body = pdfBytes(3000);
      const started = await tusCreate(clinic.app, patient, body.length, {
        filename: 'scan.pdf',
        patientId,
      });
      expect(started.statusCode, started.body).toBe(201);
      const withdrawn = await clinic.call(
        patient,
        'POST',
        `/api/portal/consents/${consentId}/withdraw`,
        {},
      );
      expect(withdrawn.statusCode, withdrawn.body).toBe(200);

      const finished = await tusPatch(
        clinic.app,
        patient,
        String(started.headers.location),
        0,
        body,
      );
      expect(finished.statusCode, finished.body).toBe(409);
      expect(finished.json<{ code: string }>().code).toBe('CONSENT_REQUIRED');
      expect(await clinic.rows('files', { patient_id: patientId })).toEqual([]);
      const uploadId = String(started.headers.location).split('/').pop()!;
      const [session] = await clinic.rows('upload_sessions', { id: uploadId });
      expect(session).toMatchObject({ status: 'failed', failure_reason: 'consent_required' });
    });

    it("Z4/F1: a record's document is refused for a personal bucket and for another organization's bucket, and accepted in the record organization's bucket", async () => {
      const world = await staffedRecord(clinic);
      const { clinician, patientId, organizationId } = world;
      const otherAdmin = await clinic.actor(['clinician']);
      const otherOrganization = await clinic.organization({
        members: [
          [otherAdmin, 'org_admin'],
          [clinician, 'clinician'],
        ],
      });
      const active = await clinic.call(clinician, 'PUT', '/api/organizations/active', {
        organizationId,
      });
      expect(active.statusCode, active.body).toBe(200);
      const personal = await addOwnedBucket(clinic, clinician, s3);
      const foreign = await addOwnedBucket(clinic, otherAdmin, s3, {
        organizationId: otherOrganization,
      });
      const own = await addOwnedBucket(clinic, world.orgAdmin, s3, { organizationId });

      for (const bucketId of [personal, foreign]) {
        const refused = await tusCreate(clinic.app, clinician, 2000, {
          filename: 'referral.pdf',
          patientId,
          bucketId,
        });
        expect(refused.statusCode, refused.body).toBe(400);
        expect(refused.json<{ errors: Array<{ field: string }> }>().errors[0]?.field).toBe(
          'bucketId',
        );
      }
      expect(await clinic.rows('upload_sessions', { patient_id: patientId })).toEqual([]);

      const accepted = await tusUpload(clinic.app, clinician, pdfBytes(2000), {
        filename: 'referral.pdf',
        patientId,
        bucketId: own,
      });
      expect(accepted.last.statusCode, accepted.last.body).toBe(204);
      // A personal file still goes to the uploader's own bucket.
      const mine = await tusUpload(clinic.app, clinician, pdfBytes(2000), {
        filename: 'cv.pdf',
        bucketId: personal,
      });
      expect(mine.last.statusCode, mine.last.body).toBe(204);
    });
    it('state machine: an archived record takes no new document, from staff or from the patient, nor one whose upload began before the archive (409)', async () => {
      const world = await staffedRecord(clinic);
      const { patientId, patient } = await clinic.portalPatient(world.organizationId);
      const body = pdfBytes(2500);
      const before = await tusCreate(clinic.app, world.clinician, body.length, {
        filename: 'before.pdf',
        patientId,
      });
      expect(before.statusCode, before.body).toBe(201);
      await archivePatientRow(clinic.db, patientId);

      for (const uploader of [world.clinician, patient]) {
        const refused = await tusCreate(clinic.app, uploader, 2000, {
          filename: 'after.pdf',
          patientId,
        });
        expect(refused.statusCode, refused.body).toBe(409);
      }
      const finished = await tusPatch(
        clinic.app,
        world.clinician,
        String(before.headers.location),
        0,
        body,
      );
      expect(finished.statusCode, finished.body).toBe(409);
      expect(await clinic.rows('files', { patient_id: patientId })).toEqual([]);
      const uploadId = String(before.headers.location).split('/').pop()!;
      const [session] = await clinic.rows('upload_sessions', { id: uploadId });
      expect(session).toMatchObject({ status: 'failed', failure_reason: 'record_archived' });
    });
  },
);
