// S3 multipart straight to storage (F2) against a real S3-compatible server (fauxqs on
// 127.0.0.1): the browser's part PUTs go to the presigned URLs Haven signs, Haven records parts,
// completes from its own record, and refuses parts that lie about their size or number, another
// person's session, and a session of the other protocol.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import { defaultStorageUrl, startS3Server, type TestS3Server } from '../../../../test/s3-server.js';
import { pdfBytes, TUS_ENDPOINT, tusCreate, tusPatch } from '../../../../test/tus.js';

const MIB = 1024 * 1024;
// Started before the suite is declared: the app's configuration names it.
const s3: TestS3Server = await startS3Server('haven-multipart');
afterAll(async () => {
  await s3.stop();
});

describeClinic(
  'files: S3 multipart uploads',
  { env: { HAVEN_STORAGE_URL: defaultStorageUrl(s3) } },
  (clinic) => {
    let owner: Actor;
    let other: Actor;

    beforeAll(async () => {
      owner = await clinic.actor(['clinician']);
      other = await clinic.actor(['clinician']);
    });

    async function putPart(uploadId: string, partNumber: number, body: Buffer): Promise<string> {
      const signed = await clinic.call(
        owner,
        'POST',
        `/api/files/multipart/${uploadId}/parts/${partNumber}/url`,
        {},
      );
      expect(signed.statusCode, signed.body).toBe(200);
      const { url } = signed.json<{ url: string }>();
      const response = await fetch(url, { method: 'PUT', body: new Uint8Array(body) });
      expect(response.status).toBe(200);
      return response.headers.get('etag') ?? '';
    }

    it('F2: parts go straight to storage, the server records them, completion makes the file', async () => {
      const body = pdfBytes(17 * MIB + 100);
      const started = await clinic.call(owner, 'POST', '/api/files/multipart', {
        name: 'mri.pdf',
        size: body.length,
      });
      expect(started.statusCode, started.body).toBe(201);
      const { uploadId, partSize, partCount } = started.json<{
        uploadId: string;
        partSize: number;
        partCount: number;
      }>();
      expect(partSize).toBe(8 * MIB);
      expect(partCount).toBe(3);

      for (let n = 1; n <= partCount; n += 1) {
        const chunk = body.subarray((n - 1) * partSize, n * partSize);
        const etag = await putPart(uploadId, n, chunk);
        const recorded = await clinic.call(
          owner,
          'PUT',
          `/api/files/multipart/${uploadId}/parts/${n}`,
          {
            etag,
            size: chunk.length,
          },
        );
        expect(recorded.statusCode, recorded.body).toBe(200);
        // Recording the same part again is harmless (idempotent).
        if (n === 1) {
          const again = await clinic.call(
            owner,
            'PUT',
            `/api/files/multipart/${uploadId}/parts/1`,
            {
              etag,
              size: chunk.length,
            },
          );
          expect(again.json().receivedBytes).toBe(chunk.length);
        }
      }
      const parts = await clinic.call(owner, 'GET', `/api/files/multipart/${uploadId}/parts`);
      expect(parts.json().parts).toHaveLength(3);

      const done = await clinic.call(
        owner,
        'POST',
        `/api/files/multipart/${uploadId}/complete`,
        {},
      );
      expect(done.statusCode, done.body).toBe(200);
      const { fileId } = done.json<{ fileId: string }>();
      const file = await clinic.call(owner, 'GET', `/api/files/${fileId}`);
      expect(file.json().file).toMatchObject({
        name: 'mri.pdf',
        size: body.length,
        status: 'scanning',
      });
      const head = await clinic.app.fileServices.storage.headObject(`uploads/${uploadId}`);
      expect(head?.size).toBe(body.length);
    });

    it('F2: a part that lies about its size or number, or a wrong ETag, never makes a file', async () => {
      const body = pdfBytes(9 * MIB);
      const started = await clinic.call(owner, 'POST', '/api/files/multipart', {
        name: 'lies.pdf',
        size: body.length,
      });
      const { uploadId } = started.json<{ uploadId: string }>();
      const url = (n: number) => `/api/files/multipart/${uploadId}/parts/${n}`;
      expect((await clinic.call(owner, 'PUT', url(1), { etag: '"x"', size: 100 })).statusCode).toBe(
        400,
      );
      expect((await clinic.call(owner, 'PUT', url(3), { etag: '"x"', size: MIB })).statusCode).toBe(
        400,
      );
      expect((await clinic.call(owner, 'POST', `${url(10001)}/url`, {})).statusCode).toBe(400);
      // Both parts recorded, the first with an ETag storage never gave: storage refuses it at
      // completion and the upload fails instead of becoming a file.
      await putPart(uploadId, 1, body.subarray(0, 8 * MIB));
      const etag2 = await putPart(uploadId, 2, body.subarray(8 * MIB));
      await clinic.call(owner, 'PUT', url(1), {
        etag: '"0123456789abcdef0123456789abcdef"',
        size: 8 * MIB,
      });
      await clinic.call(owner, 'PUT', url(2), { etag: etag2, size: MIB });
      const done = await clinic.call(
        owner,
        'POST',
        `/api/files/multipart/${uploadId}/complete`,
        {},
      );
      expect(done.statusCode).toBe(409);
      const [session] = await clinic.rows('upload_sessions', { id: uploadId });
      expect(session).toMatchObject({ status: 'failed', failure_reason: 'parts_mismatch' });
      expect(await clinic.rows('files', { session_id: uploadId })).toHaveLength(0);
    });

    it('F2: with S3 storage the usage tells the SPA to send parts straight to storage', async () => {
      const usage = await clinic.call(owner, 'GET', '/api/files/usage');
      expect(usage.statusCode, usage.body).toBe(200);
      const answer = usage.json<{ multipartPartBytes: number | null }>();
      expect(answer.multipartPartBytes).toBe(8 * MIB);
      // The part size the SPA cuts with is the one the server announces at start.
      const started = await clinic.call(owner, 'POST', '/api/files/multipart', {
        name: 'sized.pdf',
        size: 9 * MIB,
      });
      expect(started.json<{ partSize: number }>().partSize).toBe(answer.multipartPartBytes);
      const { uploadId } = started.json<{ uploadId: string }>();
      // Unfinished uploads name their protocol, so the SPA discards each the right way.
      const open = (await clinic.call(owner, 'GET', '/api/files/uploads')).json<{
        uploads: Array<{ id: string; protocol: string }>;
      }>();
      expect(open.uploads.find((u) => u.id === uploadId)?.protocol).toBe('s3');
      await clinic.call(owner, 'DELETE', `/api/files/multipart/${uploadId}`);
    });

    it('Z4/F2: another person, and the other protocol, cannot touch a session (404)', async () => {
      const started = await clinic.call(owner, 'POST', '/api/files/multipart', {
        name: 'own.pdf',
        size: 9 * MIB,
      });
      const { uploadId } = started.json<{ uploadId: string }>();
      expect(
        (await clinic.call(other, 'POST', `/api/files/multipart/${uploadId}/parts/1/url`, {}))
          .statusCode,
      ).toBe(404);
      expect(
        (await clinic.call(other, 'GET', `/api/files/multipart/${uploadId}/parts`)).statusCode,
      ).toBe(404);
      expect(
        (await clinic.call(other, 'DELETE', `/api/files/multipart/${uploadId}`)).statusCode,
      ).toBe(404);
      const tus = await tusCreate(clinic.app, owner, 1000, { filename: 'tus.pdf' });
      const tusId = String(tus.headers.location).split('/').pop()!;
      expect(
        (await clinic.call(owner, 'GET', `/api/files/multipart/${tusId}/parts`)).statusCode,
      ).toBe(404);
      // Nor are an S3 session's bytes sent through tus, even by its owner.
      const patch = await tusPatch(
        clinic.app,
        owner,
        `${TUS_ENDPOINT}/${uploadId}`,
        0,
        pdfBytes(1000),
      );
      expect(patch.statusCode).toBe(404);
      expect(
        (await clinic.call(owner, 'DELETE', `/api/files/multipart/${uploadId}`)).statusCode,
      ).toBe(204);
    });
  },
);
