// Threats against upload sessions (F2, F7, F8, Z4, consent gate): a record without consent, a
// record of another organization, a chunk that does not match its checksum, a declared SHA-256
// that the stored file does not match, two writers at once, a client that stops mid-part, a
// session past its expiry, and cleanup on two workers.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import pino from 'pino';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import { pdfBytes, tusCreate, tusHead, tusPatch, tusUpload } from '../../../../test/tus.js';
import { expireAbandonedUploads } from '../index.js';

const MIB = 1024 * 1024;
const log = pino({ level: 'silent' });

describeClinic('files: upload session threats', (clinic) => {
  let clinician: Actor;
  let otherClinic: Actor;
  let organizationId: string;
  let patientId: string;
  let documentId: string;

  beforeAll(async () => {
    clinician = await clinic.actor(['clinician']);
    otherClinic = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({ members: [[clinician, 'clinician']] });
    await clinic.organization({ members: [[otherClinic, 'clinician']] });
    patientId = await clinic.patient(organizationId);
    const doc = await clinic.db
      .insertInto('consent_documents')
      .values({
        organization_id: organizationId,
        kind: 'treatment',
        version: 1,
        title: 'Storing your medical files',
        body: 'We keep your files encrypted.',
        required: true,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    documentId = doc.id;
  });

  it('consent gate: uploading to a record without the required consent is 409 CONSENT_REQUIRED', async () => {
    const refused = await tusCreate(clinic.app, clinician, 1000, {
      filename: 'labs.pdf',
      patientId,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('CONSENT_REQUIRED');
    expect(await clinic.rows('upload_sessions', { patient_id: patientId })).toHaveLength(0);

    await clinic.db
      .insertInto('patient_consents')
      .values({
        patient_id: patientId,
        document_id: documentId,
        channel: 'in_person',
        recorded_by: clinician.userId,
      })
      .execute();
    const { last } = await tusUpload(clinic.app, clinician, pdfBytes(1000), {
      filename: 'labs.pdf',
      patientId,
    });
    expect(last.statusCode).toBe(204);
    const listed = await clinic.call(clinician, 'GET', `/api/files?patientId=${patientId}`);
    expect(listed.json().files).toHaveLength(1);
    expect(listed.json().files[0].patient).toMatchObject({ id: patientId });
  });

  it("Z4: another organization's clinician cannot upload to or list the record (404)", async () => {
    const upload = await tusCreate(clinic.app, otherClinic, 1000, {
      filename: 'x.pdf',
      patientId,
    });
    expect(upload.statusCode).toBe(404);
    const list = await clinic.call(otherClinic, 'GET', `/api/files?patientId=${patientId}`);
    expect(list.statusCode).toBe(404);
  });

  it('Z4: a patient uploads to their own record and sees it; another patient cannot reach it', async () => {
    const { patientId: ownRecord, patient } = await clinic.portalPatient(organizationId);
    const stranger = await clinic.portalPatient(organizationId);
    await clinic.db
      .insertInto('patient_consents')
      .values({
        patient_id: ownRecord,
        document_id: documentId,
        channel: 'portal',
        recorded_by: null,
      })
      .execute();
    const { last } = await tusUpload(clinic.app, patient, pdfBytes(1500), {
      filename: 'discharge letter.pdf',
      patientId: ownRecord,
    });
    expect(last.statusCode).toBe(204);
    const fileId = String(last.headers['haven-file-id']);
    const mine = await clinic.call(patient, 'GET', `/api/files?patientId=${ownRecord}`);
    expect(mine.json().files.map((f: { id: string }) => f.id)).toEqual([fileId]);
    // The clinic sees the patient's upload on the record.
    const staff = await clinic.call(clinician, 'GET', `/api/files/${fileId}`);
    expect(staff.statusCode).toBe(200);
    // Another patient of the same clinic: neither the record nor the file.
    const other = stranger.patient;
    expect((await clinic.call(other, 'GET', `/api/files/${fileId}`)).statusCode).toBe(404);
    expect((await clinic.call(other, 'GET', `/api/files?patientId=${ownRecord}`)).statusCode).toBe(
      404,
    );
    const intoTheirs = await tusCreate(clinic.app, other, 100, {
      filename: 'x.pdf',
      patientId: ownRecord,
    });
    expect(intoTheirs.statusCode).toBe(404);
  });

  it('F2: a chunk that does not match its Upload-Checksum is refused (460) and nothing of it kept', async () => {
    const body = pdfBytes(3000);
    const created = await tusCreate(clinic.app, clinician, body.length, { filename: 'c.pdf' });
    const location = String(created.headers.location);
    const wrong = createHash('sha256').update('something else').digest('base64');
    const refused = await tusPatch(clinic.app, clinician, location, 0, body, {
      'upload-checksum': `sha256 ${wrong}`,
    });
    expect(refused.statusCode).toBe(460);
    expect((await tusHead(clinic.app, clinician, location)).headers['upload-offset']).toBe('0');
    const right = createHash('sha256').update(body).digest('base64');
    const accepted = await tusPatch(clinic.app, clinician, location, 0, body, {
      'upload-checksum': `sha256 ${right}`,
    });
    expect(accepted.statusCode).toBe(204);
  });

  it('F2: a file that does not match the SHA-256 declared at start never becomes a file', async () => {
    const body = pdfBytes(3000);
    const { last } = await tusUpload(clinic.app, clinician, body, {
      filename: 'declared.pdf',
      sha256: createHash('sha256').update('not this file').digest('hex'),
    });
    expect(last.statusCode).toBe(460);
    const ok = await tusUpload(clinic.app, clinician, body, {
      filename: 'declared.pdf',
      sha256: createHash('sha256').update(body).digest('hex'),
    });
    expect(ok.last.statusCode).toBe(204);
  });

  it('F2: a second writer on the same upload waits its turn (423), the first is not disturbed', async () => {
    const body = pdfBytes(2000);
    const created = await tusCreate(clinic.app, clinician, body.length, { filename: 'w.pdf' });
    const location = String(created.headers.location);
    const uploadId = location.split('/').pop()!;
    await clinic.db
      .updateTable('upload_sessions')
      .set({ writer_token: crypto.randomUUID(), writer_since: new Date() })
      .where('id', '=', uploadId)
      .execute();
    const busy = await tusPatch(clinic.app, clinician, location, 0, body);
    expect(busy.statusCode).toBe(423);
    expect(busy.headers['retry-after']).toBe('1');
  });

  it('F2: bytes sent for an offset that moved while they arrived are not counted (409)', async () => {
    const body = pdfBytes(2000);
    const created = await tusCreate(clinic.app, clinician, 4000, { filename: 'raced.pdf' });
    const location = String(created.headers.location);
    const sessionId = location.split('/').pop()!;
    // Another writer's bytes land while this PATCH's body is still arriving (its mark was given
    // up after this request checked the offset and before it claimed the mark).
    const payload = Readable.from(
      (async function* () {
        yield body.subarray(0, 1000);
        await clinic.db
          .updateTable('upload_sessions')
          .set({ received_bytes: 1000 })
          .where('id', '=', sessionId)
          .execute();
        yield body.subarray(1000);
      })(),
    );
    const res = await clinic.app.inject({
      method: 'PATCH',
      url: location,
      headers: {
        authorization: clinician.authorization,
        'tus-resumable': '1.0.0',
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
        'content-length': String(body.length),
      },
      payload,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('UPLOAD_OFFSET_MISMATCH');
    expect(await clinic.rows('upload_parts', { session_id: sessionId })).toHaveLength(0);
    expect(await clinic.rows('files', { session_id: sessionId })).toHaveLength(0);
  });

  it('F2: a client that stops mid-chunk keeps its whole parts and resumes from the last one', async () => {
    const address = await clinic.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = clinic.app.server.address() as AddressInfo;
    void address;
    const body = pdfBytes(20 * MIB);
    const created = await tusCreate(clinic.app, clinician, body.length, { filename: 'cut.pdf' });
    const location = String(created.headers.location);
    await new Promise<void>((resolve) => {
      const request = http.request({
        host: '127.0.0.1',
        port,
        path: location,
        method: 'PATCH',
        headers: {
          authorization: clinician.authorization,
          'tus-resumable': '1.0.0',
          'upload-offset': '0',
          'content-type': 'application/offset+octet-stream',
          'content-length': String(body.length),
        },
      });
      request.on('error', () => resolve());
      request.on('close', () => resolve());
      request.write(body.subarray(0, 11 * MIB), () => {
        // The connection drops after 11 MiB of 20: one whole 8 MiB part was stored.
        setTimeout(() => request.destroy(), 300);
      });
    });
    await expect
      .poll(async () => (await tusHead(clinic.app, clinician, location)).headers['upload-offset'])
      .toBe(String(8 * MIB));
    // Each whole part counts as soon as it is stored, so HEAD may say 8 MiB while the cut request
    // still holds the upload for a moment: a tus client retries 423, as Uppy does.
    let rest = await tusPatch(clinic.app, clinician, location, 8 * MIB, body.subarray(8 * MIB));
    for (let tries = 0; rest.statusCode === 423 && tries < 50; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rest = await tusPatch(clinic.app, clinician, location, 8 * MIB, body.subarray(8 * MIB));
    }
    expect(rest.statusCode).toBe(204);
    expect(rest.headers['upload-offset']).toBe(String(body.length));
  });

  it('F7: expired uploads are aborted in storage, then closed; two workers do it once', async () => {
    const body = pdfBytes(3000);
    const created = await tusCreate(clinic.app, clinician, body.length, { filename: 'old.pdf' });
    const location = String(created.headers.location);
    await tusPatch(clinic.app, clinician, location, 0, body.subarray(0, 1000));
    const uploadId = location.split('/').pop()!;
    await clinic.db
      .updateTable('upload_sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', uploadId)
      .execute();
    expect(
      (await tusPatch(clinic.app, clinician, location, 1000, body.subarray(1000))).statusCode,
    ).toBe(410);
    const storage = clinic.app.fileServices.storage;
    const aborted: string[] = [];
    const counting = Object.assign(Object.create(storage) as typeof storage, {
      abortMultipartUpload: async (key: string, id: string) => {
        aborted.push(id);
        await storage.abortMultipartUpload(key, id);
      },
    });
    const [a, b] = await Promise.all([
      expireAbandonedUploads(clinic.db, counting, log),
      expireAbandonedUploads(clinic.db, counting, log),
    ]);
    expect(a.expired + b.expired).toBeGreaterThanOrEqual(1);
    const [row] = await clinic.rows('upload_sessions', { id: uploadId });
    expect(row).toMatchObject({ status: 'expired' });
    expect(aborted.filter((id) => id === row?.storage_upload_id)).toHaveLength(1);
    expect(
      await clinic.rows('audit_events', { action: 'file.upload.expire', target_id: uploadId }),
    ).toHaveLength(1);
  });

  it('F7: a storage failure while aborting leaves the session open, marked, and retried', async () => {
    const created = await tusCreate(clinic.app, clinician, 3000, { filename: 'stuck.pdf' });
    const uploadId = String(created.headers.location).split('/').pop()!;
    await clinic.db
      .updateTable('upload_sessions')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', uploadId)
      .execute();
    const storage = clinic.app.fileServices.storage;
    const failing = Object.assign(Object.create(storage) as typeof storage, {
      abortMultipartUpload: async () => {
        throw new Error('storage is away');
      },
    });
    await expireAbandonedUploads(clinic.db, failing, log);
    const [stuck] = await clinic.rows('upload_sessions', { id: uploadId });
    expect(stuck).toMatchObject({
      status: 'open',
      cleanup_attempts: 1,
      cleanup_error: 'storage is away',
    });
    await expireAbandonedUploads(clinic.db, storage, log);
    const [done] = await clinic.rows('upload_sessions', { id: uploadId });
    expect(done).toMatchObject({ status: 'expired' });
  });
});
