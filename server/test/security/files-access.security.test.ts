// Who opens one medical file's bytes (Z4, F6), end to end through the signed download link, and
// the tus HEAD route the authorization matrix cannot list (app.routeTable leaves explicit HEAD
// routes out). A link is signed for one person and one file and lives two minutes: it is no key
// for anyone else, for another file, or after it expires; people unrelated to the file get the
// 404 of a missing one, people without the files scopes 403.
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeAll, expect, it, vi } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { mintSession } from '../actors.js';
import { insertOpenUpload, insertStoredFile } from './files-matrix.table.js';

function expectProblem(response: LightMyRequestResponse, status: number, code: string): void {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json<{ code: string }>().code).toBe(code);
}

describeClinic('files: who opens a file (Z4, F6)', (clinic) => {
  let owner: Actor;
  let staff: Actor;
  let patient: Actor;
  let loneClinician: Actor;
  let otherOrgClinician: Actor;
  let admin: Actor;
  let fileId: string;
  let personalFileId: string;
  let organizationId: string;

  const storage = () => clinic.app.fileServices.storage;

  async function linkFor(actor: Actor, id = fileId): Promise<LightMyRequestResponse> {
    return clinic.call(actor, 'POST', `/api/files/${id}/download-link`, {});
  }

  async function ownLink(actor: Actor, id = fileId): Promise<string> {
    const response = await linkFor(actor, id);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ url: string }>().url;
  }

  beforeAll(async () => {
    owner = await clinic.actor(['clinician']);
    staff = await clinic.actor(['clinician']);
    otherOrgClinician = await clinic.actor(['clinician']);
    // A clinician of no organization: no relationship to anything.
    loneClinician = await clinic.actor(['clinician']);
    admin = await clinic.actor(['admin']);
    organizationId = await clinic.organization({
      members: [
        [owner, 'clinician'],
        [staff, 'clinician'],
      ],
    });
    await clinic.organization({ members: [[otherOrgClinician, 'clinician']] });
    const portal = await clinic.portalPatient(organizationId);
    patient = portal.patient;
    fileId = await insertStoredFile(clinic.db, storage(), {
      ownerId: owner.userId,
      patient: { patientId: portal.patientId, organizationId },
    });
    personalFileId = await insertStoredFile(clinic.db, storage(), { ownerId: owner.userId });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('F6: the uploader, staff of the organization and the patient download with their own link', async () => {
    for (const actor of [owner, staff, patient]) {
      const response = await clinic.call(actor, 'GET', await ownLink(actor));
      expect(response.statusCode, response.body).toBe(200);
      expect(response.body.startsWith('%PDF-')).toBe(true);
      expect(response.headers['content-disposition']).toMatch(/^attachment/);
      expect(response.headers['cache-control']).toBe('private, no-store');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      // The pages may frame Haven's own documents (the upload relay); a download is not one.
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(response.headers['content-security-policy']).toContain('sandbox');
    }
  });

  it('Z4: a clinician of no organization gets 404 for the link and for the owner’s link', async () => {
    expectProblem(await linkFor(loneClinician), 404, 'NOT_FOUND');
    expectProblem(await clinic.call(loneClinician, 'GET', await ownLink(owner)), 404, 'NOT_FOUND');
  });

  it('Z4: another organization’s clinician gets 404 for the link and for the owner’s link', async () => {
    expectProblem(await linkFor(otherOrgClinician), 404, 'NOT_FOUND');
    expectProblem(
      await clinic.call(otherOrgClinician, 'GET', await ownLink(owner)),
      404,
      'NOT_FOUND',
    );
  });

  it('Z4: staff of the organization and the patient do not reach the owner’s personal file', async () => {
    for (const actor of [staff, patient]) {
      expectProblem(await linkFor(actor, personalFileId), 404, 'NOT_FOUND');
    }
  });

  it('Z1: an admin (no files scopes) gets 403 for the link and for the owner’s link', async () => {
    expectProblem(await linkFor(admin), 403, 'FORBIDDEN');
    expectProblem(await clinic.call(admin, 'GET', await ownLink(owner)), 403, 'FORBIDDEN');
  });

  it('F6: a link signed for someone else is refused (403), even to people who may read the file', async () => {
    const ownersLink = await ownLink(owner);
    for (const actor of [staff, patient]) {
      expectProblem(await clinic.call(actor, 'GET', ownersLink), 403, 'FORBIDDEN');
    }
  });

  it('F6: a link for one file does not open another file of the same owner', async () => {
    const link = (await ownLink(owner)).replace(fileId, personalFileId);
    expectProblem(await clinic.call(owner, 'GET', link), 403, 'FORBIDDEN');
  });

  it('F6: a tampered expiry invalidates the signature', async () => {
    const link = new URL(await ownLink(owner), 'http://haven.test');
    link.searchParams.set('expires', String(Number(link.searchParams.get('expires')) + 3600));
    expectProblem(
      await clinic.call(owner, 'GET', `${link.pathname}${link.search}`),
      403,
      'FORBIDDEN',
    );
  });

  it('F6/access ended: a link taken while its holder could read the file opens nothing once they leave the organization', async () => {
    const leaver = await clinic.actor(['clinician']);
    const orgAdmin = await clinic.actor(['clinician']);
    await clinic.addMember(organizationId, leaver, 'clinician');
    await clinic.addMember(organizationId, orgAdmin, 'org_admin');
    const link = await ownLink(leaver);
    const removed = await clinic.call(
      orgAdmin,
      'DELETE',
      `/api/organizations/${organizationId}/members/${leaver.userId}`,
    );
    expect(removed.statusCode, removed.body).toBe(204);
    // Unexpired and signed for them, but the file is no longer theirs to read: the 404 of a
    // file they cannot see, no bytes, no download event.
    const response = await clinic.call(leaver, 'GET', link);
    expectProblem(response, 404, 'NOT_FOUND');
    expect(response.body).not.toContain('%PDF-');
    const downloads = await clinic.db
      .selectFrom('audit_events')
      .select('id')
      .where('action', '=', 'file.download')
      .where('actor_id', '=', leaver.userId)
      .execute();
    expect(downloads).toEqual([]);
  });

  it('F6: an expired link is refused (403) with a fresh session of the same person', async () => {
    const link = await ownLink(owner);
    // Past the link's two minutes; only Date is faked, so the database and timers run as usual.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3 * 60_000 });
    const later = await mintSession(clinic.app, owner);
    expectProblem(await clinic.call(later, 'GET', link), 403, 'FORBIDDEN');
  });

  it('Z4: tus HEAD answers the uploader only; others 404, no scope 403, no credentials 401', async () => {
    const uploadId = await insertOpenUpload(clinic.db, storage(), { ownerId: owner.userId });
    const head = (actor: Actor | null) =>
      clinic.app.inject({
        method: 'HEAD',
        url: `/api/files/uploads/${uploadId}`,
        headers: {
          'tus-resumable': '1.0.0',
          ...(actor ? { authorization: actor.authorization } : {}),
        },
      });
    const mine = await head(owner);
    expect(mine.statusCode).toBe(200);
    expect(mine.headers['upload-offset']).toBe('0');
    for (const actor of [staff, patient, otherOrgClinician, loneClinician]) {
      expect((await head(actor)).statusCode).toBe(404);
    }
    expect((await head(admin)).statusCode).toBe(403);
    expect((await head(null)).statusCode).toBe(401);
  });
});
