// Clinical notes and their versions. Notes are scoped by patient AND organization in every
// query; versions are reached through a note so scoped (or one locked under that scope).
import { sql } from 'kysely';
import type { Db } from '../records/repo.js';

export interface VersionRow {
  version: number;
  body: string;
  shareable: boolean;
  author_id: string | null;
  author_name: string | null;
  created_at: Date;
  correction_reason: string | null;
}

/** A version as VersionRow holds it; `u` is the join on users that names the author. */
const VERSION_COLUMNS = [
  'v.version',
  'v.body',
  'v.shareable',
  'v.author_id',
  'u.display_name as author_name',
  'v.created_at',
  'v.correction_reason',
] as const;

/**
 * Notes (`n`) joined to their current, highest version (`v`) and its author (`u`): the one
 * definition of a note's current version, which staff and the patient portal both read.
 * Author names come from the join on users, never from a copy in the note.
 */
export function currentNoteVersions(db: Db) {
  return db
    .selectFrom('clinical_notes as n')
    .innerJoin('clinical_note_versions as v', 'v.note_id', 'n.id')
    .leftJoin('users as u', 'u.id', 'v.author_id')
    .where(
      sql<boolean>`v.version = (select max(m.version) from clinical_note_versions m where m.note_id = n.id)`,
    );
}

/** The notes of one patient of one organization with their current version, newest first (or just `noteId`). */
export async function selectNotes(
  db: Db,
  organizationId: string,
  patientId: string,
  noteId?: string,
) {
  let query = currentNoteVersions(db)
    .select([
      'n.id',
      'n.created_at as note_created_at',
      ...VERSION_COLUMNS,
      sql<string>`(select count(*) from clinical_note_versions c where c.note_id = n.id)`.as(
        'version_count',
      ),
    ])
    .where('n.patient_id', '=', patientId)
    .where('n.organization_id', '=', organizationId)
    .orderBy('n.created_at', 'desc')
    .orderBy('n.id', 'desc');
  if (noteId !== undefined) query = query.where('n.id', '=', noteId);
  return query.execute();
}

/** Every version of the patient's note, oldest first. */
export async function selectNoteVersions(
  db: Db,
  organizationId: string,
  patientId: string,
  noteId: string,
): Promise<VersionRow[]> {
  return db
    .selectFrom('clinical_note_versions as v')
    .innerJoin('clinical_notes as n', 'n.id', 'v.note_id')
    .leftJoin('users as u', 'u.id', 'v.author_id')
    .select(VERSION_COLUMNS)
    .where('v.note_id', '=', noteId)
    .where('n.patient_id', '=', patientId)
    .where('n.organization_id', '=', organizationId)
    .orderBy('v.version', 'asc')
    .execute();
}

export async function insertNote(
  db: Db,
  organizationId: string,
  patientId: string,
  createdBy: string,
): Promise<string> {
  const created = await db
    .insertInto('clinical_notes')
    .values({ patient_id: patientId, organization_id: organizationId, created_by: createdBy })
    .returning('id')
    .executeTakeFirstOrThrow();
  return created.id;
}

export async function insertNoteVersion(
  db: Db,
  values: {
    noteId: string;
    version: number;
    body: string;
    shareable: boolean;
    authorId: string;
    correctionReason: string | null;
  },
): Promise<void> {
  await db
    .insertInto('clinical_note_versions')
    .values({
      note_id: values.noteId,
      version: values.version,
      body: values.body,
      shareable: values.shareable,
      author_id: values.authorId,
      correction_reason: values.correctionReason,
    })
    .execute();
}

/** Locks the patient's note until commit (corrections queue on it); its id, or undefined. */
export async function lockNote(
  db: Db,
  organizationId: string,
  patientId: string,
  noteId: string,
): Promise<string | undefined> {
  const locked = await db
    .selectFrom('clinical_notes')
    .select('id')
    .where('id', '=', noteId)
    .where('patient_id', '=', patientId)
    .where('organization_id', '=', organizationId)
    .forUpdate()
    .executeTakeFirst();
  return locked?.id;
}

/** The highest version number of a note locked by lockNote; 0 when it has none. */
export async function latestNoteVersion(db: Db, noteId: string): Promise<number> {
  const latest = await db
    .selectFrom('clinical_note_versions')
    .select((eb) => eb.fn.max('version').as('version'))
    .where('note_id', '=', noteId)
    .executeTakeFirst();
  return Number(latest?.version ?? 0);
}
