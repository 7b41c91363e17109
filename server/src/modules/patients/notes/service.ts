// Clinical note use cases (Z4, L3, V1): notes are append-only and versioned. A correction adds
// a version with its reason; no version is ever changed or deleted (the database refuses
// both). Each read and write is one PHI audit event in the same transaction.
import type { FastifyRequest } from 'fastify';
import { HavenError } from '../../../platform/errors.js';
import { auditPhi } from '../../../platform/access/phi-audit.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import type { Db, PatientRow } from '../records/repo.js';
import { onPatient } from '../records/service.js';
import {
  insertNote,
  insertNoteVersion,
  latestNoteVersion,
  lockNote,
  selectNoteVersions,
  selectNotes,
  type VersionRow,
} from './repo.js';
import type { CorrectionInput, NewNoteInput, NoteVersionView, NoteView } from './schemas.js';

const noteNotFound = () => new HavenError('NOT_FOUND', 'The note was not found.');
const correctedMeanwhile = () =>
  new HavenError('CONFLICT', 'The note was corrected at the same time; reload it.');

function toVersionView(row: VersionRow): NoteVersionView {
  return {
    version: row.version,
    body: row.body,
    shareable: row.shareable,
    // author_id is a foreign key that every write sets; the fallback only guards old rows.
    author: { id: row.author_id ?? '', displayName: row.author_name ?? 'Unknown author' },
    createdAt: row.created_at.toISOString(),
    correctionReason: row.correction_reason,
  };
}

async function listNotes(
  db: Db,
  organizationId: string,
  patientId: string,
  noteId?: string,
): Promise<NoteView[]> {
  const rows = await selectNotes(db, organizationId, patientId, noteId);
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.note_created_at.toISOString(),
    current: toVersionView(row),
    versionCount: Number(row.version_count),
  }));
}

async function findNote(db: Db, organizationId: string, patientId: string, noteId: string) {
  const [note] = await listNotes(db, organizationId, patientId, noteId);
  if (!note) throw noteNotFound();
  return note;
}

/** The patient's notes with their current versions; one PHI audit event. */
export async function readNotes(
  db: Db,
  request: FastifyRequest,
  patientId: string,
): Promise<NoteView[]> {
  return onPatient(db, request, patientId, 'read', async (trx, patient) => {
    const notes = await listNotes(trx, patient.organization_id, patient.id);
    await auditPhi(trx, request, { action: 'patient.notes_read', patientId: patient.id });
    return notes;
  });
}

/** One note with every version, oldest first; one PHI audit event. */
export async function readNoteHistory(
  db: Db,
  request: FastifyRequest,
  target: { patientId: string; noteId: string },
): Promise<{ note: NoteView; versions: NoteVersionView[] }> {
  return onPatient(db, request, target.patientId, 'read', async (trx, patient) => {
    const note = await findNote(trx, patient.organization_id, patient.id, target.noteId);
    const versions = await selectNoteVersions(trx, patient.organization_id, patient.id, note.id);
    await auditPhi(trx, request, {
      action: 'patient.note_read',
      patientId: patient.id,
      details: { noteId: note.id },
    });
    return { note, versions: versions.map(toVersionView) };
  });
}

/**
 * Appends a version to a note of the patient and audits it; answers the note as it now stands.
 * Version 1 is a new note, any later one a correction.
 */
async function appendVersion(
  trx: Db,
  request: FastifyRequest,
  write: { patient: PatientRow; authorId: string; noteId: string; version: number },
  input: NewNoteInput & { reason?: string },
): Promise<NoteView> {
  const { patient, noteId, version } = write;
  await insertNoteVersion(trx, {
    noteId,
    version,
    body: input.body,
    shareable: input.shareable,
    authorId: write.authorId,
    correctionReason: input.reason ?? null,
  });
  await auditPhi(trx, request, {
    action: version === 1 ? 'patient.note_created' : 'patient.note_corrected',
    patientId: patient.id,
    details: version === 1 ? { noteId } : { noteId, version },
  });
  return findNote(trx, patient.organization_id, patient.id, noteId);
}

/** Writes a new note (version 1) on a live record; `input` is checked (checks.ts). */
export async function createNote(
  db: Db,
  request: FastifyRequest,
  patientId: string,
  input: NewNoteInput,
): Promise<NoteView> {
  return onPatient(db, request, patientId, 'write', async (trx, patient, { userId }) => {
    const noteId = await insertNote(trx, patient.organization_id, patient.id, userId);
    return appendVersion(trx, request, { patient, authorId: userId, noteId, version: 1 }, input);
  });
}

/**
 * Adds a correcting version with its reason; the earlier versions stay as they were. `input`
 * is checked (checks.ts).
 */
export async function correctNote(
  db: Db,
  request: FastifyRequest,
  target: { patientId: string; noteId: string },
  input: CorrectionInput,
): Promise<NoteView> {
  return (
    onPatient(db, request, target.patientId, 'write', async (trx, patient, { userId }) => {
      // Corrections of one note queue on its row, so each reads the version before it.
      const noteId = await lockNote(trx, patient.organization_id, patient.id, target.noteId);
      if (noteId === undefined) throw noteNotFound();
      const version = (await latestNoteVersion(trx, noteId)) + 1;
      return appendVersion(trx, request, { patient, authorId: userId, noteId, version }, input);
    })
      // UNIQUE (note_id, version): a concurrent correction took this number despite the lock.
      .catch(onUniqueViolation(correctedMeanwhile))
  );
}
