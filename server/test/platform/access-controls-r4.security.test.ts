// Authentication and scopes from route declarations (Z1, Z2): controls a fourth mutation hunt
// found no test for. The routes anyone may call are a short list, written down here, so a route
// cannot become public without this file changing with it; a route declared with an empty scope
// list stops the server instead of opening to every signed-in caller.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { requireScopes, routeViolations } from '../../src/platform/http/route-contract.js';
import { createTestApp } from '../app-harness.js';

const Ok = { 200: Type.Object({ ok: Type.Boolean() }, { additionalProperties: false }) };

/**
 * Every route anyone may call, on purpose: probes, keys and discovery, the credential endpoints
 * (each a guess, in the strict 'auth' rate class), the OAuth protocol endpoints (which check the
 * client themselves), the API docs (public in development only; admins' in production) and the
 * web pages. Adding a public route means adding it here.
 */
const DELIBERATELY_PUBLIC = [
  'GET /*',
  'GET /.well-known/jwks.json',
  'GET /.well-known/openid-configuration',
  'GET /api/docs',
  'GET /api/docs/openapi.json',
  'GET /api/docs/ui/:file',
  'GET /healthz',
  'GET /oauth/authorize',
  'GET /oauth/authorize/:uid',
  'GET /readyz',
  'OPTIONS /*',
  'OPTIONS /oauth/token',
  'OPTIONS /oauth/token/revocation',
  'POST /api/auth/mfa',
  'POST /api/auth/mfa/enrollment',
  'POST /api/auth/mfa/enrollment/confirm',
  'POST /api/auth/password-reset',
  'POST /api/auth/password-reset/complete',
  'POST /api/auth/refresh',
  'POST /api/auth/session',
  'POST /api/onboarding/invitations/accept',
  'POST /api/onboarding/invitations/inspect',
  'POST /api/onboarding/setup',
  'POST /oauth/token',
  'POST /oauth/token/introspection',
  'POST /oauth/token/revocation',
].sort();

describe('Z1 and Z2: route declarations (fourth hunt)', () => {
  it('Z1/public list: the routes anyone may call are exactly the deliberate short list', async () => {
    const t = await createTestApp('pglite');
    try {
      const routes = t.app.routeTable;
      const open = routes
        .filter((row) => row.access === 'public')
        .map((row) => `${row.method} ${row.path}`)
        .sort();
      expect(open, 'public routes').toEqual(DELIBERATELY_PUBLIC);
      // Short: the rest of the API, by far the most of it, needs a caller.
      const api = routes.filter((row) => row.path.startsWith('/api/'));
      expect(api.filter((row) => row.access === 'public').length).toBeLessThan(api.length / 5);
    } finally {
      await t.close();
    }
  });

  it('Z2/empty scope list: a route declared with requireScopes([]) is a contract violation, named', () => {
    const problems = routeViolations({
      method: 'GET',
      url: '/api/x',
      handler: async () => null,
      config: { access: requireScopes([]), rateClass: 'read' },
      schema: { response: Ok },
    } as never);
    expect(problems).toEqual(['GET /api/x: requireScopes needs at least one scope']);
  });

  it('Z2/empty scope list: buildApp refuses to become ready with such a route (it would admit any signed-in caller)', async () => {
    const scopeless = async (app: FastifyInstance): Promise<void> => {
      app.get(
        '/api/scopeless',
        { config: { access: requireScopes([]), rateClass: 'read' }, schema: { response: Ok } },
        async () => ({ ok: true }),
      );
    };
    await expect(createTestApp('pglite', { build: { modules: [scopeless] } })).rejects.toThrow(
      /GET \/api\/scopeless: requireScopes needs at least one scope/,
    );
  });
});
