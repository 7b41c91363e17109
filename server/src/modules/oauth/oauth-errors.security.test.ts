// A12: a malformed request to a token endpoint is answered in OAuth's own format (RFC 6749 §5.2,
// RFC 7662 §2.3, RFC 7009 §2.2.1): `400 { error: "invalid_request", error_description }` as
// application/json, which every OAuth client library reads. A missing, unknown, repeated or
// over-long parameter, or a body that is not a form. What is not about the client's request (a
// body over the size limit, a rate limit, an outage) stays Haven's problem+json answer.
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS } from '../../../test/actors.js';
import { describeClinic } from '../../../test/clinical-actors.js';

interface Registered {
  readonly clientId: string;
  readonly clientSecret: string;
}

function expectInvalidRequest(response: LightMyRequestResponse, what: string): void {
  expect(response.statusCode, `${what}: ${response.body}`).toBe(400);
  expect(response.headers['content-type'], what).toMatch(/^application\/json/);
  expect(response.headers['cache-control'], what).toBe('no-store');
  const answer = response.json<{ error?: string; error_description?: string }>();
  expect(answer.error, what).toBe('invalid_request');
  expect(answer.error_description, what).toBeTruthy();
}

describeClinic('A12 OAuth error format', { env: GENEROUS_RATE_LIMITS }, (clinic) => {
  let machine: Registered;

  beforeAll(async () => {
    const admin = await clinic.actor(['admin']);
    const created = await clinic.call(admin, 'POST', '/api/admin/oauth-clients', {
      name: 'Lab feed',
      scopes: ['audit:read'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const answer = created.json<{ client: { clientId: string }; clientSecret: string }>();
    machine = { clientId: answer.client.clientId, clientSecret: answer.clientSecret };
  });

  const send = (url: string, payload: string, contentType = 'application/x-www-form-urlencoded') =>
    clinic.app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': contentType,
        authorization: `Basic ${Buffer.from(`${machine.clientId}:${machine.clientSecret}`).toString('base64')}`,
      },
      payload,
    });

  it('A12/OAuth errors: a malformed token, introspection or revocation request is invalid_request in OAuth JSON, not a problem document', async () => {
    expectInvalidRequest(await send('/oauth/token', 'scope=audit%3Aread'), 'no grant_type');
    expectInvalidRequest(
      await send('/oauth/token', 'grant_type=client_credentials&colour=blue'),
      'an unknown parameter',
    );
    expectInvalidRequest(
      await send(
        '/oauth/token',
        `grant_type=authorization_code&code=x&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&code_verifier=${'a'.repeat(129)}`,
      ),
      'a code_verifier over 128 characters',
    );
    expectInvalidRequest(
      await send('/oauth/token', 'grant_type=client_credentials&scope=a&scope=b'),
      'a repeated parameter',
    );
    expectInvalidRequest(
      await send('/oauth/token', '{"grant_type":"client_credentials"}', 'application/json'),
      'a JSON body',
    );
    expectInvalidRequest(await send('/oauth/token/introspection', ''), 'introspection, no token');
    expectInvalidRequest(await send('/oauth/token/revocation', 'hint=x'), 'revocation, no token');
    // A well-formed request still gets its token.
    const fine = await send('/oauth/token', 'grant_type=client_credentials&scope=audit%3Aread');
    expect(fine.statusCode, fine.body).toBe(200);
  });

  it('A12/OAuth errors: what is not about the request itself (a body over the limit) stays a problem answer', async () => {
    const huge = await send(
      '/oauth/token',
      `grant_type=client_credentials&scope=${'a'.repeat(64 * 1024)}`,
    );
    expect(huge.statusCode, huge.body).toBe(413);
    expect(huge.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
