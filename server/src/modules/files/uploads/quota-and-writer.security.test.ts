// F8 at completion and F2's writer mark over time. Start-time quota refusals are tested in
// uploads.test.ts; here the quota is re-checked when the last byte is in: what is in use by then
// counts, not what was in use at start (another node's reservation, a quota lowered on restart).
// And one writer per session: a live mark turns a second writer away, a mark left by a process
// that died mid-PATCH does not lock the upload for ever, and a live PATCH or completion keeps its
// mark however long it runs.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import { askUntil } from '../../../../test/eventually.js';
import { pdfBytes, tusCreate, tusHead, tusPatch } from '../../../../test/tus.js';
import { StorageError } from '../../../platform/storage/index.js';
import { WRITER_HEARTBEAT_MS } from './repo.js';

const MIB = 1024 * 1024;

describeClinic(
  'files: quotas at completion, the writer mark over time',
  { env: { HAVEN_FILES_USER_QUOTA_MB: '10', HAVEN_FILES_STORAGE_QUOTA_MB: '16' } },
  (clinic) => {
    let clinician: Actor;
    let colleague: Actor;

    beforeAll(async () => {
      clinician = await clinic.actor(['clinician']);
      colleague = await clinic.actor(['clinician']);
    });

    afterEach(() => {
      vi.restoreAllMocks();
    });

    /** Starts a tus upload of `bytes`; the session id and its location. */
    async function start(caller: Actor, bytes: number, filename: string) {
      const created = await tusCreate(clinic.app, caller, bytes, { filename });
      expect(created.statusCode).toBe(201);
      const location = String(created.headers.location);
      return { location, sessionId: location.split('/').pop()! };
    }

    /** Makes an open session reserve `bytes` (what a reservation elsewhere would add). */
    async function reserve(sessionId: string, bytes: number): Promise<void> {
      await clinic.db
        .updateTable('upload_sessions')
        .set({ declared_size: bytes })
        .where('id', '=', sessionId)
        .execute();
    }

    /** Aborts an open session through the API, so the next test starts with nothing reserved. */
    async function abort(caller: Actor, location: string): Promise<void> {
      const res = await clinic.app.inject({
        method: 'DELETE',
        url: location,
        headers: { authorization: caller.authorization, 'tus-resumable': '1.0.0' },
      });
      expect(res.statusCode).toBe(204);
    }

    async function sessionStatus(sessionId: string): Promise<string | undefined> {
      const row = await clinic.db
        .selectFrom('upload_sessions')
        .select('status')
        .where('id', '=', sessionId)
        .executeTakeFirst();
      return row?.status;
    }

    async function filesOf(sessionId: string): Promise<number> {
      return (await clinic.rows('files', { session_id: sessionId })).length;
    }

    it('F8/quota race: completion re-checks the person’s quota against what is in use then — 413, the session closed, no file', async () => {
      const upload = await start(clinician, 6 * MIB, 'scan-a.pdf');
      const other = await start(clinician, 1 * MIB, 'scan-b.pdf');
      // Fitted at start (6 + 1 of 10 MiB); by the last byte the person holds 5 MiB elsewhere.
      await reserve(other.sessionId, 5 * MIB);

      const last = await tusPatch(clinic.app, clinician, upload.location, 0, pdfBytes(6 * MIB));
      expect(last.statusCode).toBe(413);
      expect(last.json().code).toBe('QUOTA_EXCEEDED');
      expect(await sessionStatus(upload.sessionId)).not.toBe('open');
      expect(await filesOf(upload.sessionId)).toBe(0);
      // Closed for good: nothing the client retries can turn it into a file.
      const head = await tusHead(clinic.app, clinician, upload.location);
      expect(head.statusCode).toBe(409);
      expect(head.json().detail).toMatch(/failed \(quota_exceeded\)/);
      await abort(clinician, other.location);
    });

    it('F8/storage full: completion re-checks the storage’s quota, counting everyone’s uploads — 413, no file', async () => {
      const upload = await start(clinician, 4 * MIB, 'scan-c.pdf');
      const theirs = await start(colleague, 1 * MIB, 'theirs.pdf');
      // The colleague's reservation grows until the storage (16 MiB) cannot take this upload,
      // while this person stays well inside their own 10 MiB.
      await reserve(theirs.sessionId, 13 * MIB);

      const last = await tusPatch(clinic.app, clinician, upload.location, 0, pdfBytes(4 * MIB));
      expect(last.statusCode).toBe(413);
      expect(last.json().code).toBe('QUOTA_EXCEEDED');
      expect(last.json().detail).toMatch(/storage is full/i);
      expect(await filesOf(upload.sessionId)).toBe(0);
      await abort(colleague, theirs.location);
    });

    it('F8: an upload that still fits at completion becomes a file', async () => {
      const upload = await start(colleague, 2 * MIB, 'fits.pdf');
      const last = await tusPatch(clinic.app, colleague, upload.location, 0, pdfBytes(2 * MIB));
      expect(last.statusCode).toBe(204);
      expect(await filesOf(upload.sessionId)).toBe(1);
    });

    it('F2/two writers: a live writer mark turns a second writer away with 423 and Retry-After', async () => {
      const upload = await start(clinician, 1 * MIB, 'busy.pdf');
      await clinic.db
        .updateTable('upload_sessions')
        .set({ writer_token: randomUUID(), writer_since: sql<Date>`now()` })
        .where('id', '=', upload.sessionId)
        .execute();
      const busy = await tusPatch(clinic.app, clinician, upload.location, 0, pdfBytes(1 * MIB));
      expect(busy.statusCode).toBe(423);
      expect(busy.headers['retry-after']).toBeDefined();
      const head = await tusHead(clinic.app, clinician, upload.location);
      expect(head.headers['upload-offset']).toBe('0');
    });

    it('F2/dead writer: a mark left by a process that died mid-PATCH goes stale within seconds and the upload resumes', async () => {
      const upload = await start(clinician, 1 * MIB, 'resumed.pdf');
      // Not renewed for 25 s: its PATCH is dead (a live one renews it every 5 s), and a tus
      // client retrying a 423 for a few seconds gets through.
      await clinic.db
        .updateTable('upload_sessions')
        .set({
          writer_token: randomUUID(),
          writer_since: sql<Date>`now() - interval '25 seconds'`,
        })
        .where('id', '=', upload.sessionId)
        .execute();
      const resumed = await tusPatch(clinic.app, clinician, upload.location, 0, pdfBytes(1 * MIB));
      expect(resumed.statusCode).toBe(204);
      expect(await filesOf(upload.sessionId)).toBe(1);
    });

    it('F2/slow writer: a PATCH whose body is still arriving keeps its mark alive, so no second writer takes it over', async () => {
      const upload = await start(clinician, 1 * MIB, 'slow.pdf');
      const bytes = pdfBytes(1 * MIB);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      async function* slowBody(): AsyncGenerator<Buffer> {
        yield bytes.subarray(0, MIB / 2);
        await gate;
        yield bytes.subarray(MIB / 2);
      }
      const patch = clinic.app.inject({
        method: 'PATCH',
        url: upload.location,
        headers: {
          authorization: clinician.authorization,
          'tus-resumable': '1.0.0',
          'upload-offset': '0',
          'content-type': 'application/offset+octet-stream',
          'content-length': String(bytes.length),
        },
        payload: Readable.from(slowBody()),
      });
      const markSince = async () =>
        (
          await clinic.db
            .selectFrom('upload_sessions')
            .select(sql<number>`extract(epoch from writer_since)`.as('since'))
            .where('id', '=', upload.sessionId)
            .executeTakeFirstOrThrow()
        ).since;
      const { answer: claimed } = await askUntil(markSince, (since) => since !== null, 10_000);
      expect(claimed).not.toBeNull();
      await new Promise((resolve) => setTimeout(resolve, WRITER_HEARTBEAT_MS + 1_000));
      expect(Number(await markSince())).toBeGreaterThan(Number(claimed));
      release();
      expect((await patch).statusCode).toBe(204);
      expect(await filesOf(upload.sessionId)).toBe(1);
    });

    it('F2/long completion: a completion started by HEAD renews its writer mark while storage assembles the file, so a retry is 423, not a takeover', async () => {
      const uploader = await clinic.actor(['clinician']);
      const upload = await start(uploader, 1 * MIB, 'long-completion.pdf');
      const storage = clinic.app.fileServices.storage;
      const real = storage.completeMultipartUpload.bind(storage);
      // Every byte recorded, the completion refused (storage away): a HEAD completes it.
      const assemble = vi
        .spyOn(storage, 'completeMultipartUpload')
        .mockRejectedValueOnce(new StorageError('UNAVAILABLE', 'storage is away'));
      const first = await tusPatch(clinic.app, uploader, upload.location, 0, pdfBytes(1 * MIB));
      expect(first.statusCode, first.body).toBe(503);
      let entered!: () => void;
      const inStorage = new Promise<void>((resolve) => (entered = resolve));
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      assemble.mockImplementationOnce(async (...args) => {
        entered();
        await released;
        return real(...args);
      });
      const completing = tusHead(clinic.app, uploader, upload.location);
      await inStorage;
      // The completion has run as long as a dead writer's mark is old.
      await clinic.db
        .updateTable('upload_sessions')
        .set({ writer_since: sql<Date>`now() - interval '25 seconds'` })
        .where('id', '=', upload.sessionId)
        .execute();
      const age = async () =>
        Number(
          (
            await clinic.db
              .selectFrom('upload_sessions')
              .select(sql<string>`extract(epoch from now() - writer_since)`.as('age'))
              .where('id', '=', upload.sessionId)
              .executeTakeFirstOrThrow()
          ).age,
        );
      // Renewed within a heartbeat: the mark is live again.
      const renewed = await askUntil(age, (seconds) => seconds < 20, WRITER_HEARTBEAT_MS + 5_000);
      expect(renewed.answer).toBeLessThan(20);
      const retry = await tusHead(clinic.app, uploader, upload.location);
      expect(retry.statusCode).toBe(423);

      release();
      const done = await completing;
      expect(done.statusCode).toBe(200);
      expect(done.headers['haven-file-id']).toBeDefined();
      expect(await filesOf(upload.sessionId)).toBe(1);
      // Storage assembled the file once: no second completion ran beside the first.
      expect(assemble).toHaveBeenCalledTimes(2);
    });
  },
);
