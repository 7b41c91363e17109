// The participant's routes (issue 10): their studies, the next case, one assignment, the opening
// stamps and the answer. Each reaches a study or an assignment through requireAccess in the
// service; the scopes here are the first gate (Z2).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import {
  ANSWER_BODY_LIMIT,
  AnswerBody,
  AssignmentAnswer,
  AssignmentParams,
  EventBody,
  NextAnswer,
  ParticipantStudies,
  StudyParams,
  SubmittedAnswer,
} from './schemas.js';
import { listMyStudies, nextCase, readAssignment, recordEvent, submitAnswer } from './service.js';

export function registerParticipationRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<Record<string, never>>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/api/reviews/studies',
    {
      config: { access: requireScopes(['reviews:read']), rateClass: 'read' },
      schema: { response: { 200: ParticipantStudies } },
    },
    async (request) => ({ studies: await listMyStudies(ctx, request) }),
  );

  typed.get(
    '/api/reviews/studies/:studyId/next',
    {
      config: { access: requireScopes(['reviews:read']), rateClass: 'read' },
      schema: { params: StudyParams, response: { 200: NextAnswer } },
    },
    async (request) => nextCase(ctx, request, request.params.studyId),
  );

  typed.get(
    '/api/reviews/assignments/:assignmentId',
    {
      config: { access: requireScopes(['reviews:read']), rateClass: 'read' },
      schema: { params: AssignmentParams, response: { 200: AssignmentAnswer } },
    },
    async (request) => ({
      assignment: await readAssignment(ctx, request, request.params.assignmentId),
    }),
  );

  typed.post(
    '/api/reviews/assignments/:assignmentId/events',
    {
      config: { access: requireScopes(['reviews:answer']), rateClass: 'write' },
      bodyLimit: 1024,
      schema: { params: AssignmentParams, body: EventBody, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await recordEvent(ctx, request, request.params.assignmentId, request.body);
      // No body: the handler's undefined result makes Fastify send the empty 204.
      reply.code(204);
    },
  );

  typed.post(
    '/api/reviews/assignments/:assignmentId/answer',
    {
      config: { access: requireScopes(['reviews:answer']), rateClass: 'write' },
      bodyLimit: ANSWER_BODY_LIMIT,
      schema: {
        params: AssignmentParams,
        body: AnswerBody,
        response: { 200: SubmittedAnswer, 201: SubmittedAnswer },
      },
    },
    async (request, reply) => {
      const submission = await submitAnswer(
        ctx,
        request,
        request.params.assignmentId,
        request.body,
      );
      return reply.code(submission.created ? 201 : 200).send({ answer: submission.answer });
    },
  );
}
