// tus PATCHes against storage's part limits (F2): storage numbers an upload's parts 1 to 10,000
// and every PATCH stores at least one, and S3 refuses, at completion, a part under 5 MiB that is
// not the last. A PATCH that would leave what storage cannot complete is refused before any byte
// of it is stored, with a sentence saying what to send instead, never accepted now to fail with a
// 500 on every later PATCH or at completion.
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { LOCAL_S3_CLINIC, addOwnedBucket } from '../owned-buckets.js';
import { startS3Server, type TestS3Server } from '../s3-server.js';
import { pdfBytes, tusCreate, tusHead, tusPatch, tusPatchChunked } from '../tus.js';

const MIB = 1024 * 1024;
const s3: TestS3Server = await startS3Server('haven-part-limits');
afterAll(async () => {
  await s3.stop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describeClinic('files: tus chunks within storage part limits', LOCAL_S3_CLINIC, (clinic) => {
  let uploader: Actor;
  let port = 0;

  beforeAll(async () => {
    uploader = await clinic.actor(['clinician']);
    await clinic.app.listen({ host: '127.0.0.1', port: 0 });
    port = (clinic.app.server.address() as AddressInfo).port;
  });

  async function start(bytes: number, filename: string, bucketId?: string) {
    const created = await tusCreate(clinic.app, uploader, bytes, {
      filename,
      ...(bucketId !== undefined && { bucketId }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const location = String(created.headers.location);
    return { location, sessionId: location.split('/').pop()! };
  }

  /** Records `count` one-byte parts for the session, as that many one-byte PATCHes leave it. */
  async function recordParts(sessionId: string, count: number): Promise<void> {
    await sql`
      INSERT INTO upload_parts (session_id, part_number, etag, size)
      SELECT ${sessionId}::uuid, n, '"recorded"', 1 FROM generate_series(1, ${count}::integer) AS n
    `.execute(clinic.db);
    await clinic.db
      .updateTable('upload_sessions')
      .set({ received_bytes: count })
      .where('id', '=', sessionId)
      .execute();
  }

  async function recorded(sessionId: string) {
    const [session] = await clinic.rows('upload_sessions', { id: sessionId });
    const parts = await clinic.rows('upload_parts', { session_id: sessionId });
    return { receivedBytes: Number(session!.received_bytes), parts: parts.length };
  }

  it('F2/part ceiling: a PATCH after 10,000 recorded parts is refused up front (400), nothing stored', async () => {
    const upload = await start(20_000, 'ten-thousand.pdf');
    await recordParts(upload.sessionId, 10_000);
    const stored = vi.spyOn(clinic.app.fileServices.storage, 'uploadPart');

    const refused = await tusPatch(clinic.app, uploader, upload.location, 10_000, pdfBytes(1));
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().detail).toMatch(/too many small chunks.*can no longer be finished/i);
    expect(stored).not.toHaveBeenCalled();
    expect(await recorded(upload.sessionId)).toEqual({ receivedBytes: 10_000, parts: 10_000 });
  });

  it('F2/part ceiling: a chunk after which the rest no longer fits in the parts left is refused, saying what chunk size still fits', async () => {
    const upload = await start(20_000, 'nearly-full.pdf');
    await recordParts(upload.sessionId, 9_999);
    const stored = vi.spyOn(clinic.app.fileServices.storage, 'uploadPart');

    // One byte now would take part 10,000 and leave 10,000 bytes with no part number.
    const refused = await tusPatch(clinic.app, uploader, upload.location, 9_999, pdfBytes(1));
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().detail).toMatch(/storage takes 1 more parts.*chunks of 8388608 bytes/);
    expect(stored).not.toHaveBeenCalled();
    expect(await recorded(upload.sessionId)).toEqual({ receivedBytes: 9_999, parts: 9_999 });
  });

  it('F2/S3 part minimum: a PATCH that does not finish an S3-backed upload may not leave a part under 5 MiB; the whole file in one PATCH becomes a file', async () => {
    const bucketId = await addOwnedBucket(clinic, uploader, s3);
    const body = pdfBytes(6 * MIB);
    const upload = await start(body.length, 'small-chunks.pdf', bucketId);

    const refused = await tusPatch(clinic.app, uploader, upload.location, 0, body.subarray(0, MIB));
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json().detail).toMatch(/too small.*under 5 MiB/);
    expect(await recorded(upload.sessionId)).toEqual({ receivedBytes: 0, parts: 0 });

    const whole = await tusPatch(clinic.app, uploader, upload.location, 0, body);
    expect(whole.statusCode, whole.body).toBe(204);
    expect(whole.headers['haven-file-id']).toBeDefined();
  });

  it('F2/S3 part minimum: a chunk without Content-Length that ends short of the upload under 5 MiB is refused, nothing of it kept', async () => {
    const bucketId = await addOwnedBucket(clinic, uploader, s3);
    const body = pdfBytes(6 * MIB);
    const upload = await start(body.length, 'chunked.pdf', bucketId);

    const answer = await tusPatchChunked(port, uploader, upload.location, [body.subarray(0, MIB)]);
    expect(answer.status, answer.body).toBe(400);
    expect(answer.body).toMatch(/too small/);
    const head = await tusHead(clinic.app, uploader, upload.location);
    expect(head.headers['upload-offset']).toBe('0');
    expect(await recorded(upload.sessionId)).toEqual({ receivedBytes: 0, parts: 0 });
  });
});
