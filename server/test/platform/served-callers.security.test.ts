// Z2/A12 deny by default for callers that are not a person's own session: a machine client's
// token, or an app's token acting for a person, reaches only a route that declares it serves that
// caller (`requireScopes(…, { serves })`), whatever scopes the token carries. Before, only the
// registration rules (which scopes a client or an app may be given) kept such tokens off every
// other route: a machine client holding `users:read` would have read `GET /api/admin/users`. Here
// an authenticator answers with each kind of caller holding every scope the routes ask for, so
// only the new rule can refuse; the OAuth module's own test holds it for a token Haven signed.
import { Type } from 'typebox';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Authenticator, Principal } from '../../src/platform/auth/principal.js';
import { requireScopes } from '../../src/platform/http/route-contract.js';
import { createTestApp, type TestApp } from '../app-harness.js';
import { describeEachEngine } from '../databases.js';

type Caller = 'person' | 'machine-client' | 'delegated-app';

const principalOf = (caller: Caller): Principal => ({
  kind: caller === 'machine-client' ? 'client' : 'user',
  subject: caller === 'machine-client' ? 'lab-integration' : '0b7a4a8e-6c7e-4f53-9a39-4f8f0e4c9d21',
  scopes: new Set(['users:read', 'audit:read', 'portal:read']),
  sessionId: caller === 'person' ? 'a-session' : undefined,
  amr: [],
  mfaAt: undefined,
  via: 'bearer',
  ...(caller === 'delegated-app' && { delegation: { clientId: 'an-app', grantId: 'a-grant' } }),
});

const callerAuthenticator: Authenticator = {
  authenticate: async (request) => {
    const caller = request.headers['x-test-caller'];
    return typeof caller === 'string' ? principalOf(caller as Caller) : null;
  },
};

const ROUTES = {
  '/api/test/people-only': requireScopes(['users:read']),
  '/api/test/machine-clients-too': requireScopes(['audit:read'], { serves: ['machine-client'] }),
  '/api/test/apps-too': requireScopes(['portal:read'], { serves: ['delegated-app'] }),
} as const;

describeEachEngine('callers other than a person’s own session', (engine) => {
  let harness: TestApp;

  beforeAll(async () => {
    harness = await createTestApp(engine, {
      build: {
        authenticator: callerAuthenticator,
        modules: [
          (instance) => {
            for (const [url, access] of Object.entries(ROUTES)) {
              instance.get(
                url,
                {
                  config: { access, rateClass: 'read' },
                  schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } },
                },
                async () => ({ ok: true }),
              );
            }
          },
        ],
      },
    });
  });
  afterAll(async () => harness?.close());

  const call = (caller: Caller, url: keyof typeof ROUTES) =>
    harness.app.inject({ method: 'GET', url, headers: { 'x-test-caller': caller } });

  it('Z2/machine client beyond its routes: a client token holding a person’s scope is refused on every route that does not serve machine clients', async () => {
    const refused = await call('machine-client', '/api/test/people-only');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({
      code: 'FORBIDDEN',
      detail: 'This route is not open to machine clients.',
    });
    expect((await call('machine-client', '/api/test/apps-too')).statusCode).toBe(403);
    expect((await call('machine-client', '/api/test/machine-clients-too')).statusCode).toBe(200);
  });

  it('A12/connected app beyond its routes: an app acting for a person is refused on every route that does not serve connected apps', async () => {
    const refused = await call('delegated-app', '/api/test/people-only');
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect((await call('delegated-app', '/api/test/machine-clients-too')).statusCode).toBe(403);
    expect((await call('delegated-app', '/api/test/apps-too')).statusCode).toBe(200);
  });

  it('Z2/people keep every route: a person’s own session reaches all three', async () => {
    for (const url of Object.keys(ROUTES) as (keyof typeof ROUTES)[]) {
      expect((await call('person', url)).statusCode, url).toBe(200);
    }
  });
});
