// Questionnaire routes (Z2, Z4, V1, L3): the versions of a study's questionnaire, a draft to
// edit and its publication. Reads need `studies:read`, changes `studies:manage`; the service
// decides access to the study itself.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import {
  Empty,
  QuestionnaireBody,
  StudyParams,
  VersionAnswer,
  VersionList,
  VersionParams,
} from './schemas.js';
import {
  createQuestionnaireDraft,
  listQuestionnaireVersions,
  publishQuestionnaireVersion,
  readQuestionnaireVersion,
  replaceQuestionnaireDraft,
} from './service.js';

const READ = { access: requireScopes(['studies:read']), rateClass: 'read' } as const;
const MANAGE = { access: requireScopes(['studies:manage']), rateClass: 'write' } as const;
/** 50 questions of at most ~25 KB each, with room for the attention check. */
const QUESTIONNAIRE_BODY_LIMIT = 512 * 1024;

export function registerQuestionnaireRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<Record<string, never>>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx;

  typed.get(
    '/api/studies/:studyId/questionnaires',
    { config: READ, schema: { params: StudyParams, response: { 200: VersionList } } },
    async (request) => ({
      versions: await listQuestionnaireVersions(db, request, request.params.studyId),
    }),
  );

  typed.post(
    '/api/studies/:studyId/questionnaires',
    {
      config: MANAGE,
      bodyLimit: QUESTIONNAIRE_BODY_LIMIT,
      schema: { params: StudyParams, body: QuestionnaireBody, response: { 201: VersionAnswer } },
    },
    async (request, reply) => {
      const version = await createQuestionnaireDraft(
        db,
        request,
        request.params.studyId,
        request.body,
      );
      return reply.code(201).send({ version });
    },
  );

  typed.get(
    '/api/studies/:studyId/questionnaires/:versionId',
    { config: READ, schema: { params: VersionParams, response: { 200: VersionAnswer } } },
    async (request) => ({
      version: await readQuestionnaireVersion(
        db,
        request,
        request.params.studyId,
        request.params.versionId,
      ),
    }),
  );

  typed.put(
    '/api/studies/:studyId/questionnaires/:versionId',
    {
      config: MANAGE,
      bodyLimit: QUESTIONNAIRE_BODY_LIMIT,
      schema: { params: VersionParams, body: QuestionnaireBody, response: { 200: VersionAnswer } },
    },
    async (request) => ({
      version: await replaceQuestionnaireDraft(
        db,
        request,
        request.params.studyId,
        request.params.versionId,
        request.body,
      ),
    }),
  );

  typed.post(
    '/api/studies/:studyId/questionnaires/:versionId/publish',
    {
      config: MANAGE,
      bodyLimit: 1024,
      schema: { params: VersionParams, body: Empty, response: { 200: VersionAnswer } },
    },
    async (request) => ({
      version: await publishQuestionnaireVersion(
        db,
        request,
        request.params.studyId,
        request.params.versionId,
        ctx.now(),
      ),
    }),
  );
}
