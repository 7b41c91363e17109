// The file catalogue (L3, Z4, F6): controls an outside mutation hunt found no test for. Deleting
// a file is an audit event of its own, once, and removes its bytes from storage, not only its
// row from view; and a deleted file is gone for everyone who could see it: no view, no new link,
// no download through a link taken before.
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { insertStoredFile } from '../security/files-matrix.table.js';

describeClinic('files: catalogue controls', (clinic) => {
  let uploader: Actor;
  let colleague: Actor;
  let patient: Actor;
  let organizationId: string;
  let patientId: string;

  beforeAll(async () => {
    uploader = await clinic.actor(['clinician']);
    colleague = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({
      members: [
        [uploader, 'clinician'],
        [colleague, 'clinician'],
      ],
    });
    const portal = await clinic.portalPatient(organizationId);
    patient = portal.patient;
    patientId = portal.patientId;
  });

  /** A clean file the uploader attached to the patient's record. */
  const attachedFile = () =>
    insertStoredFile(clinic.db, clinic.app.fileServices.storage, {
      ownerId: uploader.userId,
      patient: { patientId, organizationId },
    });

  async function linkFor(actor: Actor, fileId: string): Promise<string> {
    const response = await clinic.call(actor, 'POST', `/api/files/${fileId}/download-link`, {});
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ url: string }>().url;
  }

  it('L3/F7: deleting a file is audited once, naming the uploader and the file, and its bytes leave storage', async () => {
    const fileId = await attachedFile();
    const [row] = await clinic.rows('files', { id: fileId });
    const key = String(row!.object_key);
    const storage = clinic.app.fileServices.storage;
    expect(await storage.headObject(key)).toBeDefined();

    expect((await clinic.call(uploader, 'DELETE', `/api/files/${fileId}`)).statusCode).toBe(204);
    const events = await clinic.rows('audit_events', { action: 'file.delete', target_id: fileId });
    expect(events).toEqual([
      expect.objectContaining({ actor_type: 'user', actor_id: uploader.userId }),
    ]);
    expect(await storage.headObject(key)).toBeUndefined();

    // A second delete finds nothing to delete, and records nothing.
    expect((await clinic.call(uploader, 'DELETE', `/api/files/${fileId}`)).statusCode).toBe(404);
    expect(
      await clinic.rows('audit_events', { action: 'file.delete', target_id: fileId }),
    ).toHaveLength(1);
  });

  it('Z4: a deleted file is gone for everyone: no view, no new link, and a link taken before no longer opens it', async () => {
    const fileId = await attachedFile();
    const links = new Map<Actor, string>();
    for (const actor of [uploader, colleague, patient]) {
      links.set(actor, await linkFor(actor, fileId));
    }
    expect((await clinic.call(uploader, 'DELETE', `/api/files/${fileId}`)).statusCode).toBe(204);
    for (const actor of [uploader, colleague, patient]) {
      expect((await clinic.call(actor, 'GET', `/api/files/${fileId}`)).statusCode).toBe(404);
      const link = await clinic.call(actor, 'POST', `/api/files/${fileId}/download-link`, {});
      expect(link.statusCode).toBe(404);
      expect((await clinic.call(actor, 'GET', links.get(actor)!)).statusCode).toBe(404);
      const listed = await clinic.call(actor, 'GET', `/api/files?patientId=${patientId}`);
      expect(listed.statusCode).toBe(200);
      expect(listed.body).not.toContain(fileId);
    }
  });
});
