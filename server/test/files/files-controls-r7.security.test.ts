// Files controls a seventh mutation hunt found no test for (Z4): membership of an organization is
// not enough to reach its patients' files, the scope of a staff member's role must come with it.
// A researcher who also holds a patient account somewhere carries files:read and files:write (the
// patient role's) but neither documents:read nor patients:write: they must not read the files of
// the organization's patients nor attach files to its records. A member whose token lacks
// files:write does not reach the organization's bucket either. A deleted file is found by nobody,
// not even the person who uploaded it. Starting an upload is audited (L3). Starting a multipart upload counts in the strict upload
// rate class (R1). A bucket endpoint never carries a
// credential in its URL, a password alone included (F1: credentials are sealed in their own fields).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { scopesForRoles } from '../../src/modules/identity/index.js';
import { recordAudit } from '../../src/platform/audit/audit.js';
import type { Role } from '../../src/platform/db/schema.js';
import { GENEROUS_RATE_LIMITS } from '../actors.js';
import { describeClinic, narrowedToken, type Actor } from '../clinical-actors.js';
import { LOCAL_S3_CLINIC, addOwnedBucket } from '../owned-buckets.js';
import { ownedBucketBody, startS3Server, type TestS3Server } from '../s3-server.js';
import { insertStoredFile } from '../security/files-matrix.table.js';
import { tusCreate } from '../tus.js';

describeClinic('files controls (round 7)', (clinic) => {
  let organizationId: string;
  let patientId: string;
  let fileId: string;
  let clinician: Actor;
  /** A researcher of the organization whose account is also a patient account. */
  let researcherPatient: Actor;

  beforeAll(async () => {
    clinician = await clinic.actor(['clinician']);
    const roles: Role[] = ['researcher', 'patient'];
    researcherPatient = await clinic.actor(roles);
    organizationId = await clinic.organization({
      members: [
        [clinician, 'clinician'],
        [researcherPatient, 'researcher'],
      ],
    });
    patientId = await clinic.patient(organizationId);
    fileId = await insertStoredFile(clinic.db, clinic.app.fileServices.storage, {
      ownerId: clinician.userId,
      patient: { patientId, organizationId },
    });
  });

  /** `actor` neither reads `id` nor gets a download link for it: the 404 of a missing file. */
  async function expectFileHidden(actor: Actor, id: string): Promise<void> {
    const read = await clinic.call(actor, 'GET', `/api/files/${id}`);
    expect(read.statusCode, read.body).toBe(404);
    const link = await clinic.call(actor, 'POST', `/api/files/${id}/download-link`, {});
    expect(link.statusCode, link.body).toBe(404);
  }

  /** The clinician's own session with a token lacking `scope`, their role unchanged. */
  const clinicianWithout = (scope: string): Promise<Actor> =>
    narrowedToken(
      clinic,
      clinician,
      scopesForRoles(['clinician']).filter((held) => held !== scope),
    );

  it('Z4 — a researcher of the organization holding files scopes from a patient account cannot read its patients’ files (no documents:read)', async () => {
    const scopes = scopesForRoles(['researcher', 'patient']);
    expect(scopes).toContain('files:read');
    expect(scopes).not.toContain('documents:read');
    // The clinician of the same organization reads it: the file and the route are fine.
    const staff = await clinic.call(clinician, 'GET', `/api/files/${fileId}`);
    expect(staff.statusCode, staff.body).toBe(200);

    await expectFileHidden(researcherPatient, fileId);
  });

  it('Z4 — the same researcher cannot attach a file to a patient record of the organization (no patients:write)', async () => {
    const created = await tusCreate(clinic.app, researcherPatient, 1000, {
      filename: 'not-mine.pdf',
      patientId,
    });
    expect(created.statusCode, created.body).toBe(404);
    const listed = await clinic.call(researcherPatient, 'GET', `/api/files?patientId=${patientId}`);
    expect(listed.statusCode, listed.body).toBe(404);
    const sessions = await clinic.db
      .selectFrom('upload_sessions')
      .select('id')
      .where('owner_id', '=', researcherPatient.userId)
      .execute();
    expect(sessions).toEqual([]);
  });

  // The researcher above is refused twice over (no staff scope, and not clinical staff). These two
  // keep the role and take only the scope away, so the scope check alone decides.
  it('Z4 — a clinician of the organization whose token lacks documents:read cannot read its patients’ files', async () => {
    const withoutDocuments = await clinicianWithout('documents:read');
    // Someone else uploaded it, so the clinician reaches it only as staff.
    const othersFile = await insertStoredFile(clinic.db, clinic.app.fileServices.storage, {
      ownerId: researcherPatient.userId,
      patient: { patientId, organizationId },
    });
    const staff = await clinic.call(clinician, 'GET', `/api/files/${othersFile}`);
    expect(staff.statusCode, staff.body).toBe(200);

    await expectFileHidden(withoutDocuments, othersFile);
  });

  it('Z4 — a clinician of the organization whose token lacks patients:write cannot attach a file to its patients’ records', async () => {
    const withoutWrite = await clinicianWithout('patients:write');
    const created = await tusCreate(clinic.app, withoutWrite, 1000, {
      filename: 'narrowed.pdf',
      patientId,
    });
    expect(created.statusCode, created.body).toBe(404);
    // The full token of the same clinician attaches it: the record and the route are fine.
    const allowed = await tusCreate(clinic.app, clinician, 1000, {
      filename: 'full-token.pdf',
      patientId,
    });
    expect(allowed.statusCode, allowed.body).toBe(201);
  });

  it('L3 — starting an upload is audited with its uploader, size, type and protocol, never its name', async () => {
    const created = await tusCreate(clinic.app, clinician, 1000, { filename: 'ct-scan-r7.pdf' });
    expect(created.statusCode, created.body).toBe(201);
    const uploadId = String(created.headers.location).split('/').pop() ?? '';
    const events = await clinic.db
      .selectFrom('audit_events')
      .select(['actor_id', 'target_type', 'details'])
      .where('action', '=', 'file.upload.start')
      .where('target_id', '=', uploadId)
      .execute();
    expect(events).toEqual([
      {
        actor_id: clinician.userId,
        target_type: 'upload',
        details: expect.objectContaining({ size: 1000, type: 'pdf', protocol: 'tus' }),
      },
    ]);
    expect(JSON.stringify(events)).not.toContain('ct-scan-r7');
  });

  it('Z4 — a deleted file is found by nobody, its uploader included: the audit log stops naming it even to them', async () => {
    // An administrator who also uploads as a clinician: audit:read and the file's owner.
    const uploader = await clinic.actor(['admin', 'clinician']);
    const personal = await insertStoredFile(clinic.db, clinic.app.fileServices.storage, {
      ownerId: uploader.userId,
    });
    await recordAudit(clinic.db, {
      actor: { type: 'user', id: uploader.userId },
      action: 'fixture.viewed',
      target: { type: 'file', id: personal },
      outcome: 'success',
    });
    const namesOf = async (): Promise<Array<string | null | undefined>> => {
      const res = await clinic.call(
        uploader,
        'GET',
        `/api/admin/audit-events?targetId=${personal}`,
      );
      expect(res.statusCode, res.body).toBe(200);
      return res
        .json<{ events: Array<{ targetName?: string | null }> }>()
        .events.map((e) => e.targetName);
    };
    // While it exists its uploader reads its name.
    expect(await namesOf()).toEqual(['matrix-file.pdf']);
    const deleted = await clinic.call(uploader, 'DELETE', `/api/files/${personal}`);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await clinic.call(uploader, 'GET', `/api/files/${personal}`)).statusCode).toBe(404);
    const after = await namesOf();
    expect(after.length).toBe(2);
    expect(
      after.every((name) => name === 'A personal file'),
      JSON.stringify(after),
    ).toBe(true);
  });
});

describeClinic(
  'files: multipart rate class (round 7)',
  { env: { ...GENEROUS_RATE_LIMITS, HAVEN_RATE_UPLOAD: '2/60' } },
  (clinic) => {
    it('R1 — starting a multipart upload counts in the strict upload class: the third start in the window is 429', async () => {
      const uploader = await clinic.actor(['clinician']);
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const res = await clinic.app.inject({
          method: 'POST',
          url: '/api/files/multipart',
          remoteAddress: '203.0.113.74',
          headers: { authorization: uploader.authorization },
          payload: { name: `scan-${i}.pdf`, size: 1000 },
        });
        statuses.push(res.statusCode);
      }
      // Whatever the storage answers a start, the third one is refused before it is handled.
      expect(statuses[2], JSON.stringify(statuses)).toBe(429);
      expect(statuses.slice(0, 2), JSON.stringify(statuses)).not.toContain(429);
    });
  },
);

const s3: TestS3Server = await startS3Server('haven-r7-org');
afterAll(async () => {
  await s3.stop();
});

describeClinic('files: organization buckets (round 7)', LOCAL_S3_CLINIC, (clinic) => {
  let bucketId: string;
  let member: Actor;

  beforeAll(async () => {
    const orgAdmin = await clinic.actor(['clinician']);
    member = await clinic.actor(['clinician']);
    const organizationId = await clinic.organization({
      members: [
        [orgAdmin, 'org_admin'],
        [member, 'clinician'],
      ],
    });
    bucketId = await addOwnedBucket(clinic, orgAdmin, s3, { organizationId });
  });

  it('Z4 — a member of the owning organization whose token lacks files:write gets the 404 of a missing bucket', async () => {
    const full = await clinic.call(member, 'GET', `/api/files/buckets/${bucketId}`);
    expect(full.statusCode, full.body).toBe(200);

    const readOnly = await narrowedToken(
      clinic,
      member,
      scopesForRoles(['clinician']).filter((scope) => scope !== 'files:write'),
    );
    const refused = await clinic.call(readOnly, 'GET', `/api/files/buckets/${bucketId}`);
    expect(refused.statusCode, refused.body).toBe(404);
  });

  it('F1 — an endpoint carrying a password in its URL (even without a user name) is refused, not stored as plain configuration', async () => {
    const owner = await clinic.actor(['clinician']);
    const { host } = new URL(s3.endpoint);
    const secret = 'r7-secret-in-the-url';
    for (const endpoint of [
      `http://:${secret}@${host}`,
      `http://someone:${secret}@${host}`,
      `http://someone@${host}`,
    ]) {
      const refused = await clinic.call(
        owner,
        'POST',
        '/api/files/buckets',
        ownedBucketBody(s3, { endpoint }),
      );
      expect(refused.statusCode, `${endpoint}: ${refused.body}`).toBe(400);
      expect(refused.body).not.toContain(secret);
      expect(refused.json<{ errors: Array<{ field: string }> }>().errors).toContainEqual(
        expect.objectContaining({ field: 'endpoint' }),
      );
    }
    const stored = await clinic.db
      .selectFrom('buckets')
      .select('id')
      .where('owner_user_id', '=', owner.userId)
      .execute();
    expect(stored).toEqual([]);
  });
});
