/** Accessible form pieces: every input labelled, errors announced and linked to their input. */
import {
  useEffect,
  useId,
  useRef,
  useState,
  type InputHTMLAttributes,
  type ReactNode,
  type RefObject,
} from 'react';
import { problemSummary } from './api';

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'onChange' | 'value'>;

interface FieldProps extends InputProps {
  label: string;
  value: string;
  onValueChange: (value: string) => void;
  error?: string | undefined;
  hint?: ReactNode;
}

export function Field({ label, value, onValueChange, error, hint, ...input }: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        value={value}
        onChange={(event) => onValueChange(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...input}
      />
      {hint && (
        <div id={hintId} className="hint">
          {hint}
        </div>
      )}
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** A 6-digit authenticator code input. */
export function CodeField(props: Omit<FieldProps, 'label'> & { label?: string }) {
  return (
    <Field
      label="Authentication code"
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9]{6}"
      maxLength={6}
      required
      {...props}
    />
  );
}

/** The failed request of a form: problem detail (or title) and the request id. */
export function ProblemAlert({ error, id }: { error: unknown; id?: string }) {
  if (error === null || error === undefined) return null;
  const { message, requestId } = problemSummary(error);
  return (
    <div id={id} className="error" role="alert" tabIndex={-1}>
      <p>{message}</p>
      {requestId && <p className="request-id">Request ID: {requestId}</p>}
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

/**
 * After a failed submit, moves focus to the first invalid input of `form`, else to its
 * error alert. `attempt` changes on every failed submit.
 */
export function useFocusFirstError(form: RefObject<HTMLElement | null>, attempt: number): void {
  useEffect(() => {
    if (attempt === 0) return;
    const root = form.current;
    const target =
      root?.querySelector<HTMLElement>('[aria-invalid="true"]') ??
      root?.querySelector<HTMLElement>('[role="alert"]');
    target?.focus();
  }, [form, attempt]);
}

export interface Submission {
  formRef: RefObject<HTMLFormElement | null>;
  busy: boolean;
  /** The last failed request, if any. */
  error: unknown;
  /** Runs `action`; a thrown error is kept in `error` and focus moves to the first error. */
  run: (action: () => Promise<void>) => Promise<void>;
  /** Client-side validation failed: focus the first invalid input. */
  invalid: () => void;
  reset: () => void;
}

export function useSubmission(): Submission {
  const formRef = useRef<HTMLFormElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useFocusFirstError(formRef, attempt);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
      setAttempt((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };
  return {
    formRef,
    busy,
    error,
    run,
    invalid: () => {
      setError(null);
      setAttempt((n) => n + 1);
    },
    reset: () => setError(null),
  };
}

/** A button action that reports a success note or the problem, then lets the page reload. */
export function useAction(onChanged: () => void): {
  busy: boolean;
  error: unknown;
  note: string | null;
  act: (action: () => Promise<string>) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const act = async (action: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      setNote(await action());
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, note, act };
}

export function SubmitButton({ busy, children }: { busy: boolean; children: ReactNode }) {
  return (
    <button type="submit" className="button" disabled={busy} aria-busy={busy}>
      {children}
    </button>
  );
}
