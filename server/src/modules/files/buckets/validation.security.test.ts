// Probe 'inject' (round 8), F1/V1: the WHATWG URL parser accepts `;`, `,`, quotes and `*` in a
// host, and an owned bucket's endpoint origin is written into the upload relay's
// Content-Security-Policy (upload-relay.ts), where a `;` ends a directive. The endpoint's host
// must be a DNS name or an IP address before anything is stored or reached.
import { describe, expect, it } from 'vitest';
import { validateBucket } from './validation.js';

describe('bucket endpoint host (probe inject, round 8)', () => {
  it('F1/V1 CSP injection: an owned bucket endpoint whose host is not a DNS name or an IP address (";", ",", quotes) is refused before it can reach the upload relay policy', () => {
    const settings = {
      name: 'probe-bucket',
      region: 'eu-central-1',
      pathStyle: false,
      sseMode: 'none' as const,
      kmsKeyId: null,
    };
    for (const endpoint of [
      'https://s3.example.org;script-src',
      'https://a,b.example.org',
      "https://a'b.example.org",
      'https://a"b.example.org',
      'https://*.example.org',
    ]) {
      const { errors } = validateBucket({ ...settings, endpoint });
      expect(
        errors.map((error) => error.field),
        endpoint,
      ).toContain('endpoint');
    }
    for (const endpoint of [
      'https://s3.eu-central-1.amazonaws.com',
      'http://127.0.0.1:9000',
      'http://[::1]:9000',
      'https://münchen.example',
    ]) {
      expect(validateBucket({ ...settings, endpoint }).errors, endpoint).toEqual([]);
    }
  });
});
