import { useState } from 'react';
import { QUESTION_TYPES } from '@haven/contract';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { dropDraft, useKeptState } from '../../shared/drafts';
import { CheckboxField, Field, SelectField, TextAreaField } from '../../shared/fields';
import { ActionButton, ProblemAlert, SuccessNote } from '../../shared/forms';
import { AttentionEditor, OptionsEditor } from './QuestionEditors';
import { QuestionnairePreview } from './QuestionFields';
import {
  TYPE_LABELS,
  attentionOf,
  bodyOf,
  describeDraftPath,
  draftOf,
  draftProblems,
  newQuestion,
  questionOf,
  type Draft,
  type EditableQuestion,
} from './questionnaireDraft';
import { decodeVersion, studyApi, type QuestionnaireVersion, type Study } from './reviewsApi';

const TYPE_CHOICES = QUESTION_TYPES.map((t) => ({ value: t, label: TYPE_LABELS[t] }));

/**
 * The editor of a draft version: questions added, removed, reordered and typed, options and
 * scales, the attention check, and beside it the preview a participant would see. Publishing
 * saves first, after a confirmation, since a published version cannot change.
 */
export function QuestionnaireBuilder({
  study,
  version,
  onChanged,
}: {
  study: Study;
  version: QuestionnaireVersion;
  onChanged: () => void;
}) {
  // Unsaved edits are kept in the tab's memory (drafts.ts): another section of the study, or a
  // session that ended, must not take them.
  const draftKey = `questionnaire:${version.id}`;
  const [saved] = useState<Draft>(() => draftOf(version));
  const [draft, setDraft, restored] = useKeptState<Draft>(draftKey, saved);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const versionPath = studyApi(study.id, `/questionnaires/${encodeURIComponent(version.id)}`);
  const serverProblems = fieldErrorsOf(error);
  const problemAt = (path: string) =>
    problems[path] ?? serverProblems[path] ?? serverProblems[`body.${path}`];

  const update = (change: (d: Draft) => Draft) => {
    setDraft((d) => change(d));
    setNote(null);
  };
  const updateQuestion = (uid: number, change: Partial<EditableQuestion>) =>
    update((d) => ({
      ...d,
      questions: d.questions.map((q) => (q.uid === uid ? { ...q, ...change } : q)),
    }));
  const move = (index: number, by: number) =>
    update((d) => {
      const questions = [...d.questions];
      const [moved] = questions.splice(index, 1);
      if (moved) questions.splice(index + by, 0, moved);
      return { ...d, questions };
    });

  const save = async (then?: 'publish') => {
    const found = draftProblems(draft);
    setProblems(found);
    setError(null);
    setNote(null);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      await sessionStore.api('PUT', versionPath, decodeVersion, bodyOf(draft));
      dropDraft(draftKey);
      if (then === 'publish') {
        await sessionStore.api('POST', `${versionPath}/publish`, decodeVersion, {});
        onChanged();
        return;
      }
      setNote('The draft was saved.');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const allProblems = { ...Object.fromEntries(Object.entries(serverProblems)), ...problems };
  const problemList = Object.entries(allProblems);
  const preview = draft.questions.map(questionOf);
  const attention = attentionOf(draft.attention)?.question ?? null;

  return (
    <section className="panel stack" aria-labelledby="builder-title">
      <h2 id="builder-title">Draft version {version.version}</h2>
      {restored && (
        <p className="note">
          Not saved yet: these are the changes you had made before you left the questionnaire.
        </p>
      )}
      <div className="builder">
        <div className="builder-editor stack">
          <Field
            label="Questionnaire title"
            maxLength={200}
            value={draft.title}
            onValueChange={(title) => update((d) => ({ ...d, title }))}
            error={problemAt('title')}
          />
          <ol className="question-list" aria-label="Questions">
            {draft.questions.map((q, index) => (
              <li key={q.uid} className="question-editor stack">
                <h3>
                  Question {index + 1}
                  {q.prompt.trim() ? `: ${q.prompt.trim().slice(0, 60)}` : ''}
                </h3>
                <TextAreaField
                  label="Question"
                  rows={2}
                  maxLength={500}
                  value={q.prompt}
                  onValueChange={(prompt) => updateQuestion(q.uid, { prompt })}
                  error={problemAt(`questions.${index}.prompt`)}
                />
                <div className="form-grid">
                  <SelectField
                    label="Type"
                    value={q.type}
                    choices={TYPE_CHOICES}
                    onValueChange={(type) => updateQuestion(q.uid, { type })}
                  />
                  <Field
                    label="Answer key"
                    maxLength={64}
                    value={q.id}
                    hint="The column name in exports."
                    onValueChange={(id) => updateQuestion(q.uid, { id })}
                    error={problemAt(`questions.${index}.id`)}
                  />
                </div>
                <Field
                  label="Help text"
                  maxLength={1000}
                  value={q.help}
                  onValueChange={(help) => updateQuestion(q.uid, { help })}
                  hint="Optional, shown under the question."
                />
                <CheckboxField
                  label="An answer is required"
                  checked={q.required}
                  onCheckedChange={(required) => updateQuestion(q.uid, { required })}
                />
                {(q.type === 'single' || q.type === 'multiple') && (
                  <OptionsEditor
                    legend={`Options of question ${index + 1}`}
                    options={q.options}
                    at={`questions.${index}.options`}
                    problemAt={problemAt}
                    onChange={(options) => updateQuestion(q.uid, { options })}
                  />
                )}
                {q.type === 'scale' && (
                  <fieldset>
                    <legend>Scale of question {index + 1}</legend>
                    <div className="form-grid">
                      {(
                        [
                          ['min', 'Lowest value'],
                          ['max', 'Highest value'],
                          ['step', 'Step'],
                          ['minLabel', 'Label of the lowest value'],
                          ['maxLabel', 'Label of the highest value'],
                        ] as const
                      ).map(([name, label]) => (
                        <Field
                          key={name}
                          label={label}
                          inputMode={name.endsWith('Label') ? undefined : 'numeric'}
                          maxLength={name.endsWith('Label') ? 100 : 6}
                          value={q.scale[name]}
                          onValueChange={(value) =>
                            updateQuestion(q.uid, { scale: { ...q.scale, [name]: value } })
                          }
                          error={problemAt(`questions.${index}.scale.${name}`)}
                        />
                      ))}
                    </div>
                  </fieldset>
                )}
                <div className="actions">
                  <button
                    type="button"
                    className="button secondary"
                    disabled={index === 0}
                    aria-label={`Move up question ${index + 1}`}
                    onClick={() => move(index, -1)}
                  >
                    Move up
                  </button>
                  <button
                    type="button"
                    className="button secondary"
                    disabled={index === draft.questions.length - 1}
                    aria-label={`Move down question ${index + 1}`}
                    onClick={() => move(index, 1)}
                  >
                    Move down
                  </button>
                  <button
                    type="button"
                    className="button danger"
                    aria-label={`Remove question ${index + 1}`}
                    onClick={() =>
                      update((d) => ({
                        ...d,
                        questions: d.questions.filter((x) => x.uid !== q.uid),
                      }))
                    }
                  >
                    Remove
                  </button>
                </div>
              </li>
            ))}
          </ol>
          {problemAt('questions') && (
            <p className="field-error" role="alert">
              {problemAt('questions')}
            </p>
          )}
          <button
            type="button"
            className="button secondary"
            onClick={() =>
              update((d) => ({ ...d, questions: [...d.questions, newQuestion(d.questions)] }))
            }
          >
            Add a question
          </button>
          <AttentionEditor draft={draft} update={update} problemAt={problemAt} />
        </div>
        <div className="builder-preview stack">
          <h3>Preview</h3>
          <p className="subtle">What a participant sees beside each case.</p>
          <QuestionnairePreview questions={preview} attention={attention} />
        </div>
      </div>
      {problemList.length > 0 && (
        <div className="error" role="alert">
          <p>The questionnaire has problems to correct:</p>
          <ul>
            {problemList.map(([field, message]) => (
              <li key={field}>
                {describeDraftPath(field)}: {message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {problemList.length === 0 && <ProblemAlert error={error} />}
      {note && <SuccessNote>{note}</SuccessNote>}
      <div className="actions">
        <ActionButton busy={busy} className="button secondary" onClick={() => void save()}>
          Save draft
        </ActionButton>
        <ConfirmAction
          label="Publish"
          className="button"
          consequence="Publish this version? Published versions cannot be changed: participants answer it from now on, and changes need a new version."
          confirmLabel="Yes, publish"
          busy={busy}
          onConfirm={() => void save('publish')}
        />
      </div>
    </section>
  );
}
