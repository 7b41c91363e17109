// Assignment routes (Z2, Z4, V1, L3): the list, uploads by API (JSON) and as a CSV sheet, and the
// randomizer. Reads need `studies:read`, changes `studies:manage`; the service decides access to
// the study itself.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../../platform/http/route-contract.js';
import type { ModuleContext } from '../../../platform/module-context.js';
import { Type } from 'typebox';
import { CSV_BODY_LIMIT } from '../shared/csv-body.js';
import {
  AssignmentBody,
  AssignmentListQuery,
  AssignmentPage,
  CreatedAnswer,
  ImportAnswer,
  RandomizationAnswer,
  RandomizationBody,
  RandomizationList,
  StudyParams,
} from './schemas.js';
import { listRandomizations, randomize } from './randomization-service.js';
import { createAssignments, importAssignmentSheet, listAssignments } from './service.js';

const READ = { access: requireScopes(['studies:read']), rateClass: 'read' } as const;
const MANAGE = { access: requireScopes(['studies:manage']), rateClass: 'write' } as const;
/** A CSV sheet, decoded as strict UTF-8 by the reviews plugin's parser (shared/csv-body.ts). */
const CsvSheet = Type.String({ maxLength: CSV_BODY_LIMIT });
const UPLOAD = { access: requireScopes(['studies:manage']), rateClass: 'upload' } as const;
/** 1,000 assignments, each with a display of a few dozen features. */
const JSON_UPLOAD_LIMIT = 8 * 1024 * 1024;
/** 5,000 participant ids and 20,000 case ids at ~40 bytes each. */
const RANDOMIZATION_BODY_LIMIT = 1024 * 1024;

export function registerAssignmentRoutes(
  app: FastifyInstance,
  ctx: ModuleContext<Record<string, never>>,
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = ctx;

  typed.get(
    '/api/studies/:studyId/assignments',
    {
      config: READ,
      schema: {
        params: StudyParams,
        querystring: AssignmentListQuery,
        response: { 200: AssignmentPage },
      },
    },
    async (request) => listAssignments(db, request, request.params.studyId, request.query),
  );

  typed.post(
    '/api/studies/:studyId/assignments',
    {
      config: UPLOAD,
      bodyLimit: JSON_UPLOAD_LIMIT,
      schema: { params: StudyParams, body: AssignmentBody, response: { 201: CreatedAnswer } },
    },
    async (request, reply) => {
      const created = await createAssignments(db, request, request.params.studyId, request.body);
      return reply.code(201).send({ created });
    },
  );

  typed.post(
    '/api/studies/:studyId/assignments/import',
    {
      config: UPLOAD,
      bodyLimit: CSV_BODY_LIMIT,
      schema: { params: StudyParams, body: CsvSheet, response: { 201: ImportAnswer } },
    },
    async (request, reply) => {
      const answer = await importAssignmentSheet(db, request, request.params.studyId, request.body);
      return reply.code(201).send(answer);
    },
  );

  typed.post(
    '/api/studies/:studyId/randomizations',
    {
      config: MANAGE,
      bodyLimit: RANDOMIZATION_BODY_LIMIT,
      schema: {
        params: StudyParams,
        body: RandomizationBody,
        response: { 201: RandomizationAnswer },
      },
    },
    async (request, reply) => {
      const randomization = await randomize(db, request, request.params.studyId, request.body);
      return reply.code(201).send({ randomization });
    },
  );

  typed.get(
    '/api/studies/:studyId/randomizations',
    { config: READ, schema: { params: StudyParams, response: { 200: RandomizationList } } },
    async (request) => ({
      randomizations: await listRandomizations(db, request, request.params.studyId),
    }),
  );
}
