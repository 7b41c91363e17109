// Clinical note use cases (Z4, L3, V1): notes are append-only and versioned. A correction adds
// a version with its reason; no version is ever changed or deleted (the database refuses
// both). Each read and write is one PHI audit event in the same transaction.
import { HavenError } from '../../../platform/errors.js';
import { auditPhi } from '../../../platform/access/phi-audit.js';
import { onUniqueViolation } from '../../../platform/unique-conflict.js';
import type { StaffCaller } from '../staff-caller.js';
import type { Db } from '../records/repo.js';
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
  caller: StaffCaller,
  patientId: string,
): Promise<NoteView[]> {
  return onPatient(db, caller, patientId, 'read', async (trx, patient) => {
    const notes = await listNotes(trx, caller.scope.organizationId, patient.id);
    await auditPhi(trx, caller.request, { action: 'patient.notes_read', patientId: patient.id });
    return notes;
  });
}

/** One note with every version, oldest first; one PHI audit event. */
export async function readNoteHistory(
  db: Db,
  caller: StaffCaller,
  patientId: string,
  noteId: string,
): Promise<{ note: NoteView; versions: NoteVersionView[] }> {
  const { organizationId } = caller.scope;
  return onPatient(db, caller, patientId, 'read', async (trx, patient) => {
    const note = await findNote(trx, organizationId, patient.id, noteId);
    const versions = await selectNoteVersions(trx, organizationId, patient.id, note.id);
    await auditPhi(trx, caller.request, {
      action: 'patient.note_read',
      patientId: patient.id,
      details: { noteId: note.id },
    });
    return { note, versions: versions.map(toVersionView) };
  });
}

/** Writes a new note (version 1) on a live record; `input` is checked (checks.ts). */
export async function createNote(
  db: Db,
  caller: StaffCaller,
  patientId: string,
  input: NewNoteInput,
): Promise<NoteView> {
  const { organizationId, userId } = caller.scope;
  return onPatient(db, caller, patientId, 'write', async (trx, patient) => {
    const noteId = await insertNote(trx, organizationId, patient.id, userId);
    await insertNoteVersion(trx, {
      noteId,
      version: 1,
      body: input.body,
      shareable: input.shareable,
      authorId: userId,
      correctionReason: null,
    });
    await auditPhi(trx, caller.request, {
      action: 'patient.note_created',
      patientId: patient.id,
      details: { noteId },
    });
    return findNote(trx, organizationId, patient.id, noteId);
  });
}

/**
 * Adds a correcting version with its reason; the earlier versions stay as they were. `input`
 * is checked (checks.ts).
 */
export async function correctNote(
  db: Db,
  caller: StaffCaller,
  target: { patientId: string; noteId: string },
  input: CorrectionInput,
): Promise<NoteView> {
  const { organizationId, userId } = caller.scope;
  return (
    onPatient(db, caller, target.patientId, 'write', async (trx, patient) => {
      // Corrections of one note queue on its row, so each reads the version before it.
      const noteId = await lockNote(trx, organizationId, patient.id, target.noteId);
      if (noteId === undefined) throw noteNotFound();
      const version = (await latestNoteVersion(trx, noteId)) + 1;
      await insertNoteVersion(trx, {
        noteId,
        version,
        body: input.body,
        shareable: input.shareable,
        authorId: userId,
        correctionReason: input.reason,
      });
      await auditPhi(trx, caller.request, {
        action: 'patient.note_corrected',
        patientId: patient.id,
        details: { noteId, version },
      });
      return findNote(trx, organizationId, patient.id, noteId);
    })
      // UNIQUE (note_id, version): a concurrent correction took this number despite the lock.
      .catch(onUniqueViolation(correctedMeanwhile))
  );
}
