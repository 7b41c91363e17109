// Clinical note routes of a patient record (Z4, L3, V1): list, read with history, write and
// correct. Handlers check the text, resolve the caller and call the service.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ModuleContext } from '../../../platform/module-context.js';
import { NOTES_WRITE, PATIENTS_READ } from '../route-access.js';
import { staffCaller } from '../staff-caller.js';
import { PatientParams } from '../records/schemas.js';
import { cleanCorrection, cleanNewNote } from './checks.js';
import {
  CorrectionBody,
  NOTE_BODY_LIMIT,
  NewNoteBody,
  NoteAnswer,
  NoteHistory,
  NoteList,
  NoteParams,
} from './schemas.js';
import { correctNote, createNote, readNoteHistory, readNotes } from './service.js';

export function registerNoteRoutes(app: FastifyInstance, context: ModuleContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = context;

  typed.get(
    '/api/patients/:patientId/notes',
    { config: PATIENTS_READ, schema: { params: PatientParams, response: { 200: NoteList } } },
    async function readNotesRoute(request) {
      const caller = await staffCaller(db, request);
      return { notes: await readNotes(db, caller, request.params.patientId) };
    },
  );

  typed.get(
    '/api/patients/:patientId/notes/:noteId',
    { config: PATIENTS_READ, schema: { params: NoteParams, response: { 200: NoteHistory } } },
    async function readNoteRoute(request) {
      const { patientId, noteId } = request.params;
      return readNoteHistory(db, await staffCaller(db, request), patientId, noteId);
    },
  );

  typed.post(
    '/api/patients/:patientId/notes',
    {
      config: NOTES_WRITE,
      bodyLimit: NOTE_BODY_LIMIT,
      schema: { params: PatientParams, body: NewNoteBody, response: { 201: NoteAnswer } },
    },
    async function createNoteRoute(request, reply) {
      const input = cleanNewNote(request.body);
      const caller = await staffCaller(db, request);
      const note = await createNote(db, caller, request.params.patientId, input);
      return reply.code(201).send({ note });
    },
  );

  typed.post(
    '/api/patients/:patientId/notes/:noteId/versions',
    {
      config: NOTES_WRITE,
      bodyLimit: NOTE_BODY_LIMIT,
      schema: { params: NoteParams, body: CorrectionBody, response: { 201: NoteAnswer } },
    },
    async function correctNoteRoute(request, reply) {
      const input = cleanCorrection(request.body);
      const caller = await staffCaller(db, request);
      const note = await correctNote(db, caller, request.params, input);
      return reply.code(201).send({ note });
    },
  );
}
