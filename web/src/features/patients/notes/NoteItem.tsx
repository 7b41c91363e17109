import { useState } from 'react';
import { sessionStore } from '../../../auth/sessionStore';
import { formatDateTime } from '../../../shared/dates';
import { hasKeptDraft } from '../../../shared/drafts';
import { CheckboxField, TextAreaField } from '../../../shared/fields';
import { FormFooter, ProblemAlert, SubmissionForm } from '../../../shared/forms';
import { useForm } from '../../../shared/submission';
import { Skeleton } from '../../../shared/Skeleton';
import { showToast } from '../../../shared/Toast';
import { useResource } from '../../../shared/useResource';
import { NoteDiff } from './NoteDiff';
import { patientPath } from '../patientsApi';
import { NOTE_MAX_LENGTH, decodeNoteAnswer, decodeNoteHistory, type Note } from './notesApi';

interface Props {
  patientId: string;
  note: Note;
  canWrite: boolean;
  onChanged: () => void;
}

/** What a note form says when it came back with words that were never saved. */
export const UNSAVED_HINT = 'Not saved yet: this is what you had written before you left it.';

/** The draft of a correction, for the version it corrects (a newer version makes it stale). */
const correctionDraftKey = (note: Note) => `note-correction:${note.id}:${note.versionCount}`;

/** One note: its current version, the version history on demand, and a correction form. */
export function NoteItem({ patientId, note, canWrite, onChanged }: Props) {
  const [showHistory, setShowHistory] = useState(false);
  // An unsaved correction reopens its form.
  const [correcting, setCorrecting] = useState(() => hasKeptDraft(correctionDraftKey(note)));
  const historyId = `note-${note.id}-history`;
  const v = note.current;
  return (
    <li className="card" data-testid="note">
      <p className="card-title">
        {v.author.displayName} · {formatDateTime(v.createdAt)}
        {v.shareable ? (
          <span className="badge">Shared with patient</span>
        ) : (
          <span className="badge badge-muted">Staff only</span>
        )}
      </p>
      <p className="note-body">{v.body}</p>
      {v.correctionReason !== null && (
        <p className="note">
          Corrected (version {v.version}): {v.correctionReason}
        </p>
      )}
      <div className="actions">
        {note.versionCount > 1 && (
          <button
            type="button"
            className="button secondary"
            aria-expanded={showHistory}
            aria-controls={historyId}
            onClick={() => setShowHistory((s) => !s)}
          >
            {showHistory ? 'Hide history' : `Show history (${note.versionCount} versions)`}
          </button>
        )}
        {canWrite && !correcting && (
          <button type="button" className="button secondary" onClick={() => setCorrecting(true)}>
            Correct
          </button>
        )}
      </div>
      {showHistory && (
        <div id={historyId}>
          <NoteHistory patientId={patientId} noteId={note.id} versionCount={note.versionCount} />
        </div>
      )}
      {correcting && (
        <CorrectionForm
          patientId={patientId}
          note={note}
          onDone={(saved) => {
            setCorrecting(false);
            if (saved) onChanged();
          }}
        />
      )}
    </li>
  );
}

function NoteHistory({
  patientId,
  noteId,
  versionCount,
}: {
  patientId: string;
  noteId: string;
  versionCount: number;
}) {
  const history = useResource(`${noteId}:${versionCount}`, () =>
    sessionStore.api(
      'GET',
      patientPath(patientId, `/notes/${encodeURIComponent(noteId)}`),
      decodeNoteHistory,
    ),
  );
  if (history.error) return <ProblemAlert error={history.error} />;
  if (history.data === null) return <Skeleton label="Loading the history…" lines={4} />;
  return (
    <>
      {history.data.versions.length > 1 && <NoteDiff versions={history.data.versions} />}
      <ol className="versions" aria-label="Versions, oldest first">
        {history.data.versions.map((version) => (
          <li key={version.version} className="version">
            <p className="card-title">
              Version {version.version} · {version.author.displayName} ·{' '}
              {formatDateTime(version.createdAt)}
              {version.shareable ? ' · shared' : ' · staff only'}
            </p>
            {version.correctionReason !== null && (
              <p className="note">Reason: {version.correctionReason}</p>
            )}
            <p className="note-body">{version.body}</p>
          </li>
        ))}
      </ol>
    </>
  );
}

function CorrectionForm({
  patientId,
  note,
  onDone,
}: {
  patientId: string;
  note: Note;
  onDone: (saved: boolean) => void;
}) {
  const form = useForm(
    { body: note.current.body, shareable: note.current.shareable, reason: '' },
    { keep: correctionDraftKey(note) },
  );

  const submit = () => {
    const { body, shareable, reason } = form.values;
    const problems = {
      body: body.trim() === '' ? 'The corrected note cannot be empty.' : undefined,
      reason: reason.trim() === '' ? 'Say why the note is corrected.' : undefined,
    };
    if (!form.validate(problems)) return;
    void form.run(async () => {
      await sessionStore.api(
        'POST',
        patientPath(patientId, `/notes/${encodeURIComponent(note.id)}/versions`),
        decodeNoteAnswer,
        { body, shareable, reason: reason.trim() },
      );
      showToast('The correction was saved as a new version.');
      form.forget();
      onDone(true);
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit} className="stack manage">
      <TextAreaField
        label="Corrected note"
        maxLength={NOTE_MAX_LENGTH}
        hint={form.restored ? UNSAVED_HINT : undefined}
        {...form.bind('body')}
      />
      <ShareCheckbox {...form.bindCheckbox('shareable')} />
      <TextAreaField
        label="Reason for the correction"
        rows={2}
        maxLength={500}
        {...form.bind('reason')}
      />
      <FormFooter
        submission={form}
        onCancel={() => {
          form.forget();
          onDone(false);
        }}
      >
        Save correction
      </FormFooter>
    </SubmissionForm>
  );
}

/** Whether a note (version) is shown to the patient in the portal. */
export function ShareCheckbox(props: { checked: boolean; onCheckedChange: (on: boolean) => void }) {
  return <CheckboxField label="Share with the patient in the portal" {...props} />;
}
