// Patient record routes of the active organization (Z4, L3, V1): search, create, read, change,
// archive and restore. Handlers check the body, resolve the caller and call the service.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ModuleContext } from '../../../platform/module-context.js';
import { PATIENTS_READ, PATIENTS_WRITE } from '../route-access.js';
import { staffCaller } from '../staff-caller.js';
import { cleanPatientFilters, cleanPatientInput } from './checks.js';
import {
  Empty,
  PatientAnswer,
  PatientInputSchema,
  PatientPage,
  PatientParams,
  PatientPatchSchema,
  PatientSearchSchema,
} from './schemas.js';
import {
  changePatient,
  createPatient,
  readPatient,
  searchPatients,
  setArchived,
} from './service.js';

export function registerRecordRoutes(app: FastifyInstance, context: ModuleContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = context;

  typed.post(
    '/api/patients/search',
    {
      config: PATIENTS_READ,
      bodyLimit: 4096,
      schema: { body: PatientSearchSchema, response: { 200: PatientPage } },
    },
    async function searchPatientsRoute(request) {
      const filters = cleanPatientFilters(request.body, context.now());
      return searchPatients(db, await staffCaller(db, request), filters);
    },
  );

  typed.post(
    '/api/patients',
    {
      config: PATIENTS_WRITE,
      bodyLimit: 16_384,
      schema: { body: PatientInputSchema, response: { 201: PatientAnswer } },
    },
    async function createPatientRoute(request, reply) {
      const input = cleanPatientInput(request.body, context.now());
      const patient = await createPatient(db, await staffCaller(db, request), input);
      return reply.code(201).send({ patient });
    },
  );

  typed.get(
    '/api/patients/:patientId',
    { config: PATIENTS_READ, schema: { params: PatientParams, response: { 200: PatientAnswer } } },
    async function readPatientRoute(request) {
      const caller = await staffCaller(db, request);
      return { patient: await readPatient(db, caller, request.params.patientId) };
    },
  );

  typed.patch(
    '/api/patients/:patientId',
    {
      config: PATIENTS_WRITE,
      bodyLimit: 16_384,
      schema: { params: PatientParams, body: PatientPatchSchema, response: { 200: PatientAnswer } },
    },
    async function changePatientRoute(request) {
      const patch = cleanPatientInput(request.body, context.now());
      const caller = await staffCaller(db, request);
      return { patient: await changePatient(db, caller, request.params.patientId, patch) };
    },
  );

  for (const verb of ['archive', 'restore'] as const) {
    typed.post(
      `/api/patients/:patientId/${verb}`,
      {
        config: PATIENTS_WRITE,
        bodyLimit: 1024,
        schema: { params: PatientParams, body: Empty, response: { 200: PatientAnswer } },
      },
      async function archiveOrRestoreRoute(request) {
        const caller = await staffCaller(db, request);
        const archive = verb === 'archive';
        return { patient: await setArchived(db, caller, request.params.patientId, archive) };
      },
    );
  }
}
