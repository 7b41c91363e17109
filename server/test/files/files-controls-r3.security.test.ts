// The files module (Z4, F5, F6): controls a third mutation hunt found no test for. A record's
// file list goes only to those who may read the record, a file is attached only by those who may
// write it, and the list of unfinished uploads is the caller's own; only the uploader deletes a
// file. The scanner reads the whole stored object, so malware past the first bytes is found; a
// file the scanner could not read whole is quarantined, never released; a file deleted while it
// was being scanned stays deleted.
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { beforeAll, expect, it } from 'vitest';
import { usePrivateClamd } from '../clamd-hooks.js';
import { EICAR, EICAR_SIGNATURE } from '../clamd-server.js';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { insertStoredFile } from '../security/files-matrix.table.js';
import { pdfBytes, TUS_ENDPOINT, tusCreate, tusUpload } from '../tus.js';
import { scanFile, type ScanDependencies } from '../../src/modules/files/index.js';
import { issueAccessToken } from '../../src/modules/identity/index.js';
import { createClamdClient, type ClamdClient } from '../../src/platform/scanning/clamd.js';

const log = pino({ level: 'silent' });
const clamdAddress = usePrivateClamd();

/** The actor's own session, with an access token that carries only `scopes`. */
async function withScopes(
  app: FastifyInstance,
  actor: Actor,
  scopes: readonly string[],
): Promise<{ authorization: string }> {
  const identity = app.identity!;
  const seconds = Math.floor(Date.now() / 1000);
  const { token } = await issueAccessToken({
    keys: identity.keys,
    issuer: identity.issuer,
    audience: identity.audience,
    subject: actor.userId,
    sessionId: actor.sessionId,
    scopes: [...scopes],
    amr: ['pwd', 'otp'],
    authTime: seconds,
    mfaAt: seconds,
  });
  return { authorization: `Bearer ${token}` };
}

describeClinic('files: controls (third hunt)', (clinic) => {
  let uploader: Actor;
  let organizationId: string;
  let patientId: string;

  beforeAll(async () => {
    uploader = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({ members: [[uploader, 'clinician']] });
    patientId = (await clinic.portalPatient(organizationId)).patientId;
  });

  function deps(overrides: Partial<ScanDependencies> = {}): ScanDependencies {
    return {
      storage: clinic.app.fileServices.storage,
      scanner: createClamdClient({ address: clamdAddress() }),
      mailer: undefined,
      publicOrigin: 'https://haven.example',
      ...overrides,
    };
  }

  async function upload(actor: Actor, name: string, body: Buffer): Promise<string> {
    const { last } = await tusUpload(clinic.app, actor, body, { filename: name });
    expect(last.statusCode, last.body).toBe(204);
    return String(last.headers['haven-file-id']);
  }

  it("Z4/files of a record: staff of another organization and another patient get the record's 404, not its file list", async () => {
    const fileId = await insertStoredFile(clinic.db, clinic.app.fileServices.storage, {
      ownerId: uploader.userId,
      patient: { patientId, organizationId },
    });
    const mine = await clinic.call(uploader, 'GET', `/api/files?patientId=${patientId}`);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.body).toContain(fileId);

    const stranger = await clinic.actor(['clinician']);
    await clinic.organization({ members: [[stranger, 'clinician']] });
    const otherPatient = (await clinic.portalPatient(organizationId)).patient;
    for (const outsider of [stranger, otherPatient]) {
      const listed = await clinic.call(outsider, 'GET', `/api/files?patientId=${patientId}`);
      expect(listed.statusCode, listed.body).toBe(404);
      expect(listed.body).not.toContain(fileId);
      expect(listed.body).not.toContain('matrix-file.pdf');
    }
  });

  it('F5/whole object: malware far past the first bytes of a PDF is found and quarantined, never downloadable', async () => {
    const body = pdfBytes(300_000);
    Buffer.from(EICAR).copy(body, 200_000);
    const fileId = await upload(uploader, 'referral.pdf', body);
    await scanFile(clinic.db, deps(), fileId, log);
    const [row] = await clinic.rows('files', { id: fileId });
    expect(row).toMatchObject({ status: 'quarantined' });
    expect(String(row!.status_reason)).toContain(EICAR_SIGNATURE);
    const link = await clinic.call(uploader, 'POST', `/api/files/${fileId}/download-link`, {});
    expect(link.statusCode).toBe(409);
  });

  it('F5/settle: a file deleted while it was being scanned stays deleted, whatever the scanner then says', async () => {
    const fileId = await upload(uploader, 'deleted-mid-scan.pdf', pdfBytes(5000));
    const deletingScanner: ClamdClient = {
      scan: async (source) => {
        for await (const chunk of source) void chunk;
        const deleted = await clinic.call(uploader, 'DELETE', `/api/files/${fileId}`);
        expect(deleted.statusCode, deleted.body).toBe(204);
        return { verdict: 'clean' };
      },
      probe: async () => ({ ok: true, version: 'test scanner' }),
    };
    await scanFile(clinic.db, deps({ scanner: deletingScanner }), fileId, log);
    const [row] = await clinic.rows('files', { id: fileId });
    expect(row).toMatchObject({ status: 'deleted' });
    expect((await clinic.call(uploader, 'GET', `/api/files/${fileId}`)).statusCode).toBe(404);
    const link = await clinic.call(uploader, 'POST', `/api/files/${fileId}/download-link`, {});
    expect(link.statusCode).toBe(404);
    expect(
      await clinic.rows('audit_events', { action: 'file.scan.clean', target_id: fileId }),
    ).toEqual([]);
  });

  it('F5/no full scan, no release: a file larger than the scanner takes whole is quarantined, never clean', async () => {
    const fileId = await upload(uploader, 'large-scan.pdf', pdfBytes(20_000));
    const limited = createClamdClient({
      address: clamdAddress(),
      streamMaxBytes: 10_000,
    });
    await scanFile(clinic.db, deps({ scanner: limited }), fileId, log);
    const [row] = await clinic.rows('files', { id: fileId });
    expect(row).toMatchObject({ status: 'quarantined' });
    expect(String(row!.status_reason)).toMatch(/^not_scannable:/);
    const link = await clinic.call(uploader, 'POST', `/api/files/${fileId}/download-link`, {});
    expect(link.statusCode).toBe(409);
  });

  it("F6/delete: only the uploader deletes a record's file; a colleague and the patient get 404 and it stays", async () => {
    const colleague = await clinic.actor(['clinician']);
    await clinic.addMember(organizationId, colleague, 'clinician');
    const portal = await clinic.portalPatient(organizationId);
    const fileId = await insertStoredFile(clinic.db, clinic.app.fileServices.storage, {
      ownerId: uploader.userId,
      patient: { patientId: portal.patientId, organizationId },
    });
    const [row] = await clinic.rows('files', { id: fileId });
    const key = String(row!.object_key);
    for (const other of [colleague, portal.patient]) {
      // Both may see and download it, and neither may delete it.
      expect((await clinic.call(other, 'GET', `/api/files/${fileId}`)).statusCode).toBe(200);
      const refused = await clinic.call(other, 'DELETE', `/api/files/${fileId}`);
      expect(refused.statusCode, refused.body).toBe(404);
    }
    expect(await clinic.rows('files', { id: fileId })).toEqual([
      expect.objectContaining({ status: 'clean' }),
    ]);
    expect(await clinic.app.fileServices.storage.headObject(key)).toBeDefined();
    expect(await clinic.rows('audit_events', { action: 'file.delete', target_id: fileId })).toEqual(
      [],
    );
  });

  it("Z4/unfinished uploads: the list of open uploads is the caller's own, never another person's file names", async () => {
    const neighbour = await clinic.actor(['clinician']);
    const started = await tusCreate(clinic.app, neighbour, 5000, {
      filename: 'neighbour-biopsy-report.pdf',
    });
    expect(started.statusCode, started.body).toBe(201);
    const theirId = String(started.headers.location).split('/').pop()!;
    const theirs = await clinic.call(neighbour, 'GET', TUS_ENDPOINT);
    expect(theirs.statusCode, theirs.body).toBe(200);
    expect(theirs.body).toContain(theirId);
    const mine = await clinic.call(uploader, 'GET', TUS_ENDPOINT);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.body).not.toContain(theirId);
    expect(mine.body).not.toContain('neighbour-biopsy-report');
  });

  it('Z4/attach needs write: staff who may read a record but not write it cannot attach a file to it (404)', async () => {
    const reader = await clinic.actor(['clinician']);
    await clinic.addMember(organizationId, reader, 'clinician');
    // The same person's session, its token carrying the record scopes for reading only.
    const readOnly = await withScopes(clinic.app, reader, [
      'files:read',
      'files:write',
      'patients:read',
    ]);
    const listed = await clinic.call(readOnly, 'GET', `/api/files?patientId=${patientId}`);
    expect(listed.statusCode, listed.body).toBe(200);
    const refused = await tusCreate(clinic.app, readOnly, 5000, {
      filename: 'attached.pdf',
      patientId,
    });
    expect(refused.statusCode, refused.body).toBe(404);
    expect(await clinic.rows('upload_sessions', { owner_id: reader.userId })).toEqual([]);
    // The full session attaches it.
    const allowed = await tusCreate(clinic.app, reader, 5000, {
      filename: 'attached.pdf',
      patientId,
    });
    expect(allowed.statusCode, allowed.body).toBe(201);
  });
});
