// Clinical note routes of a patient record (Z4, L3, V1): list, read with history, write and
// correct. Handlers check the text and call the service, which decides access.
import type { TSchema } from 'typebox';
import { NOTES_WRITE, PATIENTS_READ, type TypedApp } from '../route-access.js';
import type { Db } from '../records/repo.js';
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

/** A route that writes a note version: its scope, body limit and schemas. */
function noteWrite<Params extends TSchema, Body extends TSchema>(params: Params, body: Body) {
  return {
    config: NOTES_WRITE,
    bodyLimit: NOTE_BODY_LIMIT,
    schema: { params, body, response: { 201: NoteAnswer } },
  };
}

export function registerNoteRoutes(typed: TypedApp, db: Db): void {
  typed.get(
    '/api/patients/:patientId/notes',
    { config: PATIENTS_READ, schema: { params: PatientParams, response: { 200: NoteList } } },
    async function readNotesRoute(request) {
      return { notes: await readNotes(db, request, request.params.patientId) };
    },
  );

  typed.get(
    '/api/patients/:patientId/notes/:noteId',
    { config: PATIENTS_READ, schema: { params: NoteParams, response: { 200: NoteHistory } } },
    async function readNoteRoute(request) {
      return readNoteHistory(db, request, request.params);
    },
  );

  typed.post(
    '/api/patients/:patientId/notes',
    noteWrite(PatientParams, NewNoteBody),
    async function createNoteRoute(request, reply) {
      const input = cleanNewNote(request.body);
      const note = await createNote(db, request, request.params.patientId, input);
      return reply.code(201).send({ note });
    },
  );

  typed.post(
    '/api/patients/:patientId/notes/:noteId/versions',
    noteWrite(NoteParams, CorrectionBody),
    async function correctNoteRoute(request, reply) {
      const input = cleanCorrection(request.body);
      const note = await correctNote(db, request, request.params, input);
      return reply.code(201).send({ note });
    },
  );
}
