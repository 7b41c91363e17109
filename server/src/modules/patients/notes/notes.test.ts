// Clinical notes over HTTP: creation, corrections as new versions (history kept, oldest
// first), author names from the users table, race-safe version numbers, archived patients.
import { beforeAll, expect, it } from 'vitest';
import { describeClinic, type Actor } from '../../../../test/clinical-actors.js';

interface NoteVersion {
  version: number;
  body: string;
  shareable: boolean;
  author: { id: string; displayName: string };
  createdAt: string;
  correctionReason: string | null;
}
interface Note {
  id: string;
  createdAt: string;
  current: NoteVersion;
  versionCount: number;
}

describeClinic('clinical notes', (clinic) => {
  let author: Actor;
  let corrector: Actor;
  let organizationId: string;

  beforeAll(async () => {
    author = await clinic.actor(['clinician'], { displayName: 'Dr Author' });
    corrector = await clinic.actor(['clinician'], { displayName: 'Dr Corrector' });
    organizationId = await clinic.organization({
      members: [
        [author, 'clinician'],
        [corrector, 'clinician'],
      ],
    });
  });

  async function createNote(patientId: string, body = 'Initial note.', shareable = false) {
    const response = await clinic.call(author, 'POST', `/api/patients/${patientId}/notes`, {
      body,
      shareable,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ note: Note }>().note;
  }

  /** A correction of the note as a new version, by `actor`. */
  const correct = (
    actor: Actor,
    patientId: string,
    noteId: string,
    body: string,
    reason?: string,
    shareable = false,
  ) =>
    clinic.call(actor, 'POST', `/api/patients/${patientId}/notes/${noteId}/versions`, {
      body,
      shareable,
      ...(reason === undefined ? {} : { reason }),
    });
  /** The note with its history, as `actor` reads it. */
  const readNote = (actor: Actor, patientId: string, noteId: string) =>
    clinic.call(actor, 'GET', `/api/patients/${patientId}/notes/${noteId}`);

  it('creates a note as version 1 with the author named from the users table', async () => {
    const patientId = await clinic.patient(organizationId);
    const note = await createNote(patientId, 'Line one.\nLine two.', true);
    expect(note).toMatchObject({
      versionCount: 1,
      current: {
        version: 1,
        body: 'Line one.\nLine two.',
        shareable: true,
        author: { id: author.userId, displayName: 'Dr Author' },
        correctionReason: null,
      },
    });
    // Renaming the author shows the new name: it is joined, not copied.
    await clinic.db
      .updateTable('users')
      .set({ display_name: 'Dr Renamed' })
      .where('id', '=', author.userId)
      .execute();
    const read = await readNote(author, patientId, note.id);
    expect(read.json<{ note: Note }>().note.current.author.displayName).toBe('Dr Renamed');
    await clinic.db
      .updateTable('users')
      .set({ display_name: 'Dr Author' })
      .where('id', '=', author.userId)
      .execute();
  });

  it('a correction adds a version with its reason; every earlier version is kept', async () => {
    const patientId = await clinic.patient(organizationId);
    const note = await createNote(patientId, 'BP 120/80.');
    const corrected = await correct(
      corrector,
      patientId,
      note.id,
      'BP 130/85.',
      'Transcription error',
      true,
    );
    expect(corrected.statusCode, corrected.body).toBe(201);
    const current = corrected.json<{ note: Note }>().note;
    expect(current.id).toBe(note.id);
    expect(current.versionCount).toBe(2);
    expect(current.current).toMatchObject({
      version: 2,
      body: 'BP 130/85.',
      shareable: true,
      author: { id: corrector.userId, displayName: 'Dr Corrector' },
      correctionReason: 'Transcription error',
    });

    const history = await readNote(author, patientId, note.id);
    expect(history.statusCode).toBe(200);
    const { versions } = history.json<{ note: Note; versions: NoteVersion[] }>();
    expect(versions.map((v) => [v.version, v.body, v.author.id, v.correctionReason])).toEqual([
      [1, 'BP 120/80.', author.userId, null],
      [2, 'BP 130/85.', corrector.userId, 'Transcription error'],
    ]);
  });

  it('lists notes newest first, each with its current version', async () => {
    const patientId = await clinic.patient(organizationId);
    const first = await createNote(patientId, 'First.');
    const second = await createNote(patientId, 'Second.');
    await correct(author, patientId, first.id, 'First, corrected.', 'typo');
    const list = await clinic.call(author, 'GET', `/api/patients/${patientId}/notes`);
    expect(list.statusCode).toBe(200);
    const notes = list.json<{ notes: Note[] }>().notes;
    expect(notes.map((n) => [n.id, n.current.body, n.versionCount])).toEqual([
      [second.id, 'Second.', 1],
      [first.id, 'First, corrected.', 2],
    ]);
  });

  it('concurrent corrections get consecutive version numbers, never a 500', async () => {
    const patientId = await clinic.patient(organizationId);
    const note = await createNote(patientId);
    const responses = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        correct(author, patientId, note.id, `Correction ${i}`, `Reason ${i}`),
      ),
    );
    for (const response of responses) expect([201, 409]).toContain(response.statusCode);
    const history = await readNote(author, patientId, note.id);
    const versions = history.json<{ versions: NoteVersion[] }>().versions.map((v) => v.version);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    expect(versions.length).toBe(1 + responses.filter((r) => r.statusCode === 201).length);
  });

  it('writes on an archived patient answer 409; reads still work', async () => {
    const patientId = await clinic.patient(organizationId);
    const note = await createNote(patientId);
    await clinic.call(author, 'POST', `/api/patients/${patientId}/archive`, {});
    const create = await clinic.call(author, 'POST', `/api/patients/${patientId}/notes`, {
      body: 'More.',
      shareable: false,
    });
    expect(create.statusCode).toBe(409);
    const correction = await correct(author, patientId, note.id, 'More.', 'why');
    expect(correction.statusCode).toBe(409);
    expect((await clinic.call(author, 'GET', `/api/patients/${patientId}/notes`)).statusCode).toBe(
      200,
    );
  });

  it('a note of another patient of the same organization is a 404 under this patient', async () => {
    const patientA = await clinic.patient(organizationId);
    const patientB = await clinic.patient(organizationId);
    const note = await createNote(patientA);
    const read = await readNote(author, patientB, note.id);
    expect(read.statusCode).toBe(404);
    const correction = await correct(author, patientB, note.id, 'x', 'y');
    expect(correction.statusCode).toBe(404);
  });

  it('a note without reason, or a blank body, is refused with the field named', async () => {
    const patientId = await clinic.patient(organizationId);
    const note = await createNote(patientId);
    const noReason = await correct(author, patientId, note.id, 'x');
    expect(noReason.statusCode).toBe(400);
    expect(JSON.stringify(noReason.json())).toContain('body.reason');
    const blank = await clinic.call(author, 'POST', `/api/patients/${patientId}/notes`, {
      body: ' \n\t ',
      shareable: false,
    });
    expect(blank.statusCode).toBe(400);
    expect(blank.json()).toMatchObject({ errors: [{ field: 'body.body' }] });
  });
});
