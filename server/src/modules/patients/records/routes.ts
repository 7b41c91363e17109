// Patient record routes of the active organization (Z4, L3, V1): search, create, read, change,
// archive and restore. Handlers check the body and call the service, which decides access.
import { PATIENTS_READ, PATIENTS_WRITE, type TypedApp } from '../route-access.js';
import type { ModuleContext } from '../../../platform/module-context.js';
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

export function registerRecordRoutes(typed: TypedApp, context: ModuleContext): void {
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
      return searchPatients(db, request, filters);
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
      const patient = await createPatient(db, request, input);
      return reply.code(201).send({ patient });
    },
  );

  typed.get(
    '/api/patients/:patientId',
    { config: PATIENTS_READ, schema: { params: PatientParams, response: { 200: PatientAnswer } } },
    async function readPatientRoute(request) {
      return { patient: await readPatient(db, request, request.params.patientId) };
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
      return { patient: await changePatient(db, request, request.params.patientId, patch) };
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
        const archive = verb === 'archive';
        return { patient: await setArchived(db, request, request.params.patientId, archive) };
      },
    );
  }
}
