// The route contract (Z1, Z2, R1, V1, V3): a route that does not declare its access, rate
// class and strict schemas stops the server at start, with a message naming it.
import { expect, it, describe } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import {
  PUBLIC,
  RouteContractError,
  enforceRouteContract,
  requireScopes,
  routeViolations,
} from '../../src/platform/http/route-contract.js';
import { openAnswer } from '../../src/platform/http/schemas.js';
import { createTestApp } from '../app-harness.js';
import { probeRoutes } from '../fixtures/probe-routes.js';

const Ok = { 200: Type.Object({ ok: Type.Boolean() }, { additionalProperties: false }) };

async function startWith(register: (app: ReturnType<typeof Fastify>) => void): Promise<unknown> {
  const app = Fastify();
  enforceRouteContract(app);
  register(app);
  try {
    await app.ready();
    return null;
  } catch (error) {
    return error;
  } finally {
    await app.close();
  }
}

describe('route contract', () => {
  it('Z1/undeclared route: a route without an access declaration stops the server, naming it', async () => {
    const error = await startWith((app) =>
      app.get(
        '/api/leaky',
        { config: { rateClass: 'read' }, schema: { response: Ok } },
        async () => ({ ok: true }),
      ),
    );
    expect(error).toBeInstanceOf(RouteContractError);
    expect(String((error as Error).message)).toContain('GET /api/leaky: no access declaration');
  });

  it('R1: a route without a rate class stops the server', async () => {
    const error = await startWith((app) =>
      app.get('/api/fast', { config: { access: PUBLIC }, schema: { response: Ok } }, async () => ({
        ok: true,
      })),
    );
    expect((error as Error).message).toContain('GET /api/fast: no rate class');
  });

  it('V1/unbounded input: a string without maxLength stops the server, naming route and field', async () => {
    const error = await startWith((app) =>
      app.post(
        '/api/notes',
        {
          config: { access: requireScopes(['notes:write']), rateClass: 'write' },
          schema: {
            body: Type.Object({ text: Type.String() }, { additionalProperties: false }),
            response: Ok,
          },
        },
        async () => ({ ok: true }),
      ),
    );
    expect((error as Error).message).toContain(
      'POST /api/notes: body.text: string without maxLength',
    );
  });

  it('V1: open objects, unbounded arrays, missing body/params/response schemas are each named', () => {
    const problems = routeViolations({
      method: 'PUT',
      url: '/api/items/:id',
      handler: async () => null,
      config: { access: requireScopes(['items:write']), rateClass: 'write' },
      schema: {
        querystring: Type.Object({ tags: Type.Array(Type.String({ maxLength: 5 })) }),
      },
    } as never);
    expect(problems).toEqual(
      expect.arrayContaining([
        'PUT /api/items/:id: querystring: object must set additionalProperties: false',
        'PUT /api/items/:id: querystring.tags: array without maxItems',
        'PUT /api/items/:id: no response schema for its success status',
        'PUT /api/items/:id: path parameters without a params schema',
        'PUT /api/items/:id: no body schema',
      ]),
    );
  });

  it('V3/open answer: a success response that lets undeclared fields out stops the server, unless marked as not Haven’s to declare', async () => {
    const route = (response: Record<number, unknown>) =>
      routeViolations({
        method: 'GET',
        url: '/api/items',
        handler: async () => null,
        config: { access: requireScopes(['items:read']), rateClass: 'read' },
        schema: { response },
      } as never);
    // An open object (a handler's whole row would leave the server), nested too, and a value of
    // no declared type (serialized as whatever the handler returned).
    const leaky = Type.Object({ id: Type.String() }, { additionalProperties: true });
    expect(route({ 200: leaky })).toEqual([
      'GET /api/items: response 200: object lets undeclared fields out (additionalProperties: true)',
    ]);
    expect(route({ 200: Type.Object({ items: Type.Array(leaky) }) })).toEqual([
      'GET /api/items: response 200.items[]: object lets undeclared fields out (additionalProperties: true)',
    ]);
    expect(route({ 200: Type.Object({ extra: Type.Unknown() }) })).toEqual([
      'GET /api/items: response 200.extra: a value of no declared type',
    ]);
    // Marked deliberately open (the provider's RFC answers, the API document, a file's bytes).
    expect(route({ 200: openAnswer(leaky) })).toEqual([]);
    expect(route({ 200: Type.Object({ id: Type.String() }) })).toEqual([]);
    // Error answers are problem+json written by the problem handler, not judged here.
    expect(route({ 200: Type.Object({ id: Type.String() }), 400: leaky })).toEqual([]);
    // And the server refuses to start with one.
    const error = await startWith((app) => {
      app.get(
        '/api/leaky',
        { config: { access: PUBLIC, rateClass: 'read' }, schema: { response: { 200: leaky } } },
        async () => ({ id: 'x' }),
      );
    });
    expect(error).toBeInstanceOf(RouteContractError);
    expect(String(error)).toContain(
      'GET /api/leaky: response 200: object lets undeclared fields out',
    );
  });

  it('V1/mass assignment: a map keyed by data is allowed only with bounded keys and bounded values', () => {
    const mapRoute = (body: unknown) =>
      routeViolations({
        method: 'POST',
        url: '/api/answers',
        handler: async () => null,
        config: { access: requireScopes(['reviews:answer']), rateClass: 'write' },
        schema: { body, response: Ok },
      } as never);
    const keys = { pattern: '^[a-z]+$', maxLength: 64 };
    // Open to any property: refused, as every open object is.
    expect(mapRoute(Type.Object({}, { additionalProperties: true }))).toContain(
      'POST /api/answers: body: object must set additionalProperties: false',
    );
    // A value schema but no bound on the number or the shape of keys: refused.
    for (const loose of [
      { additionalProperties: Type.Number() },
      { additionalProperties: Type.Number(), maxProperties: 10 },
      { additionalProperties: Type.Number(), propertyNames: keys },
      { additionalProperties: Type.Number(), maxProperties: 10, propertyNames: { maxLength: 64 } },
    ]) {
      expect(mapRoute(Type.Object({}, loose))).toContain(
        'POST /api/answers: body: object must set additionalProperties: false',
      );
    }
    // Bounded keys and values: allowed, and the value schema is held to the rules too.
    expect(
      mapRoute(
        Type.Object(
          {},
          { additionalProperties: Type.Number(), maxProperties: 10, propertyNames: keys },
        ),
      ),
    ).toEqual([]);
    expect(
      mapRoute(
        Type.Object(
          {},
          { additionalProperties: Type.String(), maxProperties: 10, propertyNames: keys },
        ),
      ),
    ).toEqual(['POST /api/answers: body.*: string without maxLength']);
  });

  it('Z2: scopes must be well-formed area:action names', () => {
    const problems = routeViolations({
      method: 'GET',
      url: '/api/x',
      handler: async () => null,
      config: { access: requireScopes(['ADMIN']), rateClass: 'read' },
      schema: { response: Ok },
    } as never);
    expect(problems).toEqual(['GET /api/x: scope "ADMIN" is not of the form area:action']);
  });

  it('every route of the real app honours the contract and appears in the route table', async () => {
    const t = await createTestApp('pglite', { build: { modules: [probeRoutes] } });
    try {
      const rows = t.app.routeTable;
      expect(rows.find((r) => r.path === '/healthz' && r.method === 'GET')).toMatchObject({
        access: 'public',
        rateClass: 'public',
      });
      expect(rows.find((r) => r.path === '/api/test/roles')).toMatchObject({
        access: 'scopes',
        scopes: 'users:manage',
        stepUp: true,
        rateClass: 'sensitive',
      });
      expect(rows.every((r) => r.access !== 'UNDECLARED' && r.rateClass !== 'UNDECLARED')).toBe(
        true,
      );
    } finally {
      await t.close();
    }
  });
});

it('Z1: buildApp refuses to become ready when a feature module adds an undeclared route', async () => {
  const badModule = async (app: FastifyInstance): Promise<void> => {
    app.get('/api/undeclared', { schema: { response: Ok } }, async () => ({ ok: true }));
  };
  await expect(createTestApp('pglite', { build: { modules: [badModule] } })).rejects.toThrow(
    /GET \/api\/undeclared: no access declaration/,
  );
});
