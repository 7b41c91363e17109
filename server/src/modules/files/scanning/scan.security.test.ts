// Threats against what an upload becomes (F3, F4, F5, F6), with a real clamd and its EICAR test
// signature: malware, a program named as a PDF, EICAR renamed .dcm, a scanner that is away, a
// storage that does not confirm encryption — none of them may ever be downloadable. A clean file
// is, through a short-lived link signed for its caller only.
import { createHmac } from 'node:crypto';
import pino from 'pino';
import { beforeAll, expect, it } from 'vitest';
import { usePrivateClamd } from '../../../../test/clamd-hooks.js';
import { EICAR, EICAR_SIGNATURE } from '../../../../test/clamd-server.js';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import { pdfBytes, tusUpload } from '../../../../test/tus.js';
import type { MailMessage } from '../../../platform/mail.js';
import { createClamdClient } from '../../../platform/scanning/clamd.js';
import type { ObjectStorage } from '../../../platform/storage/index.js';
import { ScanRetryError, enqueuePendingScans, scanFile, type ScanDependencies } from '../index.js';

const log = pino({ level: 'silent' });
const clamdAddress = usePrivateClamd();

const ELF = Buffer.concat([
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00]),
  Buffer.alloc(4000, 1),
]);

describeClinic('files: scanning and downloads', (clinic) => {
  let owner: Actor;
  let colleague: Actor;
  let outsider: Actor;
  const mail: MailMessage[] = [];

  function deps(overrides: Partial<ScanDependencies> = {}): ScanDependencies {
    return {
      storage: clinic.app.fileServices.storage,
      scanner: createClamdClient({ address: clamdAddress() }),
      mailer: { send: async (message) => void mail.push(message), close: async () => undefined },
      publicOrigin: 'https://haven.example',
      ...overrides,
    };
  }

  async function upload(actor: Actor, name: string, body: Buffer): Promise<string> {
    const { last } = await tusUpload(clinic.app, actor, body, { filename: name });
    expect(last.statusCode).toBe(204);
    return String(last.headers['haven-file-id']);
  }
  async function fileOf(actor: Actor, fileId: string) {
    const res = await clinic.call(actor, 'GET', `/api/files/${fileId}`);
    expect(res.statusCode).toBe(200);
    return res.json().file as { status: string; statusText: string | null; downloadable: boolean };
  }
  async function linkFor(actor: Actor, fileId: string) {
    return clinic.call(actor, 'POST', `/api/files/${fileId}/download-link`, {});
  }

  beforeAll(async () => {
    owner = await clinic.actor(['clinician']);
    colleague = await clinic.actor(['clinician']);
    outsider = await clinic.actor(['clinician']);
    await clinic.organization({
      members: [
        [owner, 'clinician'],
        [colleague, 'clinician'],
      ],
    });
  });

  it('F5: a clean PDF becomes downloadable, as an attachment, through a link of at most 5 minutes', async () => {
    const body = pdfBytes(300_000);
    const fileId = await upload(owner, 'clean.pdf', body);
    expect((await linkFor(owner, fileId)).statusCode).toBe(409);
    await scanFile(clinic.db, deps(), fileId, log);
    expect(await fileOf(owner, fileId)).toMatchObject({ status: 'clean', downloadable: true });

    const link = await linkFor(owner, fileId);
    expect(link.statusCode).toBe(200);
    const { url, expiresAt } = link.json<{ url: string; expiresAt: string }>();
    const lifetime = Date.parse(expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThanOrEqual(300_000);
    const content = await clinic.app.inject({
      method: 'GET',
      url,
      headers: { authorization: owner.authorization },
    });
    expect(content.statusCode).toBe(200);
    expect(content.rawPayload.equals(body)).toBe(true);
    expect(content.headers['content-disposition']).toMatch(/^attachment; filename="clean\.pdf"/);
    expect(content.headers['cache-control']).toBe('private, no-store');

    const range = await clinic.app.inject({
      method: 'GET',
      url,
      headers: { authorization: owner.authorization, range: 'bytes=0-99' },
    });
    expect(range.statusCode).toBe(206);
    expect(range.rawPayload.equals(body.subarray(0, 100))).toBe(true);
    const beyond = await clinic.app.inject({
      method: 'GET',
      url,
      headers: { authorization: owner.authorization, range: 'bytes=999999999-' },
    });
    expect(beyond.statusCode).toBe(416);

    const audited = await clinic.rows('audit_events', {
      action: 'file.download',
      target_id: fileId,
    });
    expect(audited.length).toBe(2);
  });

  it('F6: a link works only for the caller it was signed for, unaltered and unexpired', async () => {
    const fileId = await upload(owner, 'signed.pdf', pdfBytes(5000));
    await scanFile(clinic.db, deps(), fileId, log);
    const { url } = (await linkFor(owner, fileId)).json<{ url: string }>();
    const as = (actor: Actor, target: string) =>
      clinic.app.inject({
        method: 'GET',
        url: target,
        headers: { authorization: actor.authorization },
      });
    // Someone else presenting the owner's link: unrelated → 404 (Z4).
    expect((await as(outsider, url)).statusCode).toBe(404);
    const tampered = url.replace(/signature=.{5}/, 'signature=AAAAA');
    expect((await as(owner, tampered)).statusCode).toBe(403);
    const expires = Math.floor(Date.now() / 1000) - 1;
    const signature = createHmac('sha256', clinic.app.fileServices.downloadKey)
      .update(`haven-file-download\n${fileId}\n${owner.userId}\n${expires}`)
      .digest('base64url');
    const expired = `/api/files/${fileId}/content?expires=${expires}&signature=${signature}`;
    expect((await as(owner, expired)).statusCode).toBe(403);
    expect((await clinic.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    expect((await as(owner, url)).statusCode).toBe(200);
  });

  it('F5: EICAR in a text file is quarantined, audited, the owner told, and never downloadable', async () => {
    const fileId = await upload(owner, 'notes.txt', Buffer.from(`lab notes\n${EICAR}\n`));
    await scanFile(clinic.db, deps(), fileId, log);
    const file = await fileOf(owner, fileId);
    expect(file).toMatchObject({ status: 'quarantined', downloadable: false });
    expect(file.statusText).toContain(EICAR_SIGNATURE);
    expect((await linkFor(owner, fileId)).statusCode).toBe(409);
    const events = await clinic.rows('audit_events', {
      action: 'file.quarantine',
      target_id: fileId,
    });
    expect(events).toHaveLength(1);
    expect(mail.some((m) => m.text.includes(fileId))).toBe(true);
  });

  it('F3: EICAR renamed .dcm and a program named .pdf are quarantined by their stored bytes', async () => {
    const eicarDcm = await upload(owner, 'scan.dcm', Buffer.from(EICAR));
    const elfPdf = await upload(owner, 'report.pdf', ELF);
    for (const fileId of [eicarDcm, elfPdf]) {
      await scanFile(clinic.db, deps(), fileId, log);
      expect(await fileOf(owner, fileId)).toMatchObject({ status: 'quarantined' });
      expect((await linkFor(owner, fileId)).statusCode).toBe(409);
    }
    const [row] = await clinic.rows('files', { id: elfPdf });
    expect(row?.status_reason).toBe('type_mismatch:elf');
  });

  it('F5: an unreachable scanner leaves the file scanning (retried), never downloadable', async () => {
    const fileId = await upload(owner, 'waiting.pdf', pdfBytes(2000));
    const away = createClamdClient({
      address: { host: '127.0.0.1', port: 1 },
      connectTimeoutMs: 500,
    });
    await expect(scanFile(clinic.db, deps({ scanner: away }), fileId, log)).rejects.toBeInstanceOf(
      ScanRetryError,
    );
    await scanFile(clinic.db, deps({ scanner: undefined }), fileId, log);
    expect(await fileOf(owner, fileId)).toMatchObject({ status: 'scanning', downloadable: false });
    expect((await linkFor(owner, fileId)).statusCode).toBe(409);
  });

  it('F5: files left waiting (no job: scanner configured later) are queued again by the sweep', async () => {
    const fileId = await upload(owner, 'later.pdf', pdfBytes(2000));
    await clinic.db.deleteFrom('jobs').where('singleton_key', '=', fileId).execute();
    expect(await enqueuePendingScans(clinic.db, deps({ scanner: undefined }), log)).toBe(0);
    expect(await enqueuePendingScans(clinic.db, deps(), log)).toBeGreaterThanOrEqual(1);
    expect(await clinic.rows('jobs', { singleton_key: fileId, queue: 'files.scan' })).toHaveLength(
      1,
    );
    await enqueuePendingScans(clinic.db, deps(), log);
    expect(await clinic.rows('jobs', { singleton_key: fileId, queue: 'files.scan' })).toHaveLength(
      1,
    );
  });

  it('F4: storage that does not confirm the encryption quarantines the file', async () => {
    const fileId = await upload(owner, 'plain.pdf', pdfBytes(2000));
    const real = clinic.app.fileServices.storage;
    const unencrypted: ObjectStorage = Object.assign(Object.create(real) as ObjectStorage, {
      headObject: async (key: string) => {
        const head = await real.headObject(key);
        return head && { ...head, serverSideEncryption: undefined };
      },
    });
    await scanFile(clinic.db, deps({ storage: unencrypted }), fileId, log);
    const [row] = await clinic.rows('files', { id: fileId });
    expect(row).toMatchObject({ status: 'quarantined', status_reason: 'encryption_mismatch' });
  });

  it('Z4: a colleague without the record sees nothing of a personal file', async () => {
    const fileId = await upload(owner, 'personal.pdf', pdfBytes(2000));
    expect((await clinic.call(colleague, 'GET', `/api/files/${fileId}`)).statusCode).toBe(404);
    expect((await linkFor(colleague, fileId)).statusCode).toBe(404);
    expect((await clinic.call(colleague, 'DELETE', `/api/files/${fileId}`)).statusCode).toBe(404);
  });
});
