import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ActionButton, ProblemAlert } from '../../shared/forms';
import { useResource } from '../../shared/useResource';
import { QuestionnaireBuilder } from './QuestionnaireBuilder';
import { QuestionnairePreview } from './QuestionFields';
import { bodyOf, draftOf } from './questionnaireDraft';
import {
  count,
  decodeVersion,
  decodeVersions,
  studyApi,
  type QuestionnaireVersion,
  type Study,
} from './reviewsApi';

/** The questionnaire's versions, and the builder of its draft with a live preview. */
export function QuestionnaireSection({
  study,
  onStudyChanged,
}: {
  study: Study;
  onStudyChanged: () => void;
}) {
  const listPath = studyApi(study.id, '/questionnaires');
  const versions = useResource(listPath, () => sessionStore.api('GET', listPath, decodeVersions));
  const draftSummary = versions.data?.find((v) => v.status === 'draft') ?? null;
  const newest = versions.data?.[0] ?? null;
  const [opened, setOpened] = useState<string | null>(null);
  const shownId = opened ?? draftSummary?.id ?? newest?.id ?? null;
  const versionPath = shownId
    ? studyApi(study.id, `/questionnaires/${encodeURIComponent(shownId)}`)
    : null;
  const version = useResource(versionPath, () =>
    sessionStore.api('GET', versionPath ?? '', decodeVersion),
  );
  const [startError, setStartError] = useState<unknown>(null);
  const [starting, setStarting] = useState(false);

  const changed = () => {
    versions.reload();
    version.reload();
    onStudyChanged();
  };

  const startDraft = async () => {
    setStarting(true);
    setStartError(null);
    try {
      const base = version.data && version.data.status === 'published' ? version.data : null;
      await sessionStore.api('POST', listPath, decodeVersion, bodyOf(draftOf(base)));
      setOpened(null);
      changed();
    } catch (err) {
      setStartError(err);
    } finally {
      setStarting(false);
    }
  };

  return (
    <>
      <section className="panel stack" aria-labelledby="versions-title">
        <h2 id="versions-title">Questionnaire versions</h2>
        <p>
          Participants answer the newest published version. A published version cannot be changed;
          to change the questions, start a new version.
        </p>
        <ProblemAlert error={versions.error} />
        {versions.data === null ? (
          !versions.error && <p role="status">Loading versions…</p>
        ) : versions.data.length === 0 ? (
          <p>No questionnaire yet.</p>
        ) : (
          <ul className="plain-list version-list" aria-label="Versions, newest first">
            {versions.data.map((v) => (
              <li key={v.id}>
                <button
                  type="button"
                  className="link-button"
                  aria-current={v.id === shownId ? 'true' : undefined}
                  onClick={() => setOpened(v.id)}
                >
                  Version {v.version}: {v.title}
                </button>{' '}
                <span className={v.status === 'draft' ? 'badge' : 'badge badge-muted'}>
                  {v.status === 'draft' ? 'Draft' : 'Published'}
                </span>{' '}
                <span className="subtle">
                  {count(v.questionCount, 'question')}
                  {v.hasAttentionCheck ? ', with an attention check' : ''} ·{' '}
                  {v.publishedAt
                    ? `published ${formatDateTime(v.publishedAt)}`
                    : `started ${formatDateTime(v.createdAt)}`}
                </span>
              </li>
            ))}
          </ul>
        )}
        {versions.data !== null && draftSummary === null && study.status !== 'closed' && (
          <>
            <ProblemAlert error={startError} />
            <ActionButton busy={starting} onClick={() => void startDraft()}>
              {newest ? 'Start a new version' : 'Create the questionnaire'}
            </ActionButton>
          </>
        )}
      </section>
      <ProblemAlert error={version.error} />
      {version.data &&
        (version.data.status === 'draft' ? (
          <QuestionnaireBuilder
            key={version.data.id}
            study={study}
            version={version.data}
            onChanged={changed}
          />
        ) : (
          <PublishedVersion version={version.data} />
        ))}
    </>
  );
}

function PublishedVersion({ version }: { version: QuestionnaireVersion }) {
  return (
    <section className="panel stack" aria-labelledby="published-title">
      <h2 id="published-title">
        Version {version.version}: {version.title}
      </h2>
      <p className="subtle">Published versions are read-only. This is how participants see it.</p>
      <QuestionnairePreview
        questions={version.questions}
        attention={version.attentionCheck?.question ?? null}
      />
      {version.attentionCheck && (
        <p className="subtle">
          The attention check is asked with every {version.attentionCheck.every}th case; the
          expected answer is “
          {version.attentionCheck.question.options?.find(
            (o) => o.value === version.attentionCheck?.expected,
          )?.label ?? version.attentionCheck.expected}
          ”.
        </p>
      )}
    </section>
  );
}
