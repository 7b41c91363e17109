/** What forms and buttons show: the failed request, the success note, the form frame and footer. */
import type { ReactNode } from 'react';
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

export function SuccessNote({ children }: { children: ReactNode }) {
  return (
    <div className="success" role="status">
      {children}
    </div>
  );
}

export function SubmitButton({ busy, children }: { busy: boolean; children: ReactNode }) {
  return (
    <button type="submit" className="button" disabled={busy} aria-busy={busy}>
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

/** A button that starts a request: disabled and marked busy while it runs. */
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
    <button type="button" className={className} disabled={busy} aria-busy={busy} onClick={onClick}>
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
