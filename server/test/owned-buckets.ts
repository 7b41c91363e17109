// Owned buckets on the local S3 server in clinic tests (F1, F4, F7, F8, V5). Apart from
// s3-server.ts, which the S3 benchmark imports outside the test runner.
import { expect } from 'vitest';
import type { Actor, Clinic } from './clinical-actors.js';
import { ownedBucketBody, type TestS3Server } from './s3-server.js';

/**
 * describeClinic options for tests that add owned buckets on the local S3 server: the outbound
 * allowlist names it (and the metadata address, so that the IP guard, not the allowlist, is what
 * refuses it), and bucket endpoints may reach 127.0.0.1 — a TEST-ONLY widening of V5's guard that
 * no configuration can make.
 */
export const LOCAL_S3_CLINIC = {
  env: {
    HAVEN_OUTBOUND_ALLOW_HOSTS: 'api.pwnedpasswords.com,127.0.0.1,localhost,169.254.169.254',
  },
  build: { bucketEndpointTestCidrs: ['127.0.0.1/32'] },
} as const;

/** Adds the server's bucket as `actor` through the API (201 expected); the new bucket's id. */
export async function addOwnedBucket(
  clinic: Clinic,
  actor: Actor,
  s3: TestS3Server,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const created = await clinic.call(
    actor,
    'POST',
    '/api/files/buckets',
    ownedBucketBody(s3, overrides),
  );
  expect(created.statusCode, created.body).toBe(201);
  return created.json<{ bucket: { id: string } }>().bucket.id;
}
