// Experiment routes (Z2, Z4, V1, L3): a study's experiments and their arms (display-configuration
// templates). Reads need `studies:read`, changes `studies:manage`; the service decides access to
// the study itself.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import {
  ArmAnswer,
  ArmBody,
  ExperimentAnswer,
  ExperimentBody,
  ExperimentList,
  ExperimentParams,
  StudyParams,
} from './schemas.js';
import { addArm, createExperiment, listExperiments } from './service.js';

const READ = { access: requireScopes(['studies:read']), rateClass: 'read' } as const;
const MANAGE = { access: requireScopes(['studies:manage']), rateClass: 'write' } as const;
/** An arm's template names at most 2,000 features (~1 MB); an experiment has at most 10 arms. */
const ARM_BODY_LIMIT = 1024 * 1024;
const EXPERIMENT_BODY_LIMIT = 4 * 1024 * 1024;

export function registerExperimentRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<Record<string, never>>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx;

  typed.get(
    '/api/studies/:studyId/experiments',
    { config: READ, schema: { params: StudyParams, response: { 200: ExperimentList } } },
    async (request) => ({
      experiments: await listExperiments(db, request, request.params.studyId),
    }),
  );

  typed.post(
    '/api/studies/:studyId/experiments',
    {
      config: MANAGE,
      bodyLimit: EXPERIMENT_BODY_LIMIT,
      schema: { params: StudyParams, body: ExperimentBody, response: { 201: ExperimentAnswer } },
    },
    async (request, reply) => {
      const experiment = await createExperiment(db, request, request.params.studyId, request.body);
      return reply.code(201).send({ experiment });
    },
  );

  typed.post(
    '/api/studies/:studyId/experiments/:experimentId/arms',
    {
      config: MANAGE,
      bodyLimit: ARM_BODY_LIMIT,
      schema: { params: ExperimentParams, body: ArmBody, response: { 201: ArmAnswer } },
    },
    async (request, reply) => {
      const arm = await addArm(
        db,
        request,
        request.params.studyId,
        request.params.experimentId,
        request.body,
      );
      return reply.code(201).send({ arm });
    },
  );
}
