import { sessionStore } from '../../../auth/sessionStore';
import { TextAreaField } from '../../../shared/fields';
import { FormFooter, ProblemAlert, SubmissionForm } from '../../../shared/forms';
import { useForm } from '../../../shared/submission';
import { Skeleton } from '../../../shared/Skeleton';
import { showToast } from '../../../shared/Toast';
import { useResource } from '../../../shared/useResource';
import { patientPath } from '../patientsApi';
import { NoteItem, ShareCheckbox, UNSAVED_HINT } from './NoteItem';
import { NOTE_MAX_LENGTH, decodeNoteAnswer, decodeNotes } from './notesApi';

/** Clinical notes, newest first; new notes and corrections (which add versions, never edit). */
export function NotesSection({ patientId, canWrite }: { patientId: string; canWrite: boolean }) {
  const notes = useResource(patientId, () =>
    sessionStore.api('GET', patientPath(patientId, '/notes'), decodeNotes),
  );
  return (
    <section className="panel stack" aria-labelledby="notes-title">
      <h2 id="notes-title">Notes</h2>
      {canWrite && <NewNoteForm patientId={patientId} onSaved={notes.reload} />}
      <ProblemAlert error={notes.error} />
      {notes.data === null ? (
        !notes.error && <Skeleton label="Loading notes…" />
      ) : notes.data.length === 0 ? (
        <p>No notes yet.</p>
      ) : (
        <ul className="cards" aria-label="Notes">
          {notes.data.map((note) => (
            <NoteItem
              key={note.id}
              patientId={patientId}
              note={note}
              canWrite={canWrite}
              onChanged={notes.reload}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function NewNoteForm({ patientId, onSaved }: { patientId: string; onSaved: () => void }) {
  // Kept while unsaved: another tab of the record or an ended session must not lose it.
  const form = useForm({ body: '', shareable: false }, { keep: `note:${patientId}` });

  const submit = () => {
    const { body, shareable } = form.values;
    if (!form.validate({ body: body.trim() === '' ? 'Write the note first.' : undefined })) return;
    void form.run(async () => {
      await sessionStore.api('POST', patientPath(patientId, '/notes'), decodeNoteAnswer, {
        body,
        shareable,
      });
      form.clear('body', 'shareable');
      onSaved();
      showToast('The note was saved.');
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <TextAreaField
        label="New note"
        maxLength={NOTE_MAX_LENGTH}
        hint={form.restored ? UNSAVED_HINT : undefined}
        {...form.bind('body')}
      />
      <ShareCheckbox {...form.bindCheckbox('shareable')} />
      <FormFooter submission={form}>Save note</FormFooter>
    </SubmissionForm>
  );
}
