// Owned buckets (V5, Z4, F1): controls an outside mutation hunt found no test for. A changed
// endpoint goes through the same outbound check as a new one; an organization's buckets are
// listed to its own members only; a bucket marked deleted takes no more bytes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { LOCAL_S3_CLINIC, addOwnedBucket } from '../owned-buckets.js';
import { startS3Server, type TestS3Server } from '../s3-server.js';
import { pdfBytes, tusCreate, tusPatch } from '../tus.js';

const s3: TestS3Server = await startS3Server('haven-controls');
afterAll(async () => {
  await s3.stop();
});

describeClinic('files: owned bucket controls', LOCAL_S3_CLINIC, (clinic) => {
  let owner: Actor;

  beforeAll(async () => {
    owner = await clinic.actor(['clinician']);
  });

  const create = (actor: Actor, overrides: Record<string, unknown> = {}) =>
    addOwnedBucket(clinic, actor, s3, overrides);

  it('V5/F1: changing only the endpoint of a bucket to the metadata address is refused, nothing changes', async () => {
    const id = await create(owner);
    const [before] = await clinic.rows('buckets', { id });
    const refused = await clinic.call(owner, 'PATCH', `/api/files/buckets/${id}`, {
      endpoint: 'http://169.254.169.254',
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'BUCKET_ENDPOINT_FORBIDDEN' });
    expect(refused.json().errors[0].field).toBe('endpoint');
    const [after] = await clinic.rows('buckets', { id });
    expect(after!.endpoint).toBe(before!.endpoint);
    expect(await clinic.rows('audit_events', { action: 'bucket.update', target_id: id })).toEqual(
      [],
    );
  });

  it("Z4: an organization's buckets are listed to its members only, never to another organization's", async () => {
    const admin = await clinic.actor(['clinician']);
    const member = await clinic.actor(['clinician']);
    const outsider = await clinic.actor(['clinician']);
    const organizationId = await clinic.organization({
      members: [
        [admin, 'org_admin'],
        [member, 'clinician'],
      ],
    });
    // The outsider belongs to an organization of their own, where they are a clinician.
    await clinic.organization({ members: [[outsider, 'clinician']] });
    const id = await create(admin, { organizationId });
    const listed = async (actor: Actor) => {
      const answer = await clinic.call(actor, 'GET', '/api/files/buckets');
      expect(answer.statusCode, answer.body).toBe(200);
      return answer.json<{ buckets: Array<{ id: string }> }>().buckets.map((bucket) => bucket.id);
    };
    expect(await listed(admin)).toContain(id);
    expect(await listed(member)).toContain(id);
    expect(await listed(outsider)).not.toContain(id);
    expect(await listed(owner)).not.toContain(id);
  });

  it('F1: an open upload whose bucket was marked deleted takes no more bytes (409 BUCKET_INACTIVE)', async () => {
    const id = await create(owner);
    const body = pdfBytes(4096);
    const created = await tusCreate(clinic.app, owner, body.length, {
      filename: 'late.pdf',
      bucketId: id,
    });
    expect(created.statusCode, created.body).toBe(201);
    const location = String(created.headers.location);
    // The mark as a deletion racing an open upload would leave it (the API refuses while open).
    await clinic.db
      .updateTable('buckets')
      .set({ deleted_at: new Date(), deleted_by: owner.userId })
      .where('id', '=', id)
      .execute();
    const refused = await tusPatch(clinic.app, owner, location, 0, body);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'BUCKET_INACTIVE' });
    expect(await clinic.rows('files', { bucket_id: id })).toEqual([]);
  });
});
