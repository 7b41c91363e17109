// Z4 / F1: organization memberships could outlive account role changes (an admin's PUT
// /api/admin/users/:id/roles left them; it now refuses), so a membership must count for an organization's
// storage only while the account is staff. An org admin whose account an admin made a patient
// keeps the org_admin membership row, and the patient role holds files:read and files:write, the
// only scopes the bucket routes ask for: without the staff check they still read, change, delete
// and add the organization's buckets.
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { mintSession, type Actor } from '../actors.js';
import { describeClinic } from '../clinical-actors.js';

describeClinic('organization buckets after an account role change (Z4)', (clinic) => {
  let organizationId: string;
  let bucketId: string;
  let formerAdmin: Actor;
  let orgAdmin: Actor;

  /** An organization bucket row as the create route leaves it (no storage reached). */
  async function insertOrganizationBucket(createdBy: string): Promise<string> {
    const id = randomUUID();
    const sealed = clinic.app.fileServices.buckets.sealCredentials(id, {
      accessKeyId: 'AKIASTALE00000000000',
      secretAccessKey: 'stale-secret',
    });
    await clinic.db
      .insertInto('buckets')
      .values({
        id,
        owner_user_id: null,
        owner_organization_id: organizationId,
        endpoint: 'https://s3.eu-central-1.amazonaws.com',
        region: 'eu-central-1',
        bucket_name: 'stale-membership-bucket',
        path_style: false,
        access_key_hint: '0000',
        credentials_sealed: sealed.sealed,
        credentials_key_id: sealed.keyId,
        sse_mode: 'AES256',
        kms_key_id: null,
        size_limit_bytes: null,
        created_by: createdBy,
        updated_by: createdBy,
      })
      .execute();
    return id;
  }

  beforeAll(async () => {
    orgAdmin = await clinic.actor(['clinician']);
    const leaving = await clinic.actor(['clinician']);
    organizationId = await clinic.organization({
      members: [
        [orgAdmin, 'org_admin'],
        [leaving, 'org_admin'],
      ],
    });
    bucketId = await insertOrganizationBucket(leaving.userId);
    // The departing org admin's account made a patient while the membership stays. The admin
    // API now refuses that change until the membership is gone (role-change-memberships test);
    // the row is written directly, as a membership left from before that rule or a database
    // edit would leave it: the access check must hold on its own.
    await clinic.db
      .updateTable('users')
      .set({ roles: ['patient'] })
      .where('id', '=', leaving.userId)
      .execute();
    // The membership row is still there: that is the state under test.
    expect(await clinic.rows('organization_members', { user_id: leaving.userId })).toHaveLength(1);
    // Their next sign-in, with MFA so that step-up is no obstacle.
    formerAdmin = await mintSession(clinic.app, { ...leaving, roles: ['patient'] });
  });

  it('Z4/stale-membership: an org admin made a patient neither sees, changes nor deletes the organization’s bucket (404)', async () => {
    const read = await clinic.call(formerAdmin, 'GET', `/api/files/buckets/${bucketId}`);
    expect(read.statusCode, read.body).toBe(404);
    const list = await clinic.call(formerAdmin, 'GET', '/api/files/buckets');
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json<{ buckets: Array<{ id: string }> }>().buckets.map((b) => b.id)).toEqual([
      'default',
    ]);
    const patch = await clinic.call(formerAdmin, 'PATCH', `/api/files/buckets/${bucketId}`, {
      notes: 'changed by a patient',
    });
    expect(patch.statusCode, patch.body).toBe(404);
    const removed = await clinic.call(formerAdmin, 'DELETE', `/api/files/buckets/${bucketId}`);
    expect(removed.statusCode, removed.body).toBe(404);
    const [row] = await clinic.rows('buckets', { id: bucketId });
    expect(row).toMatchObject({ deleted_at: null });
    expect(row?.['notes']).not.toBe('changed by a patient');
  });

  it('Z4/stale-membership: an org admin made a patient adds no bucket to the organization (404)', async () => {
    const created = await clinic.call(formerAdmin, 'POST', '/api/files/buckets', {
      organizationId,
      name: 'another-bucket',
      endpoint: 'https://s3.eu-central-1.amazonaws.com',
      region: 'eu-central-1',
      accessKeyId: 'AKIASTALE00000000001',
      secretAccessKey: 'stale-secret',
      sseMode: 'AES256',
      notes: '',
    });
    expect(created.statusCode, created.body).toBe(404);
    expect(created.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('Z4/stale-membership: the organization’s own admin still reads and lists the bucket', async () => {
    const read = await clinic.call(orgAdmin, 'GET', `/api/files/buckets/${bucketId}`);
    expect(read.statusCode, read.body).toBe(200);
    const list = await clinic.call(orgAdmin, 'GET', '/api/files/buckets');
    expect(list.json<{ buckets: Array<{ id: string }> }>().buckets.map((b) => b.id)).toContain(
      bucketId,
    );
  });
});
