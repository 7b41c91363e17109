// Cases of a study (V1, Z2, Z4, L3; docs/api/reviews.md "Cases"): the JSON and CSV uploads
// (rate class 'upload': large bodies, all or nothing), the paged list and one case.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { CSV_BODY_LIMIT } from '../shared/csv-body.js';
import {
  CASE_UPLOAD_BODY_LIMIT,
  CaseAnswer,
  CaseList,
  CaseListQuery,
  CaseParams,
  CaseUpload,
  ImportAnswer,
  StudyParams,
} from './schemas.js';
import { importCsvCases, importJsonCases, listCases, readCase } from './service.js';

/** A CSV case file, decoded to text by the module's text/csv parser (shared/csv-body.ts). */
const CsvUpload = Type.String({ maxLength: CSV_BODY_LIMIT });

export function registerCaseRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<Record<string, never>>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/api/studies/:studyId/cases',
    {
      config: { access: requireScopes(['studies:manage']), rateClass: 'upload' },
      bodyLimit: CASE_UPLOAD_BODY_LIMIT,
      schema: { params: StudyParams, body: CaseUpload, response: { 201: ImportAnswer } },
    },
    async (request, reply) => {
      const answer = await importJsonCases(ctx, request, request.params.studyId, request.body);
      return reply.code(201).send(answer);
    },
  );

  typed.post(
    '/api/studies/:studyId/cases/import',
    {
      config: { access: requireScopes(['studies:manage']), rateClass: 'upload' },
      bodyLimit: CSV_BODY_LIMIT,
      schema: { params: StudyParams, body: CsvUpload, response: { 201: ImportAnswer } },
    },
    async (request, reply) => {
      const answer = await importCsvCases(ctx, request, request.params.studyId, request.body);
      return reply.code(201).send(answer);
    },
  );

  typed.get(
    '/api/studies/:studyId/cases',
    {
      config: { access: requireScopes(['studies:read']), rateClass: 'read' },
      schema: { params: StudyParams, querystring: CaseListQuery, response: { 200: CaseList } },
    },
    async (request) => listCases(ctx, request, request.params.studyId, request.query),
  );

  typed.get(
    '/api/studies/:studyId/cases/:caseId',
    {
      config: { access: requireScopes(['studies:read']), rateClass: 'read' },
      schema: { params: CaseParams, response: { 200: CaseAnswer } },
    },
    async (request) => ({
      case: await readCase(ctx, request, request.params.studyId, request.params.caseId),
    }),
  );
}
