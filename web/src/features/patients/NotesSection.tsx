import { useState, type FormEvent } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { CheckboxField, TextAreaField, serverFieldError } from '../../shared/fields';
import { fieldErrorsOf } from '../../shared/api';
import { useResource } from '../../shared/useResource';
import { NOTE_MAX_LENGTH, decodeNoteAnswer, decodeNotes } from './notesApi';
import { NoteItem } from './NoteItem';
import { patientPath } from './patientsApi';

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
        !notes.error && <p role="status">Loading notes…</p>
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
  const [body, setBody] = useState('');
  const [shareable, setShareable] = useState(false);
  const [bodyError, setBodyError] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    if (body.trim() === '') {
      setBodyError('Write the note first.');
      return submission.invalid();
    }
    setBodyError(undefined);
    void submission.run(async () => {
      await sessionStore.api('POST', patientPath(patientId, '/notes'), decodeNoteAnswer, {
        body,
        shareable,
      });
      setBody('');
      setShareable(false);
      setSaved(true);
      onSaved();
    });
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <TextAreaField
        label="New note"
        maxLength={NOTE_MAX_LENGTH}
        value={body}
        onValueChange={setBody}
        error={bodyError ?? serverFieldError(serverErrors, 'body')}
      />
      <CheckboxField
        label="Share with the patient in the portal"
        checked={shareable}
        onCheckedChange={setShareable}
      />
      <ProblemAlert error={submission.error} />
      {saved && <SuccessNote>The note was saved.</SuccessNote>}
      <SubmitButton busy={submission.busy}>Save note</SubmitButton>
    </form>
  );
}
