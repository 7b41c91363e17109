// The upload relay of an owned bucket (F2, T3, Z4), against a real S3-compatible server (fauxqs on
// 127.0.0.1, reachable through the TEST-ONLY widening of the bucket endpoint guard). The attacks:
// loading another person's relay to learn their bucket or send parts into it (Z4); a relay whose
// policy lets a script send data anywhere, or an SPA page whose connect-src grows with every
// owned bucket (T3); a relay whose origin is not where the bucket's parts really go (F2).
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';
import { ownedBucketBody, startS3Server, type TestS3Server } from '../../../../test/s3-server.js';
import { ACCESS_COOKIE } from '../../identity/index.js';

const s3: TestS3Server = await startS3Server('haven-relay');
afterAll(async () => {
  await s3.stop();
});

const BUCKET_ORIGIN = new URL(s3.endpoint).origin;

function directives(response: LightMyRequestResponse): Map<string, string[]> {
  return new Map(
    String(response.headers['content-security-policy'] ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name ?? '', values]),
  );
}

describeClinic(
  'files: the upload relay of an owned bucket',
  {
    env: { HAVEN_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' },
    build: { bucketEndpointTestCidrs: ['127.0.0.1/32'] },
  },
  (clinic) => {
    let owner: Actor;
    let stranger: Actor;
    let bucketId: string;

    beforeAll(async () => {
      owner = await clinic.actor(['clinician']);
      stranger = await clinic.actor(['clinician']);
      const created = await clinic.call(owner, 'POST', '/api/files/buckets', ownedBucketBody(s3));
      expect(created.statusCode, created.body).toBe(201);
      bucketId = created.json<{ bucket: { id: string } }>().bucket.id;
    });

    /** The relay as a browser frame loads it: a plain GET with the access cookie. */
    function loadRelay(actor: Actor | null, id: string): Promise<LightMyRequestResponse> {
      const token = actor?.authorization.replace(/^Bearer /, '');
      return clinic.app.inject({
        method: 'GET',
        url: `/api/files/buckets/${id}/upload-relay`,
        headers: token === undefined ? {} : { cookie: `${ACCESS_COOKIE}=${token}` },
      });
    }

    it("Z4/upload relay: another person's bucket answers 404, as a missing one does", async () => {
      const theirs = await loadRelay(stranger, bucketId);
      const missing = await loadRelay(stranger, crypto.randomUUID());
      for (const response of [theirs, missing]) {
        expect(response.statusCode, response.body).toBe(404);
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(response.body).not.toContain(BUCKET_ORIGIN);
      }
      expect(theirs.json<{ code: string }>().code).toBe(missing.json<{ code: string }>().code);
      expect((await loadRelay(null, bucketId)).statusCode).toBe(401);
      // The default storage has no relay: the page sends its parts itself.
      const fallback = await loadRelay(owner, 'default');
      expect(fallback.statusCode).toBe(404);
      expect(fallback.json<{ detail: string }>().detail).toMatch(/no upload relay/);
    });

    it("T3/upload relay: the frame's CSP names only its bucket's origin and the SPA document's CSP does not", async () => {
      const relay = await loadRelay(owner, bucketId);
      expect(relay.statusCode, relay.body).toBe(200);
      expect(relay.headers['content-type']).toBe('text/html; charset=utf-8');
      const policy = directives(relay);
      expect(Object.fromEntries(policy)).toEqual({
        'default-src': ["'none'"],
        'script-src': ["'self'"],
        'connect-src': [BUCKET_ORIGIN],
        'frame-ancestors': ["'self'"],
        'base-uri': ["'none'"],
        'form-action': ["'none'"],
      });
      expect(relay.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(relay.headers['cache-control']).toBe('no-store');
      // No inline code: one script, loaded from Haven's own origin; the origin it may PUT to
      // is baked into the document, not taken from a message.
      expect(relay.body.match(/<script[^>]*>/g)).toEqual([
        '<script type="module" src="/assets/upload-relay.js">',
      ]);
      expect(relay.body).toContain(`data-upload-origin="${BUCKET_ORIGIN}"`);

      // Every other answer, the SPA's document among them, keeps its own policy: the bucket's
      // origin is nowhere in it, and nothing may frame it.
      for (const url of ['/', '/files', '/api/files/buckets']) {
        const other = await clinic.app.inject({
          method: 'GET',
          url,
          headers: { authorization: owner.authorization },
        });
        const spa = directives(other);
        expect(spa.get('connect-src'), url).not.toContain(BUCKET_ORIGIN);
        expect(String(other.headers['content-security-policy']), url).not.toContain(BUCKET_ORIGIN);
        expect(spa.get('frame-ancestors'), url).toEqual(["'none'"]);
        // The page may frame Haven's own documents only (the relay among them), nothing else.
        expect(spa.get('frame-src'), url).toEqual(["'self'"]);
        expect(other.headers['x-frame-options'], url).toBe('DENY');
      }
    });

    it("F2/upload relay: its origin is where the bucket's presigned parts go, and the listing says parts go straight there", async () => {
      const relay = await loadRelay(owner, bucketId);
      const started = await clinic.call(owner, 'POST', '/api/files/multipart', {
        name: 'Knee MRI report.pdf',
        size: 9 * 1024 * 1024,
        bucketId,
      });
      expect(started.statusCode, started.body).toBe(201);
      const { uploadId, partSize } = started.json<{ uploadId: string; partSize: number }>();
      const signed = await clinic.call(
        owner,
        'POST',
        `/api/files/multipart/${uploadId}/parts/1/url`,
        {},
      );
      expect(signed.statusCode, signed.body).toBe(200);
      const partOrigin = new URL(signed.json<{ url: string }>().url).origin;
      expect(directives(relay).get('connect-src')).toEqual([partOrigin]);

      const list = await clinic.call(owner, 'GET', '/api/files/buckets');
      const buckets = list.json<{
        buckets: Array<{ id: string; multipartPartBytes: number | null }>;
      }>().buckets;
      // The embedded default takes tus only; the owned bucket takes parts of the size it answers.
      expect(buckets.find((b) => b.id === 'default')?.multipartPartBytes).toBeNull();
      expect(buckets.find((b) => b.id === bucketId)?.multipartPartBytes).toBe(partSize);
    });
  },
);
