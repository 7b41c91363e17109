import { useEffect, useRef, useState } from 'react';
import { sessionStore } from '../../../auth/sessionStore';
import { ApiError, fieldErrorsOf } from '../../../shared/api';
import { dropDraft, useKeptState } from '../../../shared/drafts';
import { ProblemAlert, SubmitButton } from '../../../shared/forms';
import { Page } from '../../../shared/Page';
import { Link } from '../../../shared/router';
import { useResource } from '../../../shared/useResource';
import { percent } from '../reviewsApi';
import { QuestionField, missingAnswers, type AnswerValue, type Answers } from '../QuestionFields';
import { progressText } from './MyStudiesPage';
import {
  assignmentApi,
  decodeMyStudies,
  decodeNextCase,
  decodeSubmitted,
  ignoreBody,
  nextCasePath,
  type ReviewView,
} from './participationApi';
import { StyledCaseTree } from './StyledCaseTree';

/**
 * The review screen of one study: the participant's next unanswered case (the server keeps the
 * order, so a participant who comes back resumes where they left off), the case on one side and
 * the questionnaire on the other; Submit sends the answer and moves on.
 */
export function ReviewPage({ studyId }: { studyId: string }) {
  const [round, setRound] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const path = nextCasePath(studyId);
  const next = useResource(`${path}#${round}`, () => sessionStore.api('GET', path, decodeNextCase));
  const advance = (message: string | null) => {
    setNotice(message);
    setRound((n) => n + 1);
  };

  // The next-case answer does not carry the study's title; the participant's list does.
  const studies = useResource('/api/reviews/studies', () =>
    sessionStore.api('GET', '/api/reviews/studies', decodeMyStudies),
  );
  const title = studies.data?.find((s) => s.id === studyId)?.title ?? 'Case review';

  // Wait for the title too, so the page heading does not change (and take focus) mid-review.
  const data = studies.data === null && !studies.error ? null : next.data;
  return (
    <Page title={title}>
      <p>
        <Link to="/reviews">My studies</Link>
      </p>
      {notice && (
        <p className="banner" role="status">
          {notice}
        </p>
      )}
      <ProblemAlert error={next.error} />
      {data === null ? (
        !next.error && <p role="status">Loading your next case…</p>
      ) : data.done ? (
        <section className="panel stack" aria-labelledby="done-title">
          <h2 id="done-title">Thank you</h2>
          <p>
            {progressText(data.progress.answered, data.progress.total)}. There is nothing left for
            you to review in this study.
          </p>
          <p>
            <Link to="/reviews">Back to my studies</Link>
          </p>
        </section>
      ) : (
        <ReviewCase
          key={data.assignment.id}
          view={data.assignment}
          position={data.progress.position}
          answered={data.progress.answered}
          total={data.progress.total}
          onSubmitted={() => advance(null)}
          onQuestionnaireChanged={() =>
            advance(
              'The questionnaire was updated by the research team. Please answer this case again with the new questions.',
            )
          }
        />
      )}
    </Page>
  );
}

function now(): string {
  return new Date().toISOString();
}

/** Timing events are best effort: the server flags a missing stamp, so a failure is not shown. */
function sendEvent(assignmentId: string, type: 'case_opened' | 'form_opened', clientAt: string) {
  sessionStore
    .api('POST', assignmentApi(assignmentId, '/events'), ignoreBody, { type, clientAt })
    .catch(() => undefined);
}

/**
 * When this tab first showed each case and first touched its form. Kept outside the component:
 * StrictMode mounts twice, and a case reloaded after a questionnaire change is still the same
 * reading, so each event is sent once and the first times go with the answer.
 */
const openings = new Map<string, { caseAt: string; formAt: string | null }>();

function openingOf(assignmentId: string) {
  let opening = openings.get(assignmentId);
  if (!opening) {
    opening = { caseAt: now(), formAt: null };
    openings.set(assignmentId, opening);
    sendEvent(assignmentId, 'case_opened', opening.caseAt);
  }
  return opening;
}

function ReviewCase({
  view,
  position,
  answered,
  total,
  onSubmitted,
  onQuestionnaireChanged,
}: {
  view: ReviewView;
  position: number;
  answered: number;
  total: number;
  onSubmitted: () => void;
  onQuestionnaireChanged: () => void;
}) {
  // Kept while unsaved (drafts.ts): a session that ends mid-case must not take the answers.
  const draftKey = `review:${view.id}:${view.questionnaire.versionId}`;
  const [answers, setAnswers] = useKeptState<Answers>(`${draftKey}:answers`, {});
  const [attention, setAttention] = useKeptState<string | undefined>(
    `${draftKey}:attention`,
    undefined,
  );
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    headingRef.current?.focus();
    openingOf(view.id);
  }, [view.id]);

  useEffect(() => {
    if (attempt === 0) return;
    const root = formRef.current;
    (
      root?.querySelector<HTMLElement>(
        '[aria-invalid="true"] input, input[aria-invalid="true"], textarea[aria-invalid="true"]',
      ) ?? root?.querySelector<HTMLElement>('[role="alert"]')
    )?.focus();
  }, [attempt]);

  const formOpened = () => {
    const opening = openingOf(view.id);
    if (opening.formAt) return;
    opening.formAt = now();
    sendEvent(view.id, 'form_opened', opening.formAt);
  };

  const questions = view.questionnaire.questions;
  const check = view.attentionCheck?.question ?? null;
  const serverProblems = fieldErrorsOf(error);
  const problemOf = (id: string) =>
    problems[id] ?? serverProblems[`answers.${id}`] ?? serverProblems[`body.answers.${id}`];
  const attentionProblem =
    problems['attention'] ?? serverProblems['attention.answer'] ?? serverProblems['attention'];

  const submit = async () => {
    formOpened();
    const found = missingAnswers(questions, answers);
    if (check && !attention) found['attention'] = 'Choose an answer to this question.';
    setProblems(found);
    setError(null);
    if (Object.keys(found).length > 0) {
      setAttempt((n) => n + 1);
      return;
    }
    setBusy(true);
    try {
      await sessionStore.api('POST', assignmentApi(view.id, '/answer'), decodeSubmitted, {
        questionnaireVersionId: view.questionnaire.versionId,
        answers,
        ...(check && attention ? { attention: { answer: attention } } : {}),
        timing: {
          // formOpened() above has stamped the form at the latest now.
          caseOpenedAt: openingOf(view.id).caseAt,
          formOpenedAt: openingOf(view.id).formAt ?? now(),
          submittedAt: now(),
        },
      });
      dropDraft(`${draftKey}:answers`);
      dropDraft(`${draftKey}:attention`);
      onSubmitted();
    } catch (err) {
      if (
        err instanceof ApiError &&
        err.status === 409 &&
        /questionnaire changed/i.test(err.detail ?? '')
      ) {
        onQuestionnaireChanged();
        return;
      }
      setError(err);
      setAttempt((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  const setAnswer = (id: string, value: AnswerValue | undefined) =>
    setAnswers((current) => {
      const next = { ...current };
      if (value === undefined) delete next[id];
      else next[id] = value;
      return next;
    });

  const hasServerFieldErrors = Object.keys(serverProblems).length > 0;
  return (
    <>
      <div className="review-progress">
        <h2 ref={headingRef} tabIndex={-1}>
          Case {position} of {total}
        </h2>
        <progress max={Math.max(total, 1)} value={answered} aria-label="Cases reviewed" />
        <span className="subtle">{answered} reviewed</span>
      </div>
      <div className="review-layout">
        <section className="panel stack review-case" aria-labelledby="case-title">
          <h3 id="case-title">The case</h3>
          {view.case.aiScore && (
            <div className="ai-badge" role="note" aria-label="AI risk score">
              <p className="ai-score">
                AI risk score: <strong>{percent(view.case.aiScore.score)}</strong>
              </p>
              {view.case.aiScore.explanation && <p>{view.case.aiScore.explanation}</p>}
            </div>
          )}
          <StyledCaseTree nodes={view.case.tree} />
        </section>
        <section className="panel stack review-form" aria-labelledby="questions-title">
          <h3 id="questions-title">{view.questionnaire.title}</h3>
          <form
            ref={formRef}
            className="stack"
            noValidate
            onFocus={formOpened}
            onPointerDown={formOpened}
            onKeyDown={(event) => {
              // Enter submits from a text field by itself; from a choice it would do nothing.
              const target = event.target as HTMLInputElement;
              if (
                event.key === 'Enter' &&
                (target.type === 'radio' || target.type === 'checkbox')
              ) {
                event.preventDefault();
                formRef.current?.requestSubmit();
              }
            }}
            onSubmit={(event) => {
              event.preventDefault();
              void submit();
            }}
          >
            {questions.map((q) => (
              <QuestionField
                key={q.id}
                question={q}
                value={answers[q.id]}
                onChange={(value) => setAnswer(q.id, value)}
                error={problemOf(q.id)}
              />
            ))}
            {check && (
              <QuestionField
                question={check}
                value={attention}
                onChange={(value) => setAttention(typeof value === 'string' ? value : undefined)}
                error={attentionProblem}
              />
            )}
            {!hasServerFieldErrors && <ProblemAlert error={error} />}
            {hasServerFieldErrors && (
              <div className="error" role="alert" tabIndex={-1}>
                <p>Some answers need your attention; see the questions marked above.</p>
              </div>
            )}
            <SubmitButton busy={busy}>
              {position >= total ? 'Submit and finish' : 'Submit and go to the next case'}
            </SubmitButton>
          </form>
        </section>
      </div>
    </>
  );
}
