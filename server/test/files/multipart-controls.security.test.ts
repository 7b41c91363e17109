// S3 multipart (F2, F7): controls an outside mutation hunt found no test for. A part URL is
// signed only for a session that still takes bytes: never for a cancelled one, nor for one past
// its expiry that cleanup has not closed yet. Completion checks the size storage assembled, so a
// part that claimed more bytes than it stored never makes a file.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { defaultStorageUrl, startS3Server, type TestS3Server } from '../s3-server.js';
import { pdfBytes } from '../tus.js';

const MIB = 1024 * 1024;
// Started before the suite is declared: the app's configuration names it.
const s3: TestS3Server = await startS3Server('haven-multipart-controls');
afterAll(async () => {
  await s3.stop();
});

describeClinic(
  'files: S3 multipart session controls',
  { env: { HAVEN_STORAGE_URL: defaultStorageUrl(s3) } },
  (clinic) => {
    let owner: Actor;

    beforeAll(async () => {
      owner = await clinic.actor(['clinician']);
    });

    async function start(name: string): Promise<string> {
      const started = await clinic.call(owner, 'POST', '/api/files/multipart', {
        name,
        size: 9 * MIB,
      });
      expect(started.statusCode, started.body).toBe(201);
      return started.json<{ uploadId: string }>().uploadId;
    }

    const presign = (uploadId: string) =>
      clinic.call(owner, 'POST', `/api/files/multipart/${uploadId}/parts/1/url`, {});

    it('F2: no part URL is signed for a cancelled session (410)', async () => {
      const uploadId = await start('cancelled.pdf');
      expect((await presign(uploadId)).statusCode).toBe(200);
      const cancelled = await clinic.call(owner, 'DELETE', `/api/files/multipart/${uploadId}`);
      expect(cancelled.statusCode).toBe(204);
      const refused = await presign(uploadId);
      expect(refused.statusCode, refused.body).toBe(410);
      expect(refused.json()).toMatchObject({ code: 'UPLOAD_EXPIRED' });
      expect(refused.body).not.toContain('X-Amz-Signature');
    });

    it('F2/F7: no part URL is signed for a session past its expiry, before cleanup closes it (410)', async () => {
      const uploadId = await start('late.pdf');
      await clinic.db
        .updateTable('upload_sessions')
        .set({ expires_at: new Date(Date.now() - 60_000) })
        .where('id', '=', uploadId)
        .execute();
      const refused = await presign(uploadId);
      expect(refused.statusCode, refused.body).toBe(410);
      expect(refused.json()).toMatchObject({ code: 'UPLOAD_EXPIRED' });
      expect(refused.body).not.toContain('X-Amz-Signature');
    });

    it('F2: a part smaller in storage than the size it was recorded with never makes a file (409)', async () => {
      const size = 9 * MIB;
      const uploadId = await start('short-part.pdf');
      const body = pdfBytes(size);
      const put = async (partNumber: number, bytes: Buffer, claimed: number) => {
        const signed = await clinic.call(
          owner,
          'POST',
          `/api/files/multipart/${uploadId}/parts/${partNumber}/url`,
          {},
        );
        expect(signed.statusCode, signed.body).toBe(200);
        const stored = await fetch(signed.json<{ url: string }>().url, {
          method: 'PUT',
          body: new Uint8Array(bytes),
        });
        expect(stored.status).toBe(200);
        const recorded = await clinic.call(
          owner,
          'PUT',
          `/api/files/multipart/${uploadId}/parts/${partNumber}`,
          { etag: stored.headers.get('etag') ?? '', size: claimed },
        );
        expect(recorded.statusCode, recorded.body).toBe(200);
      };
      await put(1, body.subarray(0, 8 * MIB), 8 * MIB);
      // The last part is 1 MiB; the client stores 1000 bytes and claims the full MiB.
      await put(2, body.subarray(8 * MIB, 8 * MIB + 1000), MIB);
      const done = await clinic.call(
        owner,
        'POST',
        `/api/files/multipart/${uploadId}/complete`,
        {},
      );
      expect(done.statusCode, done.body).toBe(409);
      const [session] = await clinic.rows('upload_sessions', { id: uploadId });
      expect(session).toMatchObject({ status: 'failed', failure_reason: 'size_mismatch' });
      expect(await clinic.rows('files', { session_id: uploadId })).toEqual([]);
    });
  },
);
