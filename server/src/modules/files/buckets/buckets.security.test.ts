// Owned storage buckets (F1, Z4, Z5, Z6, V5, S1) against a real S3-compatible server (fauxqs on
// 127.0.0.1). The app is built with the TEST-ONLY widening that lets bucket endpoints reach
// 127.0.0.1 (and plain http); the second block runs without it, as every deployment does.
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import { ownedBucketBody, startS3Server, type TestS3Server } from '../../../../test/s3-server.js';
import { pdfBytes, tusUpload } from '../../../../test/tus.js';
import { createOutboundGuard } from '../../../platform/http-client.js';
import { pinnedAgents } from '../../../platform/storage/pinned-agents.js';

const s3: TestS3Server = await startS3Server('haven-owned');
await s3.createBucket('haven-other');
afterAll(async () => {
  await s3.stop();
});

const ALLOW = {
  HAVEN_OUTBOUND_ALLOW_HOSTS: 'api.pwnedpasswords.com,127.0.0.1,localhost,10.0.0.7,169.254.169.254',
};
// Every log line the app writes, at every level: no secret may be among them (L2, F1).
const logLines: string[] = [];
const WIDENED = {
  bucketEndpointTestCidrs: ['127.0.0.1/32'],
  logger: pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) }),
} as const;

function bucketBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return ownedBucketBody(s3, { notes: 'Radiology archive', ...overrides });
}

const SECRET = s3.credentials.secretAccessKey;

describeClinic('files: owned buckets', { env: ALLOW, build: WIDENED }, (clinic) => {
  let owner: Actor;
  let stranger: Actor;

  beforeAll(async () => {
    owner = await clinic.actor(['clinician']);
    stranger = await clinic.actor(['clinician']);
  });

  async function create(actor: Actor, overrides: Record<string, unknown> = {}) {
    return clinic.call(actor, 'POST', '/api/files/buckets', bucketBody(overrides));
  }

  it('F1: a bucket is added after HeadBucket, its credentials never come back, the default is listed read-only', async () => {
    const created = await create(owner);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.body).not.toContain(SECRET);
    expect(created.body).not.toContain(s3.credentials.accessKeyId);
    const { bucket } = created.json<{ bucket: Record<string, unknown> }>();
    expect(bucket).toMatchObject({
      isDefault: false,
      readOnly: false,
      name: s3.bucket,
      accessKeyHint: s3.credentials.accessKeyId.slice(-4),
      owner: { type: 'user', id: owner.userId },
      canManage: true,
    });
    const list = await clinic.call(owner, 'GET', '/api/files/buckets');
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(SECRET);
    const buckets = list.json<{ buckets: Array<Record<string, unknown>> }>().buckets;
    expect(buckets[0]).toMatchObject({
      id: 'default',
      isDefault: true,
      readOnly: true,
      canManage: false,
    });
    expect(buckets.map((b) => b.id)).toContain(bucket.id);
    const one = await clinic.call(owner, 'GET', `/api/files/buckets/${String(bucket.id)}`);
    expect(one.statusCode).toBe(200);
    expect(one.body).not.toContain(SECRET);
  });

  it('S1/F1: sealed credentials in the database are not plaintext and name their key id', async () => {
    const created = await create(owner);
    const id = created.json<{ bucket: { id: string } }>().bucket.id;
    const [row] = await clinic.rows('buckets', { id });
    const sealed = String(row!.credentials_sealed);
    expect(sealed).not.toContain(SECRET);
    expect(sealed).not.toContain(s3.credentials.accessKeyId);
    expect(Buffer.from(sealed.split('.')[3] ?? '', 'base64url').toString('latin1')).not.toContain(
      SECRET,
    );
    expect(sealed.startsWith(`v1.${String(row!.credentials_key_id)}.`)).toBe(true);
  });

  it('F1: bad names and regions are refused with the field that is wrong', async () => {
    for (const name of [
      'ab',
      'UPPER',
      'my..bucket',
      '192.168.1.1',
      'xn--bucket',
      'data-s3alias',
      '-lead',
    ]) {
      const refused = await create(owner, { name });
      expect(refused.statusCode, name).toBe(400);
      expect(refused.json().errors, name).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'name' })]),
      );
    }
    const region = await create(owner, { region: 'Europe West!' });
    expect(region.statusCode).toBe(400);
    expect(region.json().errors[0].field).toBe('region');
    const awsRegion = await create(owner, { endpoint: 'https://s3.amazonaws.com', region: 'auto' });
    expect(awsRegion.statusCode).toBe(400);
    expect(awsRegion.json().errors[0].field).toBe('region');
    const endpoint = await create(owner, { endpoint: 'https://s3.example.com/path?x=1' });
    expect(endpoint.json().errors[0].field).toBe('endpoint');
  });

  it('F1: SSE-KMS without a KMS key id is refused (F4: the key is required)', async () => {
    const refused = await create(owner, { sseMode: 'aws:kms' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors[0]).toMatchObject({ field: 'kmsKeyId' });
    const stray = await create(owner, { sseMode: 'AES256', kmsKeyId: 'arn:aws:kms:x' });
    expect(stray.statusCode).toBe(400);
  });

  it('F1: a bucket HeadBucket cannot reach is refused with the reason (not found, unreachable)', async () => {
    const missing = await create(owner, { name: 'no-such-bucket' });
    expect(missing.statusCode).toBe(422);
    expect(missing.json()).toMatchObject({ code: 'BUCKET_UNREACHABLE' });
    expect(missing.json().detail).toMatch(/^Not found/);
    const dead = await create(owner, { endpoint: 'http://127.0.0.1:9' });
    expect(dead.statusCode).toBe(422);
    expect(dead.json().detail).toMatch(/^Unreachable/);
    expect(dead.body).not.toContain(SECRET);
  });

  it('V5: the metadata address is refused even inside the test widening', async () => {
    const refused = await create(owner, { endpoint: 'http://169.254.169.254' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'BUCKET_ENDPOINT_FORBIDDEN' });
    expect(refused.json().errors[0].field).toBe('endpoint');
  });

  it('Z5: adding or changing a bucket needs a fresh MFA check, and each change is audited', async () => {
    const stale = await clinic.actor(['clinician'], { mfa: false });
    const refused = await create(stale);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'STEP_UP_REQUIRED' });
    const created = await create(owner);
    const id = created.json<{ bucket: { id: string } }>().bucket.id;
    const otherOwner = await clinic.rows('buckets', { id });
    expect(otherOwner).toHaveLength(1);
    const patchStale = await clinic.call(stale, 'PATCH', `/api/files/buckets/${id}`, {
      notes: 'x',
    });
    expect(patchStale.statusCode).toBe(403);
    const changed = await clinic.call(owner, 'PATCH', `/api/files/buckets/${id}`, {
      accessKeyId: 'AKIANEWKEY0000001234',
      secretAccessKey: 'rotated-secret-value',
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.body).not.toContain('rotated-secret-value');
    expect(changed.json().bucket.accessKeyHint).toBe('1234');
    const deleted = await clinic.call(owner, 'DELETE', `/api/files/buckets/${id}`);
    expect(deleted.statusCode).toBe(204);
    for (const action of ['bucket.create', 'bucket.update', 'bucket.delete']) {
      const events = await clinic.rows('audit_events', { action, target_id: id });
      expect(events, action).toHaveLength(1);
      expect(JSON.stringify(events[0]!.details)).not.toContain('rotated-secret-value');
    }
  });

  it('Z6: the system default bucket cannot be edited or deleted', async () => {
    const patched = await clinic.call(owner, 'PATCH', '/api/files/buckets/default', {
      notes: 'mine',
    });
    expect(patched.statusCode).toBe(403);
    expect(patched.json()).toMatchObject({ code: 'BUCKET_READ_ONLY' });
    const deleted = await clinic.call(owner, 'DELETE', '/api/files/buckets/default');
    expect(deleted.statusCode).toBe(403);
    expect(deleted.json()).toMatchObject({ code: 'BUCKET_READ_ONLY' });
    const still = await clinic.call(owner, 'GET', '/api/files/buckets/default');
    expect(still.json().bucket).toMatchObject({ id: 'default', readOnly: true });
  });

  it('Z4/aggregate: the default bucket tells each person their own usage and quota, never the storage total', async () => {
    const neighbour = await clinic.actor(['clinician']);
    const upload = await tusUpload(clinic.app, neighbour, pdfBytes(96 * 1024), {
      filename: 'neighbour.pdf',
    });
    expect(upload.last.statusCode).toBe(204);
    const mine = await clinic.call(stranger, 'GET', '/api/files/buckets/default');
    expect(mine.json().bucket).toMatchObject({ usedBytes: 0 });
    const theirs = await clinic.call(neighbour, 'GET', '/api/files/buckets/default');
    expect(theirs.json().bucket).toMatchObject({ usedBytes: 96 * 1024 });
    const listed = await clinic.call(stranger, 'GET', '/api/files/buckets');
    expect(listed.json().buckets[0]).toMatchObject({ id: 'default', usedBytes: 0 });
  });

  it('Z4: someone else’s bucket is 404 to read, change, delete and upload into', async () => {
    const created = await create(owner);
    const id = created.json<{ bucket: { id: string } }>().bucket.id;
    for (const [method, payload] of [
      ['GET', undefined],
      ['PATCH', { notes: 'taken' }],
      ['DELETE', undefined],
    ] as const) {
      const answer = await clinic.call(stranger, method, `/api/files/buckets/${id}`, payload);
      expect(answer.statusCode, method).toBe(404);
    }
    const list = await clinic.call(stranger, 'GET', '/api/files/buckets');
    expect(list.json().buckets.map((b: { id: string }) => b.id)).not.toContain(id);
    const upload = await tusUpload(clinic.app, stranger, pdfBytes(2048), {
      filename: 'x.pdf',
      bucketId: id,
    });
    expect(upload.created.statusCode).toBe(404);
  });

  it('Z4: organization buckets — admins manage, members with files:write use, outsiders see nothing', async () => {
    const admin = await clinic.actor(['clinician']);
    const member = await clinic.actor(['clinician']);
    const organizationId = await clinic.organization({
      members: [
        [admin, 'org_admin'],
        [member, 'clinician'],
      ],
    });
    const byMember = await create(member, { organizationId });
    expect(byMember.statusCode).toBe(403);
    const byStranger = await create(stranger, { organizationId });
    expect(byStranger.statusCode).toBe(404);
    const created = await create(admin, { organizationId, name: 'haven-other' });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ bucket: { id: string } }>().bucket.id;
    const seen = await clinic.call(member, 'GET', `/api/files/buckets/${id}`);
    expect(seen.json().bucket).toMatchObject({ canManage: false, owner: { type: 'organization' } });
    expect(
      (await clinic.call(member, 'PATCH', `/api/files/buckets/${id}`, { notes: 'm' })).statusCode,
    ).toBe(404);
    expect((await clinic.call(stranger, 'GET', `/api/files/buckets/${id}`)).statusCode).toBe(404);
    const upload = await tusUpload(clinic.app, member, pdfBytes(4096), {
      filename: 'ct.pdf',
      bucketId: id,
    });
    expect(upload.last.statusCode, upload.last.body).toBe(204);
  });

  it('F1: an upload into an own bucket lands there, downloads from there, and keeps the bucket from deletion', async () => {
    const created = await create(owner, { sizeLimitBytes: 1024 * 1024 });
    const id = created.json<{ bucket: { id: string } }>().bucket.id;
    // F8: the bucket's size limit at start.
    const tooBig = await tusUpload(clinic.app, owner, pdfBytes(2 * 1024 * 1024), {
      filename: 'big.pdf',
      bucketId: id,
    });
    expect(tooBig.created.statusCode).toBe(413);
    expect(tooBig.created.json()).toMatchObject({ code: 'QUOTA_EXCEEDED' });

    const body = pdfBytes(64 * 1024);
    const upload = await tusUpload(clinic.app, owner, body, { filename: 'scan.pdf', bucketId: id });
    expect(upload.last.statusCode, upload.last.body).toBe(204);
    const fileId = String(upload.last.headers['haven-file-id']);
    const [file] = await clinic.rows('files', { id: fileId });
    expect(file).toMatchObject({ bucket_id: id });
    const admin = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: s3.credentials,
      forcePathStyle: true,
    });
    const head = await admin.send(
      new HeadObjectCommand({ Bucket: s3.bucket, Key: String(file!.object_key) }),
    );
    admin.destroy();
    expect(head.ContentLength).toBe(body.length);
    expect(
      await clinic.app.fileServices.storage.headObject(String(file!.object_key)),
    ).toBeUndefined();

    await clinic.db
      .updateTable('files')
      .set({ status: 'clean', scanned_at: new Date() })
      .where('id', '=', fileId)
      .execute();
    const link = await clinic.call(owner, 'POST', `/api/files/${fileId}/download-link`, {});
    expect(link.statusCode, link.body).toBe(200);
    const url = new URL(link.json<{ url: string }>().url, 'http://x');
    const content = await clinic.call(owner, 'GET', url.pathname + url.search);
    expect(content.statusCode, content.body.slice(0, 200)).toBe(200);
    expect(content.rawPayload.equals(body)).toBe(true);

    const refused = await clinic.call(owner, 'DELETE', `/api/files/buckets/${id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'BUCKET_NOT_EMPTY' });
    expect((await clinic.call(owner, 'DELETE', `/api/files/${fileId}`)).statusCode).toBe(204);
    expect((await clinic.call(owner, 'DELETE', `/api/files/buckets/${id}`)).statusCode).toBe(204);
    expect((await clinic.call(owner, 'GET', `/api/files/buckets/${id}`)).statusCode).toBe(404);
    // Soft deletion: the row stays for what referred to it.
    expect(await clinic.rows('buckets', { id })).toHaveLength(1);
  });

  it('F1/L2: no log line of this block holds a bucket secret', () => {
    expect(logLines.length).toBeGreaterThan(10);
    const all = logLines.join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('rotated-secret-value');
  });
});

describeClinic(
  'files: bucket endpoints without the test widening (V5)',
  { env: ALLOW },
  (clinic) => {
    it('V5: loopback, private, link-local and metadata endpoints and hosts off the allowlist are refused', async () => {
      const owner = await clinic.actor(['clinician']);
      for (const endpoint of [
        s3.endpoint,
        'https://127.0.0.1',
        'https://localhost',
        'https://10.0.0.7',
        'https://169.254.169.254',
        'https://s3.not-allowed.example',
      ]) {
        const refused = await clinic.call(
          owner,
          'POST',
          '/api/files/buckets',
          bucketBody({ endpoint }),
        );
        expect(refused.statusCode, endpoint).toBe(400);
        expect(refused.json(), endpoint).toMatchObject({ code: 'BUCKET_ENDPOINT_FORBIDDEN' });
      }
      expect(await clinic.rows('buckets', {})).toHaveLength(0);
    });
  },
);

describe('V5: bucket connections are pinned to the address the guard checked', () => {
  it('V5: a name that resolves to loopback is refused at connection time (DNS rebinding)', async () => {
    const guard = createOutboundGuard({
      allowHosts: ['rebind.test'],
      allowHttp: true,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const { httpAgent } = pinnedAgents(guard, 1000);
    const http = await import('node:http');
    const outcome = await new Promise<string>((resolve) => {
      const request = http.get(
        { host: 'rebind.test', port: new URL(s3.endpoint).port, agent: httpAgent },
        () => resolve('connected'),
      );
      request.on('error', (error: Error & { code?: string }) =>
        resolve(error.code ?? error.message),
      );
    });
    expect(outcome).toBe('OUTBOUND_ADDRESS_FORBIDDEN');
    httpAgent.destroy();
  });
});
