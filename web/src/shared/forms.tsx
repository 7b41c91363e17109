/** What forms and buttons show: the failed request, the success note, the form frame and footer. */
import { useEffect, useRef, type ReactNode } from 'react';
import { problemSummary } from './api';
import type { Action, Submission } from './submission';

/** The failed request of a form in words; the request id only for an unexpected error. */
export function ProblemAlert({ error, id }: { error: unknown; id?: string }) {
  if (error === null || error === undefined) return null;
  const { message, requestId } = problemSummary(error);
  return (
    <div id={id} className="error" role="alert" tabIndex={-1}>
      <p>{message}</p>
      {requestId && (
        <details className="request-id">
          <summary>Details</summary>
          <p>Request ID: {requestId}</p>
        </details>
      )}
    </div>
  );
}

/**
 * What went well. `takeFocus` when the note replaces the form that was sent (its button had
 * focus): focus moves to the note instead of falling to the page's start.
 */
export function SuccessNote({
  children,
  takeFocus = false,
}: {
  children: ReactNode;
  takeFocus?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (takeFocus) ref.current?.focus();
  }, [takeFocus]);
  return (
    <div ref={ref} className="success" role="status" tabIndex={takeFocus ? -1 : undefined}>
      {children}
    </div>
  );
}

/**
 * While its request runs the button says so (aria-busy, aria-disabled) and ignores presses, a
 * click or Enter in a field alike (cancelling the click cancels the submit). It is not
 * `disabled`: a disabled button gives up keyboard focus, which then falls to the page's start
 * and stays there after the request (WCAG 2.4.3).
 */
export function SubmitButton({ busy, children }: { busy: boolean; children: ReactNode }) {
  return (
    <button
      type="submit"
      className="button"
      aria-disabled={busy}
      aria-busy={busy}
      onClick={(event) => {
        if (busy) event.preventDefault();
      }}
    >
      {children}
    </button>
  );
}

/** A form of a submission: no browser validation (the checks are ours), no page load. */
export function SubmissionForm({
  submission,
  onSubmit,
  className = 'stack',
  children,
}: {
  submission: Submission;
  onSubmit: () => void;
  className?: string;
  children: ReactNode;
}) {
  return (
    <form
      ref={submission.formRef}
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
      noValidate
      className={className}
    >
      {children}
    </form>
  );
}

/** The end of a form: the failed request, the success note, the submit button (and Cancel). */
export function FormFooter({
  submission,
  onCancel,
  children,
}: {
  submission: Submission;
  onCancel?: () => void;
  children: ReactNode;
}) {
  const submit = <SubmitButton busy={submission.busy}>{children}</SubmitButton>;
  return (
    <>
      <ProblemAlert error={submission.error} />
      {submission.note && <SuccessNote>{submission.note}</SuccessNote>}
      {onCancel ? (
        <div className="actions">
          {submit}
          <button type="button" className="button secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      ) : (
        submit
      )}
    </>
  );
}

/** A button that starts a request: marked busy, and deaf to presses, while it runs (see SubmitButton). */
export function ActionButton({
  busy,
  onClick,
  className = 'button',
  children,
}: {
  busy: boolean;
  onClick: () => void;
  className?: string;
  children: ReactNode;
}) {
  return (
    <button
      type="button"
      className={className}
      aria-disabled={busy}
      aria-busy={busy}
      onClick={() => {
        if (!busy) onClick();
      }}
    >
      {children}
    </button>
  );
}

/** What a button action left to say: its success note, or its problem. */
export function ActionOutcome({ action }: { action: Pick<Action, 'note' | 'error'> }) {
  return (
    <>
      {action.note && <SuccessNote>{action.note}</SuccessNote>}
      <ProblemAlert error={action.error} />
    </>
  );
}

/** A search form: the filters, then one Search button; submitting hands the filters over. */
export function SearchForm({
  label,
  onSearch,
  children,
}: {
  /** Names the search landmark, e.g. "Patients". */
  label?: string;
  onSearch: () => void;
  children: ReactNode;
}) {
  return (
    <form
      className="search"
      role="search"
      aria-label={label}
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        onSearch();
      }}
    >
      {children}
      <button type="submit" className="button">
        Search
      </button>
    </form>
  );
}
