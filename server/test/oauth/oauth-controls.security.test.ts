// A12 controls of the OAuth module that no other test missed when removed: introspection judges a
// token as Haven's API does (its issuer, its audience, its age), so a token Haven signed for
// another resource or issuer, or one older than any access token lives, is never reported
// active to its client (RFC 7662 §4, RFC 8707); and an organization's client routes answer an
// outsider with the 404 of the organization before judging the body (Z4). A redirect URI never
// carries a fragment, not even an empty one.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../clinical-actors.js';
import { ACCESS_TOKEN_TYPE } from '../../src/platform/auth/jwt-authenticator.js';
import { ACCESS_TOKEN_LIFETIME_SECONDS } from '../../src/modules/identity/index.js';

describeClinic('A12 OAuth controls', (clinic) => {
  let admin: Actor;
  let clientId: string;
  let clientSecret: string;

  beforeAll(async () => {
    admin = await clinic.actor(['admin']);
    const created = await clinic.call(admin, 'POST', '/api/admin/oauth-clients', {
      name: 'Lab integration',
      scopes: ['audit:read'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json<{ client: { clientId: string }; clientSecret: string }>();
    clientId = body.client.clientId;
    clientSecret = body.clientSecret;
  });

  /** A token signed with Haven's own current key, for this client, with claims as given. */
  async function signed(
    options: { audience?: string; issuer?: string; issuedAt?: number; expiresAt?: number } = {},
  ): Promise<string> {
    const identity = clinic.app.identity!;
    const { kid, alg, privateKey } = await identity.keys.currentSigningKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'audit:read', client_id: clientId })
      .setProtectedHeader({ alg, kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(options.issuer ?? identity.issuer)
      .setAudience(options.audience ?? identity.audience)
      .setSubject(clientId)
      .setIssuedAt(options.issuedAt ?? now)
      .setJti(randomUUID())
      .setExpirationTime(options.expiresAt ?? now + 120)
      .sign(privateKey);
  }

  async function introspect(token: string): Promise<Record<string, unknown>> {
    const response = await clinic.app.inject({
      method: 'POST',
      url: '/oauth/token/introspection',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      },
      payload: new URLSearchParams({ token }).toString(),
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Record<string, unknown>>();
  }

  it('A12/introspection: a token of this client from Haven is active (the control for what follows)', async () => {
    expect(await introspect(await signed())).toMatchObject({ active: true, client_id: clientId });
  });

  it('A12/RFC 8707 confused deputy: introspection reports a token Haven signed for another resource inactive', async () => {
    const identity = clinic.app.identity!;
    for (const audience of ['https://other.example/api', `${identity.issuer}/other`]) {
      expect(await introspect(await signed({ audience })), audience).toEqual({ active: false });
    }
  });

  it('A12/introspection: a token naming another issuer is inactive, though Haven’s key signed it', async () => {
    expect(await introspect(await signed({ issuer: 'https://evil.example' }))).toEqual({
      active: false,
    });
  });

  it('A12/S2 introspection: a token older than any access token lives is inactive, whatever its exp says', async () => {
    const now = Math.floor(Date.now() / 1000);
    const old = await signed({
      issuedAt: now - ACCESS_TOKEN_LIFETIME_SECONDS - 60,
      expiresAt: now + 3600,
    });
    expect(await introspect(old)).toEqual({ active: false });
  });

  it('A12/redirect URI: an address ending in an empty fragment (`#`) is refused too, as OAuth forbids any fragment', async () => {
    const refused = await clinic.call(admin, 'POST', '/api/admin/oauth-clients', {
      name: 'Fragment app',
      kind: 'app',
      scopes: ['portal:read'],
      redirectUris: ['https://clinic.example/callback#'],
    });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json<{ errors: Array<{ field: string }> }>().errors.map((e) => e.field)).toEqual(
      ['redirectUris/0'],
    );
    expect(await clinic.rows('oauth_clients', { name: 'Fragment app' })).toEqual([]);
  });

  it('A12/Z4: an outsider asking to register a client with a scope no org admin may give gets the organization’s 404, not a judgement of the body', async () => {
    const ownAdmin = await clinic.actor(['clinician']);
    const outsider = await clinic.actor(['clinician']);
    const organizationId = await clinic.organization({ members: [[ownAdmin, 'org_admin']] });
    await clinic.organization({ members: [[outsider, 'org_admin']] });
    const url = `/api/organizations/${organizationId}/oauth-clients`;
    const body = { name: 'Audit feed', scopes: ['audit:read'] };
    const asOutsider = await clinic.call(outsider, 'POST', url, body);
    expect(asOutsider.statusCode, asOutsider.body).toBe(404);
    const missing = await clinic.call(
      outsider,
      'POST',
      '/api/organizations/00000000-0000-4000-8000-000000000000/oauth-clients',
      body,
    );
    expect(missing.statusCode).toBe(404);
    expect(asOutsider.json<{ detail: string }>().detail).toBe(
      missing.json<{ detail: string }>().detail,
    );
    // Its own admin is refused for the scope (403), so the body alone would have told.
    expect((await clinic.call(ownAdmin, 'POST', url, body)).statusCode).toBe(403);
    expect(await clinic.rows('oauth_clients', { name: 'Audit feed' })).toEqual([]);
  });
});
