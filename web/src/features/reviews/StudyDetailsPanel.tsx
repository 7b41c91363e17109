/**
 * A study's title and description, and the form that changes them (PATCH /api/studies/:id),
 * checked in the browser against the server's own limits first.
 */
import { useEffect, useRef, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { Field, TextAreaField } from '../../shared/fields';
import { FormFooter, SubmissionForm, SuccessNote } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { decodeStudy, studyApi, type Study } from './reviewsApi';
import {
  STUDY_DESCRIPTION_LENGTH,
  STUDY_TITLE_LENGTH,
  studyDescriptionProblem,
  studyTitleProblem,
} from './studyChecks';

/** The title (the page heading) and description, and the form that changes them. */
export function DetailsPanel({
  study,
  onStudyChanged,
}: {
  study: Study;
  onStudyChanged: () => void;
}) {
  const [editing, setEditing] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  // Closing the form puts focus back on the button that opened it, not on the page's start.
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);
  return (
    <section className="panel stack" aria-labelledby="details-title">
      <h2 id="details-title">Title and description</h2>
      {editing ? (
        <StudyDetailsForm
          study={study}
          onCancel={() => setEditing(false)}
          onSaved={(message) => {
            setEditing(false);
            setNote(message);
            onStudyChanged();
          }}
        />
      ) : (
        <>
          {study.description ? (
            <p className="study-description">{study.description}</p>
          ) : (
            <p className="subtle">No description yet.</p>
          )}
          {note && <SuccessNote>{note}</SuccessNote>}
          <div className="actions">
            <button
              ref={editButton}
              type="button"
              className="button secondary"
              onClick={() => {
                setNote(null);
                setEditing(true);
              }}
            >
              Edit title and description
            </button>
          </div>
        </>
      )}
    </section>
  );
}

function StudyDetailsForm({
  study,
  onCancel,
  onSaved,
}: {
  study: Study;
  onCancel: () => void;
  onSaved: (message: string) => void;
}) {
  const form = useForm({ title: study.title, description: study.description });
  const frame = useRef<HTMLDivElement>(null);
  useEffect(() => {
    frame.current?.querySelector('input')?.focus();
  }, []);
  const submit = () => {
    const title = form.values.title.trim();
    const description = form.values.description.trim();
    const problems = {
      title: studyTitleProblem(title),
      description: studyDescriptionProblem(description),
    };
    if (!form.validate(problems)) return;
    // PATCH takes only what changed (and refuses an empty body).
    const changes = {
      ...(title !== study.title ? { title } : {}),
      ...(description !== study.description ? { description } : {}),
    };
    if (Object.keys(changes).length === 0) {
      onSaved('Nothing was changed.');
      return;
    }
    void form.run(async () => {
      const saved = await sessionStore.api('PATCH', studyApi(study.id), decodeStudy, changes);
      onSaved(
        'title' in changes && 'description' in changes
          ? 'The title and the description were saved.'
          : 'title' in changes
            ? `The study is now called “${saved.title}”.`
            : 'The description was saved.',
      );
    });
  };
  return (
    <div ref={frame}>
      <SubmissionForm submission={form} onSubmit={submit}>
        <Field
          label="Study title"
          maxLength={STUDY_TITLE_LENGTH}
          autoComplete="off"
          hint={`Up to ${STUDY_TITLE_LENGTH} characters, on one line.`}
          {...form.bind('title')}
        />
        <TextAreaField
          label="Study description"
          rows={4}
          maxLength={STUDY_DESCRIPTION_LENGTH}
          hint={`Optional, up to ${STUDY_DESCRIPTION_LENGTH.toLocaleString()} characters. Participants see it too; leave it empty to remove it.`}
          {...form.bind('description')}
        />
        <FormFooter submission={form} onCancel={onCancel}>
          Save title and description
        </FormFooter>
      </SubmissionForm>
    </div>
  );
}
