// The study dashboard (issue 10): the study team's view of progress, attention, durations and
// inter-rater agreement.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { Dashboard, StudyParams } from './schemas.js';
import { studyDashboard } from './service.js';

export function registerDashboardRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<Record<string, never>>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/api/studies/:studyId/dashboard',
    {
      config: { access: requireScopes(['studies:read']), rateClass: 'read' },
      schema: { params: StudyParams, response: { 200: Dashboard } },
    },
    async (request) => studyDashboard(ctx, request, request.params.studyId),
  );
}
