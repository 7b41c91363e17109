// A12 (issue 12, phase 1): Haven's OAuth authorization server for machine clients, driven by
// openid-client 6 as the real peer over real HTTP, on two nodes sharing one database. Each test
// is named by the control and the threat it stands against.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { GENEROUS_RATE_LIMITS, callAs, createActor, type Actor } from '../../../test/actors.js';
import { useTestNodes } from '../../../test/app-harness.js';
import { describeEachEngine } from '../../../test/databases.js';
import { askUntil } from '../../../test/eventually.js';
import { pausableClock } from '../../../test/pausable-clock.js';

/** The OAuth error code of a refused request, from the body or a WWW-Authenticate challenge. */
async function oauthErrorOf(attempt: Promise<unknown>): Promise<string> {
  try {
    await attempt;
  } catch (error) {
    if (error instanceof client.ResponseBodyError) return error.error;
    if (error instanceof client.WWWAuthenticateChallengeError) {
      return String(error.cause[0]?.parameters.error);
    }
    throw error;
  }
  throw new Error('the request was not refused');
}

interface Registered {
  readonly clientId: string;
  readonly clientSecret: string;
}

describeEachEngine('A12 OAuth client credentials', (engine) => {
  // The nodes' clock stands still while a test checks that a change holds at once on the node
  // that made it (pausable-clock.ts); it runs again after every test, whatever the outcome.
  const clock = pausableClock();
  afterEach(() => clock.resume());
  const nodes = useTestNodes(engine, {
    env: GENEROUS_RATE_LIMITS,
    nodes: [{}, {}],
    build: { now: clock.now },
  });
  const listening: FastifyInstance[] = [];
  let admin: Actor;
  let ports: number[] = [];

  beforeAll(async () => {
    for (const node of nodes.nodes) {
      await node.app.listen({ host: '127.0.0.1', port: 0 });
      listening.push(node.app);
    }
    ports = nodes.nodes.map((node) => (node.app.server.address() as AddressInfo).port);
    admin = await createActor(nodes.node.app, ['admin']);
  });
  afterAll(() => {
    listening.splice(0);
  });

  const issuer = (): string => nodes.origin;

  /** Sends the peer's requests for the issuer to one node's real port. */
  function fetchVia(nodeIndex: number): (input: string, init?: RequestInit) => Promise<Response> {
    return (input, init) => {
      const url = new URL(input);
      const target = new URL(
        `${url.pathname}${url.search}`,
        `http://127.0.0.1:${ports[nodeIndex]}`,
      );
      return fetch(target, init);
    };
  }

  async function peer(
    registered: Registered,
    options: { node?: number; auth?: 'basic' | 'post' } = {},
  ): Promise<client.Configuration> {
    const auth =
      options.auth === 'post'
        ? client.ClientSecretPost(registered.clientSecret)
        : client.ClientSecretBasic(registered.clientSecret);
    return client.discovery(new URL(issuer()), registered.clientId, undefined, auth, {
      execute: [client.allowInsecureRequests],
      [client.customFetch]: (url, init) =>
        fetchVia(options.node ?? 0)(url, { ...init, body: init.body as BodyInit }),
    });
  }

  async function register(scopes: string[] = ['audit:read']): Promise<Registered> {
    const response = await callAs(nodes.node.app, admin, 'POST', '/api/admin/oauth-clients', {
      name: 'Lab integration',
      scopes,
    });
    expect(response.statusCode).toBe(201);
    const body = response.json<{ client: { clientId: string }; clientSecret: string }>();
    return { clientId: body.client.clientId, clientSecret: body.clientSecret };
  }

  async function apiCall(token: string, path: string, node = 0): Promise<Response> {
    return fetch(`http://127.0.0.1:${ports[node]}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
  }

  it('A12/discovery: the metadata names Haven as issuer, its one JWKS, and the OAuth 2.1 grants only', async () => {
    const registered = await register();
    const config = await peer(registered);
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(issuer());
    expect(metadata.jwks_uri).toBe(`${issuer()}/.well-known/jwks.json`);
    expect(metadata.token_endpoint).toBe(`${issuer()}/oauth/token`);
    expect(metadata.introspection_endpoint).toBe(`${issuer()}/oauth/token/introspection`);
    expect(metadata.revocation_endpoint).toBe(`${issuer()}/oauth/token/revocation`);
    expect(metadata.authorization_endpoint).toBe(`${issuer()}/oauth/authorize`);
    expect([...(metadata.grant_types_supported ?? [])].sort()).toEqual([
      'authorization_code',
      'client_credentials',
      'refresh_token',
    ]);
    // No implicit or hybrid flow (OAuth 2.1), and PKCE with S256 only.
    expect(metadata.response_types_supported).toEqual(['code']);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.token_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'none',
    ]);
    expect(metadata.scopes_supported).toEqual(['openid', 'audit:read', 'portal:read']);
    expect(metadata.pushed_authorization_request_endpoint).toBeUndefined();
    expect(metadata.end_session_endpoint).toBeUndefined();
    const jwks = await (await fetchVia(0)(`${issuer()}/.well-known/jwks.json`)).json();
    expect((jwks as { keys: unknown[] }).keys.length).toBeGreaterThan(0);
  });

  it('A12/Z2: a client-credentials token from one node opens its scope on the other, and only its scope', async () => {
    const registered = await register();
    const tokens = await client.clientCredentialsGrant(await peer(registered), {
      scope: 'audit:read',
    });
    const header = decodeProtectedHeader(tokens.access_token);
    expect(header.typ).toBe('at+jwt');
    const jwks = (await (await fetchVia(1)(`${issuer()}/.well-known/jwks.json`)).json()) as {
      keys: Array<{ kid: string }>;
    };
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      iss: issuer(),
      aud: 'haven-api',
      sub: registered.clientId,
      client_id: registered.clientId,
      scope: 'audit:read',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBeLessThanOrEqual(300);
    const read = await apiCall(tokens.access_token, '/api/admin/audit-events', 1);
    expect(read.status).toBe(200);
    const outside = await apiCall(tokens.access_token, '/api/admin/users', 1);
    expect(outside.status).toBe(403);
    // The audit trail names the client as the actor of what its token did.
    const searched = await nodes.database.db
      .selectFrom('audit_events')
      .select(['actor_type', 'actor_id'])
      .where('action', '=', 'audit.searched')
      .where('actor_id', '=', registered.clientId)
      .execute();
    expect(searched).toEqual([{ actor_type: 'client', actor_id: registered.clientId }]);
  });

  it('A12/client_secret_post: a client may send its secret in the body instead of Basic', async () => {
    const registered = await register();
    const tokens = await client.clientCredentialsGrant(
      await peer(registered, { auth: 'post', node: 1 }),
      { scope: 'audit:read' },
    );
    expect((await apiCall(tokens.access_token, '/api/admin/audit-events')).status).toBe(200);
  });

  it('A12/introspection and revocation: a live token is active, a revoked one inactive, refused by the API at once on the revoking node and within a second on every other', async () => {
    const registered = await register();
    const config = await peer(registered);
    const { access_token: token } = await client.clientCredentialsGrant(config, {
      scope: 'audit:read',
    });
    const live = await client.tokenIntrospection(config, token);
    expect(live).toMatchObject({
      active: true,
      client_id: registered.clientId,
      scope: 'audit:read',
      iss: issuer(),
      aud: 'haven-api',
    });
    expect((await client.tokenIntrospection(config, 'not-a-token')).active).toBe(false);
    // Both nodes let the token through first, so both remember an allowing answer; the clock
    // stands still until the revoking node has refused, so that answer cannot age out first.
    clock.pause();
    expect((await apiCall(token, '/api/admin/audit-events', 0)).status).toBe(200);
    expect((await apiCall(token, '/api/admin/audit-events', 1)).status).toBe(200);

    await client.tokenRevocation(config, token);
    expect(
      (await client.tokenIntrospection(await peer(registered, { node: 1 }), token)).active,
    ).toBe(false);
    // Refused at once by the node that revoked it, within a second by the other.
    expect((await apiCall(token, '/api/admin/audit-events', 0)).status).toBe(401);
    clock.resume();
    const elsewhere = await askUntil(
      async () => (await apiCall(token, '/api/admin/audit-events', 1)).status,
      (status) => status === 401,
      1000,
    );
    expect(elsewhere.answer).toBe(401);
  });

  it("A12/introspection across clients: another client sees only inactive, and can neither revoke the token nor block its owner's revocation", async () => {
    const registered = await register();
    const { access_token: token } = await client.clientCredentialsGrant(await peer(registered), {
      scope: 'audit:read',
    });
    const other = await peer(await register(), { node: 1 });
    expect(await client.tokenIntrospection(other, token)).toEqual({ active: false });
    await client.tokenRevocation(other, token);
    const owner = await peer(registered);
    expect((await client.tokenIntrospection(owner, token)).active).toBe(true);
    expect((await apiCall(token, '/api/admin/audit-events', 0)).status).toBe(200);
    // Nor can the other client's attempt squat the token's id, so that the owner's own
    // revocation afterwards would be lost: it still takes effect at once.
    await client.tokenRevocation(owner, token);
    expect((await apiCall(token, '/api/admin/audit-events', 1)).status).toBe(401);
  });

  it('A12/stolen client id: a wrong secret gets no token, and introspection refuses it too', async () => {
    const registered = await register();
    const wrong = await peer({ clientId: registered.clientId, clientSecret: 'guessed-secret' });
    expect(await oauthErrorOf(client.clientCredentialsGrant(wrong, { scope: 'audit:read' }))).toBe(
      'invalid_client',
    );
    const { access_token: token } = await client.clientCredentialsGrant(await peer(registered), {
      scope: 'audit:read',
    });
    expect(await oauthErrorOf(client.tokenIntrospection(wrong, token))).toBe('invalid_client');
  });

  it('A12/disabled client: no new token; its live tokens stop at once on the node that disabled it and within a second on every other', async () => {
    const registered = await register();
    const config = await peer(registered);
    const otherNode = await peer(registered, { node: 1 });
    const { access_token: token } = await client.clientCredentialsGrant(config, {
      scope: 'audit:read',
    });
    await client.clientCredentialsGrant(otherNode, { scope: 'audit:read' });
    // Both nodes have let the client and the token through, so both remember allowing answers;
    // the clock stands still until the disabling node has refused.
    clock.pause();
    expect((await apiCall(token, '/api/admin/audit-events', 0)).status).toBe(200);
    expect((await apiCall(token, '/api/admin/audit-events', 1)).status).toBe(200);
    const disabled = await callAs(
      nodes.node.app,
      admin,
      'POST',
      `/api/admin/oauth-clients/${registered.clientId}/disable`,
      {},
    );
    expect(disabled.json()).toMatchObject({ client: { disabled: true } });
    expect((await apiCall(token, '/api/admin/audit-events', 0)).status).toBe(401);
    expect(await oauthErrorOf(client.clientCredentialsGrant(config, { scope: 'audit:read' }))).toBe(
      'invalid_client',
    );
    expect(await oauthErrorOf(client.tokenIntrospection(config, token))).toBe('invalid_client');
    clock.resume();
    const elsewhere = await askUntil(
      async () => (await apiCall(token, '/api/admin/audit-events', 1)).status,
      (status) => status === 401,
      1000,
    );
    expect(elsewhere.answer).toBe(401);
    // The other node's token endpoint stops the client within the same second.
    const refusal = await askUntil(
      () =>
        oauthErrorOf(client.clientCredentialsGrant(otherNode, { scope: 'audit:read' })).catch(
          () => 'issued',
        ),
      (error) => error === 'invalid_client',
      1000,
    );
    expect(refusal.answer).toBe('invalid_client');
  });

  it('A12/grant downgrade: the password grant and the implicit flow are refused', async () => {
    const registered = await register();
    const config = await peer(registered);
    expect(
      await oauthErrorOf(
        client.genericGrantRequest(config, 'password', { username: 'admin', password: 'x' }),
      ),
    ).toBe('unsupported_grant_type');
    // A machine client has no browser flow at all, and nobody has the implicit one.
    const implicit = await fetchVia(0)(
      `${issuer()}/oauth/authorize?response_type=token&client_id=${registered.clientId}&scope=audit%3Aread`,
      { redirect: 'manual' },
    );
    expect(implicit.status).toBe(400);
    expect(implicit.headers.get('location')).toBeNull();
    expect(config.serverMetadata().response_types_supported ?? []).not.toContain('token');
  });

  it("A12/V1 smuggling: the token endpoint takes one form body, no JSON, no repeated parameter, no padding past the provider's parser", async () => {
    const registered = await register();
    const basic = `Basic ${Buffer.from(`${registered.clientId}:${registered.clientSecret}`).toString('base64')}`;
    const send = (contentType: string, payload: string) =>
      nodes.node.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': contentType, authorization: basic },
        payload,
      });
    const json = await send(
      'application/json',
      JSON.stringify({ grant_type: 'client_credentials', scope: 'audit:read' }),
    );
    // Malformed, in OAuth's own format (RFC 6749 §5.2), which an OAuth client reads.
    expect(json.statusCode).toBe(400);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.json()).toMatchObject({ error: 'invalid_request' });
    const repeated = await send(
      'application/x-www-form-urlencoded',
      'grant_type=client_credentials&scope=audit%3Aread&scope=users%3Amanage',
    );
    expect(repeated.statusCode).toBe(400);
    expect(repeated.json()).toMatchObject({ error: 'invalid_request' });
    const unknownField = await send(
      'application/x-www-form-urlencoded',
      'grant_type=client_credentials&scope=audit%3Aread&__proto__=x',
    );
    expect(unknownField.statusCode).toBe(400);
    // Padding that would push a field Haven checked past what the provider's parser reads.
    const padded = await send(
      'application/x-www-form-urlencoded',
      `grant_type=client_credentials${'&'.repeat(1000)}&scope=audit%3Aread`,
    );
    expect(padded.statusCode).toBe(400);
    expect(padded.json()).toMatchObject({ error: 'invalid_request' });
    const fine = await send(
      'application/x-www-form-urlencoded',
      'grant_type=client_credentials&scope=audit%3Aread',
    );
    expect(fine.statusCode).toBe(200);
  });

  it('A12/confused deputy: a token for another resource is refused (RFC 8707)', async () => {
    const registered = await register();
    expect(
      await oauthErrorOf(
        client.clientCredentialsGrant(await peer(registered), {
          scope: 'audit:read',
          resource: 'https://other.example/api',
        }),
      ),
    ).toBe('invalid_target');
  });

  it("A12/Z2 scope escalation: a scope beyond the client's grant is refused", async () => {
    const registered = await register();
    const config = await peer(registered);
    expect(
      await oauthErrorOf(
        client.clientCredentialsGrant(config, { scope: 'audit:read users:manage' }),
      ),
    ).toBe('invalid_scope');
    expect(
      await oauthErrorOf(client.clientCredentialsGrant(config, { scope: 'patients:read' })),
    ).toBe('invalid_scope');
    // Nor can an administrator grant a client a scope outside the machine allowlist, or none.
    for (const scopes of [['users:manage'], ['audit:read', 'patients:read'], []]) {
      const refused = await callAs(nodes.node.app, admin, 'POST', '/api/admin/oauth-clients', {
        name: 'Too much',
        scopes,
      });
      expect(refused.statusCode, scopes.join(' ')).toBe(400);
    }
    const change = await callAs(
      nodes.node.app,
      admin,
      'PUT',
      `/api/admin/oauth-clients/${registered.clientId}/scopes`,
      { scopes: ['users:manage'] },
    );
    expect(change.statusCode).toBe(400);
  });

  it('A12/S2 key rotation: after a rotation the server signs with the new key, which the API accepts', async () => {
    const registered = await register();
    const identity = nodes.node.app.identity!;
    const { kid } = await identity.keys.rotate();
    const { access_token: token } = await client.clientCredentialsGrant(await peer(registered), {
      scope: 'audit:read',
    });
    expect(decodeProtectedHeader(token).kid).toBe(kid);
    expect((await apiCall(token, '/api/admin/audit-events', 0)).status).toBe(200);
  });
});
