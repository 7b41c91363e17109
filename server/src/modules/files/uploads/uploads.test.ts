// tus uploads end to end through app.inject on a real database (F2, F8, F3 names, consent gate).
import { expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import { pdfBytes, tusCreate, tusHead, tusPatch, tusUpload } from '../../../../test/tus.js';

const MIB = 1024 * 1024;

describeClinic('files: tus uploads', { env: { HAVEN_FILES_USER_QUOTA_MB: '64' } }, (clinic) => {
  let clinician: Actor;
  let organizationId: string;

  it('F2: with the filesystem storage the usage tells the SPA to upload through tus', async () => {
    const someone = await clinic.actor(['clinician']);
    const usage = await clinic.call(someone, 'GET', '/api/files/usage');
    expect(usage.statusCode, usage.body).toBe(200);
    expect(usage.json()).toMatchObject({ chunkBytes: 8 * MIB, multipartPartBytes: null });
    const created = await tusCreate(clinic.app, someone, 1000, { filename: 'listed.pdf' });
    const id = String(created.headers.location).split('/').pop();
    const open = (await clinic.call(someone, 'GET', '/api/files/uploads')).json<{
      uploads: Array<{ id: string; protocol: string }>;
    }>();
    expect(open.uploads).toEqual([expect.objectContaining({ id, protocol: 'tus' })]);
  });

  it('uploads a file in chunks across part boundaries, resumes, and completes it', async () => {
    clinician = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({ members: [[clinician, 'clinician']] });
    const body = pdfBytes(20 * MIB + 12345);
    const created = await tusCreate(clinic.app, clinician, body.length, { filename: 'scan.pdf' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['tus-resumable']).toBe('1.0.0');
    const location = String(created.headers.location);
    expect(location).toMatch(/^\/api\/files\/uploads\/[0-9a-f-]{36}$/);

    const first = await tusPatch(clinic.app, clinician, location, 0, body.subarray(0, 9 * MIB));
    expect(first.statusCode).toBe(204);
    expect(first.headers['upload-offset']).toBe(String(9 * MIB));

    // A wrong offset is refused with the right one.
    const wrong = await tusPatch(clinic.app, clinician, location, 5, body.subarray(5, 10));
    expect(wrong.statusCode).toBe(409);

    const head = await tusHead(clinic.app, clinician, location);
    expect(head.statusCode).toBe(200);
    expect(head.headers['upload-offset']).toBe(String(9 * MIB));
    expect(head.headers['upload-length']).toBe(String(body.length));
    expect(head.headers['cache-control']).toBe('no-store');

    const rest = await tusPatch(clinic.app, clinician, location, 9 * MIB, body.subarray(9 * MIB));
    expect(rest.statusCode).toBe(204);
    expect(rest.headers['upload-offset']).toBe(String(body.length));
    const fileId = String(rest.headers['haven-file-id']);

    const file = await clinic.call(clinician, 'GET', `/api/files/${fileId}`);
    expect(file.statusCode).toBe(200);
    expect(file.json()).toMatchObject({
      file: { name: 'scan.pdf', size: body.length, status: 'scanning', downloadable: false },
    });
    const parts = await clinic.rows('upload_parts', {});
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const link = await clinic.call(clinician, 'POST', `/api/files/${fileId}/download-link`, {});
    expect(link.statusCode).toBe(409);
    void organizationId;
  });

  it('F2: an empty PATCH at the end of a completed upload (a last chunk sent again) answers 204 with the file; bytes there are still refused', async () => {
    const someone = await clinic.actor(['clinician']);
    const body = pdfBytes(64 * 1024);
    const { location, last } = await tusUpload(clinic.app, someone, body, {
      filename: 'again.pdf',
    });
    expect(last.statusCode, last.body).toBe(204);
    const fileId = last.headers['haven-file-id'];
    expect(fileId).toMatch(/^[0-9a-f-]{36}$/);

    const again = await tusPatch(clinic.app, someone, location, body.length, Buffer.alloc(0));
    expect(again.statusCode, again.body).toBe(204);
    expect(again.headers['upload-offset']).toBe(String(body.length));
    expect(again.headers['haven-file-id']).toBe(fileId);

    const more = await tusPatch(clinic.app, someone, location, body.length, Buffer.from('x'));
    expect(more.statusCode).toBe(409);
    const elsewhere = await tusPatch(clinic.app, someone, location, 0, Buffer.alloc(0));
    expect(elsewhere.statusCode).toBe(409);
    // Someone else's completed upload is still not theirs to ask about.
    const stranger = await clinic.actor(['clinician']);
    const foreign = await tusPatch(clinic.app, stranger, location, body.length, Buffer.alloc(0));
    expect(foreign.statusCode).toBe(404);
  });

  it('F8: refuses an upload over the quota at start', async () => {
    const res = await tusCreate(clinic.app, clinician, 60 * MIB, { filename: 'big.pdf' });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('QUOTA_EXCEEDED');
  });

  it('F3: refuses names with paths tricks, executables and RTL overrides', async () => {
    for (const name of [
      'report\u202Efdp.exe',
      'a.exe.pdf',
      'x\u0000.pdf',
      'a'.repeat(10_000) + '.pdf',
      'run.sh',
    ]) {
      const res = await tusCreate(clinic.app, clinician, 10, { filename: name });
      expect(res.statusCode, name).toBe(400);
    }
    const stripped = await tusUpload(clinic.app, clinician, pdfBytes(400), {
      filename: '../../etc/notes.pdf',
    });
    expect(stripped.last.statusCode).toBe(204);
    const file = await clinic.call(
      clinician,
      'GET',
      `/api/files/${String(stripped.last.headers['haven-file-id'])}`,
    );
    expect(file.json().file.name).toBe('notes.pdf');
  });

  it('Z4: another person cannot see or write someone else’s upload', async () => {
    const other = await clinic.actor(['clinician']);
    const created = await tusCreate(clinic.app, clinician, 1000, { filename: 'mine.pdf' });
    const location = String(created.headers.location);
    expect((await tusHead(clinic.app, other, location)).statusCode).toBe(404);
    const patch = await tusPatch(clinic.app, other, location, 0, pdfBytes(1000));
    expect(patch.statusCode).toBe(404);
  });
});
