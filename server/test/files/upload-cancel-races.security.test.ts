// Cancelling an upload against the requests that write it (F2, F7): DELETE takes the same writer
// mark a PATCH, a completion and the cleanup take, so it never pulls storage from under one of
// them. While one holds the mark DELETE is 423; a completion that got there first makes it 409
// (the file exists); a completion cannot start while DELETE holds it; and an upload cancelled
// under a PATCH that lost its mark answers that PATCH 410, not 500. Every interleaving is held
// in place by a gate (a request body that waits, a storage call that waits), never by a sleep.
import { Readable } from 'node:stream';
import { afterEach, expect, it, vi } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { askUntil } from '../eventually.js';
import { pdfBytes, tusCreate, tusHead, tusPatch } from '../tus.js';
import { StorageError } from '../../src/platform/storage/index.js';

/** A promise the test resolves when it chooses. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describeClinic('files: cancelling an upload while it is written or completed', (clinic) => {
  const storage = () => clinic.app.fileServices.storage;

  async function start(caller: Actor, bytes: number, filename: string) {
    const created = await tusCreate(clinic.app, caller, bytes, { filename });
    expect(created.statusCode, created.body).toBe(201);
    const location = String(created.headers.location);
    const sessionId = location.split('/').pop()!;
    const [row] = await clinic.rows('upload_sessions', { id: sessionId });
    return {
      location,
      sessionId,
      key: String(row!.object_key),
      uploadId: String(row!.storage_upload_id),
    };
  }

  const cancel = (caller: Actor, location: string) =>
    clinic.app.inject({
      method: 'DELETE',
      url: location,
      headers: { authorization: caller.authorization, 'tus-resumable': '1.0.0' },
    });

  /** A PATCH of `bytes` whose second half waits for `held` (its writer mark taken meanwhile). */
  function slowPatch(caller: Actor, location: string, bytes: Buffer, held: Promise<void>) {
    async function* body(): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, bytes.length / 2);
      await held;
      yield bytes.subarray(bytes.length / 2);
    }
    return clinic.app.inject({
      method: 'PATCH',
      url: location,
      headers: {
        authorization: caller.authorization,
        'tus-resumable': '1.0.0',
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
        'content-length': String(bytes.length),
      },
      payload: Readable.from(body()),
    });
  }

  async function writerMark(sessionId: string): Promise<string | null> {
    const [row] = await clinic.rows('upload_sessions', { id: sessionId });
    return (row?.writer_token as string | null) ?? null;
  }

  /** Waits until a request holds the session's writer mark. */
  async function markTaken(sessionId: string): Promise<void> {
    const { answer } = await askUntil(
      () => writerMark(sessionId),
      (mark) => mark !== null,
      10_000,
    );
    expect(answer).not.toBeNull();
  }

  /** Holds the next completion inside storage until `release` opens; `entered` when it got there. */
  function holdNextCompletion() {
    const entered = gate();
    const release = gate();
    const target = storage();
    const real = target.completeMultipartUpload.bind(target);
    vi.spyOn(target, 'completeMultipartUpload').mockImplementationOnce(async (...args) => {
      entered.open();
      await release.opened;
      return real(...args);
    });
    return { entered: entered.opened, release: release.open };
  }

  const cancelEvents = (sessionId: string) =>
    clinic.rows('audit_events', { action: 'file.upload.cancel', target_id: sessionId });

  it('F2/cancel during a PATCH: a DELETE while a PATCH holds the writer mark is 423 UPLOAD_BUSY, and the PATCH completes normally', async () => {
    const uploader = await clinic.actor(['clinician']);
    const upload = await start(uploader, 64 * 1024, 'in-flight.pdf');
    const body = gate();
    const patch = slowPatch(uploader, upload.location, pdfBytes(64 * 1024), body.opened);
    await markTaken(upload.sessionId);

    const refused = await cancel(uploader, upload.location);
    expect(refused.statusCode, refused.body).toBe(423);
    expect(refused.json()).toMatchObject({ code: 'UPLOAD_BUSY' });
    expect(refused.headers['retry-after']).toBe('1');

    body.open();
    const done = await patch;
    expect(done.statusCode, done.body).toBe(204);
    expect(done.headers['haven-file-id']).toBeDefined();
    expect(await clinic.rows('files', { session_id: upload.sessionId })).toHaveLength(1);
    expect(await cancelEvents(upload.sessionId)).toEqual([]);
  });

  it('F2/cancel during completion: a DELETE while the completion runs is 423; once it is done, 409 and the file and its object stay', async () => {
    const uploader = await clinic.actor(['clinician']);
    const upload = await start(uploader, 4000, 'completing.pdf');
    const held = holdNextCompletion();
    const patch = tusPatch(clinic.app, uploader, upload.location, 0, pdfBytes(4000));
    await held.entered;

    const during = await cancel(uploader, upload.location);
    expect(during.statusCode, during.body).toBe(423);
    expect(during.json()).toMatchObject({ code: 'UPLOAD_BUSY' });

    held.release();
    const done = await patch;
    expect(done.statusCode, done.body).toBe(204);
    const fileId = String(done.headers['haven-file-id']);

    const after = await cancel(uploader, upload.location);
    expect(after.statusCode, after.body).toBe(409);
    expect(after.json().detail).toMatch(/delete the file instead/);
    expect(await clinic.rows('files', { id: fileId })).toHaveLength(1);
    expect(await storage().headObject(upload.key)).toMatchObject({ size: 4000 });
    expect(await cancelEvents(upload.sessionId)).toEqual([]);
  });

  it('F2/completion during cancel: a completion (HEAD) while a DELETE holds the mark is 423, and the cancel leaves no object in storage', async () => {
    const uploader = await clinic.actor(['clinician']);
    const upload = await start(uploader, 3000, 'cancelled.pdf');
    // Every byte recorded, the completion refused (storage away): the session waits, complete in
    // bytes, for a HEAD to finish it.
    vi.spyOn(storage(), 'completeMultipartUpload').mockRejectedValueOnce(
      new StorageError('UNAVAILABLE', 'storage is away'),
    );
    const first = await tusPatch(clinic.app, uploader, upload.location, 0, pdfBytes(3000));
    expect(first.statusCode, first.body).toBe(503);
    const entered = gate();
    const release = gate();
    const target = storage();
    const abort = target.abortMultipartUpload.bind(target);
    vi.spyOn(target, 'abortMultipartUpload').mockImplementationOnce(async (...args) => {
      entered.open();
      await release.opened;
      return abort(...args);
    });
    const deleting = cancel(uploader, upload.location);
    await entered.opened;

    const head = await tusHead(clinic.app, uploader, upload.location);
    expect(head.statusCode).toBe(423);
    expect(head.headers['haven-file-id']).toBeUndefined();

    release.open();
    expect((await deleting).statusCode).toBe(204);
    expect((await clinic.rows('upload_sessions', { id: upload.sessionId }))[0]).toMatchObject({
      status: 'aborted',
    });
    expect(await clinic.rows('files', { session_id: upload.sessionId })).toEqual([]);
    expect(await storage().headObject(upload.key)).toBeUndefined();
    expect(await cancelEvents(upload.sessionId)).toHaveLength(1);
  });

  it('F7/cancel after an unrecorded completion: DELETE removes an object storage assembled but no file row names', async () => {
    // What a final PATCH leaves when the node stops after storage assembled the object and before
    // the file row committed: the session still open, the whole object under its key.
    const uploader = await clinic.actor(['clinician']);
    const upload = await start(uploader, 3000, 'half-done.pdf');
    const body = pdfBytes(3000);
    const { etag } = await storage().uploadPart({
      key: upload.key,
      uploadId: upload.uploadId,
      partNumber: 1,
      body: Readable.from([body]),
      size: body.length,
    });
    await storage().completeMultipartUpload(upload.key, upload.uploadId, [{ partNumber: 1, etag }]);
    expect(await storage().headObject(upload.key)).toMatchObject({ size: 3000 });

    expect((await cancel(uploader, upload.location)).statusCode).toBe(204);
    expect(await clinic.rows('files', { session_id: upload.sessionId })).toEqual([]);
    expect(await storage().headObject(upload.key)).toBeUndefined();
  });

  it('F2/PATCH cancelled under it: a PATCH whose lost writer mark let a DELETE through answers 410 UPLOAD_EXPIRED, not 500', async () => {
    const uploader = await clinic.actor(['clinician']);
    const upload = await start(uploader, 64 * 1024, 'lost-mark.pdf');
    const body = gate();
    const patch = slowPatch(uploader, upload.location, pdfBytes(64 * 1024), body.opened);
    await markTaken(upload.sessionId);
    // The mark lost, as a database that failed over loses it: the DELETE takes a free mark.
    await clinic.db
      .updateTable('upload_sessions')
      .set({ writer_token: null, writer_since: null })
      .where('id', '=', upload.sessionId)
      .execute();
    expect((await cancel(uploader, upload.location)).statusCode).toBe(204);

    body.open();
    const late = await patch;
    expect(late.statusCode, late.body).toBe(410);
    expect(late.json()).toMatchObject({ code: 'UPLOAD_EXPIRED' });
    expect(await clinic.rows('files', { session_id: upload.sessionId })).toEqual([]);
    expect(await clinic.rows('upload_parts', { session_id: upload.sessionId })).toEqual([]);
  });
});
