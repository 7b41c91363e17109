// Break-glass routes (Z5): find the patient, request a grant (step-up), use it, and the admins'
// list and revoke.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../platform/http/route-contract.js';
import type { ModuleContext } from '../../platform/module-context.js';
import type { BreakGlassSettings } from './index.js';
import {
  Empty,
  GrantAnswer,
  GrantList,
  GrantListQuery,
  GrantParams,
  GrantRecordAnswer,
  GrantRequestBody,
  PatientMatches,
  PatientSearchBody,
} from './schemas.js';
import {
  listGrants,
  readUnderGrant,
  requestGrant,
  revokeGrant,
  searchPatientsToOpen,
} from './service.js';

export function registerBreakGlassRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<BreakGlassSettings>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  // The picker's search: a POST, so names and MRNs never appear in URLs or access logs.
  typed.post(
    '/api/break-glass/patients/search',
    {
      config: { access: requireScopes(['breakglass:request']), rateClass: 'sensitive' },
      bodyLimit: 1024,
      schema: { body: PatientSearchBody, response: { 200: PatientMatches } },
    },
    async (request) => ({
      patients: await searchPatientsToOpen(ctx, request, request.body.query),
    }),
  );

  typed.post(
    '/api/break-glass/grants',
    {
      config: {
        access: requireScopes(['breakglass:request'], { stepUp: true }),
        rateClass: 'sensitive',
      },
      bodyLimit: 4096,
      schema: { body: GrantRequestBody, response: { 201: GrantAnswer } },
    },
    async (request, reply) => {
      const grant = await requestGrant(ctx, request, request.body);
      return reply.code(201).send({ grant });
    },
  );

  typed.get(
    '/api/break-glass/grants/:grantId/record',
    {
      config: { access: requireScopes(['breakglass:request']), rateClass: 'sensitive' },
      schema: { params: GrantParams, response: { 200: GrantRecordAnswer } },
    },
    async (request) => readUnderGrant(ctx, request, request.params.grantId),
  );

  typed.get(
    '/api/admin/break-glass/grants',
    {
      config: { access: requireScopes(['breakglass:request']), rateClass: 'read' },
      schema: { querystring: GrantListQuery, response: { 200: GrantList } },
    },
    async (request) => ({ grants: await listGrants(ctx, request, request.query.active) }),
  );

  typed.post(
    '/api/admin/break-glass/grants/:grantId/revoke',
    {
      config: { access: requireScopes(['breakglass:request']), rateClass: 'sensitive' },
      schema: { params: GrantParams, body: Empty, response: { 200: GrantAnswer } },
    },
    async (request) => ({ grant: await revokeGrant(ctx, request, request.params.grantId) }),
  );
}
