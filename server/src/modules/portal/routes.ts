// The patient portal's routes (/api/portal/*): the patient's own record, consents, shared notes
// and access list. Handlers only parse and answer; service.ts decides access and audits.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { requireScopes } from '../../platform/http/route-contract.js';
import type { ModuleContext } from '../../platform/module-context.js';
import {
  AccessLogPage,
  AccessLogQuery,
  ConsentAnswer,
  ConsentBody,
  ConsentParams,
  ConsentsAnswer,
  Empty,
  NotesAnswer,
  RecordAnswer,
} from './schemas.js';
import {
  giveConsent,
  readOwnAccessLog,
  readOwnConsents,
  readOwnNotes,
  readOwnRecord,
  withdrawOwnConsent,
} from './service.js';

const READ = {
  access: requireScopes(['portal:read'], { serves: ['delegated-app'] }),
  rateClass: 'read',
} as const;
const WRITE = { access: requireScopes(['portal:write']), rateClass: 'write' } as const;

/** The patient's reads of their own record: GET, no input; the use case decides and audits. */
const OWN_READS = [
  ['/api/portal/record', RecordAnswer, readOwnRecord],
  ['/api/portal/consents', ConsentsAnswer, readOwnConsents],
  ['/api/portal/notes', NotesAnswer, readOwnNotes],
] as const;

export function registerPortalRoutes(app: FastifyInstance, ctx: ModuleContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  for (const [url, answer, read] of OWN_READS) {
    typed.get(url, { config: READ, schema: { response: { 200: answer } } }, async (request) =>
      read(ctx, request),
    );
  }

  typed.post(
    '/api/portal/consents',
    { config: WRITE, schema: { body: ConsentBody, response: { 201: ConsentAnswer } } },
    async (request, reply) => {
      const consent = await giveConsent(ctx, request, request.body.documentId);
      return reply.code(201).send({ consent });
    },
  );

  typed.post(
    '/api/portal/consents/:consentId/withdraw',
    {
      config: WRITE,
      schema: { params: ConsentParams, body: Empty, response: { 200: ConsentAnswer } },
    },
    async (request) => ({
      consent: await withdrawOwnConsent(ctx, request, request.params.consentId),
    }),
  );

  typed.get(
    '/api/portal/access-log',
    { config: READ, schema: { querystring: AccessLogQuery, response: { 200: AccessLogPage } } },
    async (request) => readOwnAccessLog(ctx, request, request.query),
  );
}
