// Studies and their teams (Z2, Z4, L3; docs/api/reviews.md "Studies and their team"). Reads are
// 'read', study changes 'write', team changes 'sensitive' (they grant or end access to a study).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import type { IdentityApi } from '../../identity/index.js';
import {
  MemberList,
  MemberParams,
  ParticipantAdd,
  ParticipantAnswer,
  ResearcherAdd,
  ResearcherAnswer,
  StatusChange,
  StudyAnswer,
  StudyCreate,
  StudyList,
  StudyParams,
  StudyPatch,
} from './schemas.js';
import { changeStatus, createStudy, listStudies, readStudy, updateStudy } from './service.js';
import { addParticipant, addResearcher, listMembers, removeMember } from './team-service.js';

export function registerStudyRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<Record<string, never>>,
  identity: IdentityApi,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/api/studies',
    {
      config: { access: requireScopes(['studies:read']), rateClass: 'read' },
      schema: { response: { 200: StudyList } },
    },
    async (request) => listStudies(ctx, request),
  );

  typed.post(
    '/api/studies',
    {
      config: { access: requireScopes(['studies:manage']), rateClass: 'write' },
      bodyLimit: 16 * 1024,
      schema: { body: StudyCreate, response: { 201: StudyAnswer } },
    },
    async (request, reply) =>
      reply.code(201).send({ study: await createStudy(ctx, request, request.body) }),
  );

  typed.get(
    '/api/studies/:studyId',
    {
      config: { access: requireScopes(['studies:read']), rateClass: 'read' },
      schema: { params: StudyParams, response: { 200: StudyAnswer } },
    },
    async (request) => ({ study: await readStudy(ctx, request, request.params.studyId) }),
  );

  typed.patch(
    '/api/studies/:studyId',
    {
      config: { access: requireScopes(['studies:manage']), rateClass: 'write' },
      bodyLimit: 16 * 1024,
      schema: { params: StudyParams, body: StudyPatch, response: { 200: StudyAnswer } },
    },
    async (request) => ({
      study: await updateStudy(ctx, request, request.params.studyId, request.body),
    }),
  );

  typed.post(
    '/api/studies/:studyId/status',
    {
      config: { access: requireScopes(['studies:manage']), rateClass: 'write' },
      bodyLimit: 1024,
      schema: { params: StudyParams, body: StatusChange, response: { 200: StudyAnswer } },
    },
    async (request) => ({
      study: await changeStatus(ctx, request, request.params.studyId, request.body.status),
    }),
  );

  typed.get(
    '/api/studies/:studyId/members',
    {
      config: { access: requireScopes(['studies:read']), rateClass: 'read' },
      schema: { params: StudyParams, response: { 200: MemberList } },
    },
    async (request) => ({ members: await listMembers(ctx, request, request.params.studyId) }),
  );

  typed.post(
    '/api/studies/:studyId/researchers',
    {
      config: { access: requireScopes(['studies:manage']), rateClass: 'sensitive' },
      bodyLimit: 2048,
      schema: { params: StudyParams, body: ResearcherAdd, response: { 201: ResearcherAnswer } },
    },
    async (request, reply) => {
      const member = await addResearcher(
        ctx,
        identity,
        request,
        request.params.studyId,
        request.body.email,
      );
      return reply.code(201).send({ member });
    },
  );

  typed.post(
    '/api/studies/:studyId/participants',
    {
      config: { access: requireScopes(['studies:manage']), rateClass: 'sensitive' },
      bodyLimit: 2048,
      schema: { params: StudyParams, body: ParticipantAdd, response: { 201: ParticipantAnswer } },
    },
    async (request, reply) => {
      const added = await addParticipant(ctx, identity, request, {
        studyId: request.params.studyId,
        email: request.body.email,
        displayName: request.body.displayName,
      });
      return reply.code(201).send(added);
    },
  );

  typed.delete(
    '/api/studies/:studyId/members/:userId',
    {
      config: { access: requireScopes(['studies:manage']), rateClass: 'sensitive' },
      schema: { params: MemberParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await removeMember(ctx, request, request.params.studyId, request.params.userId);
      // No body: the handler's undefined result makes Fastify send the empty 204.
      reply.code(204);
    },
  );
}
