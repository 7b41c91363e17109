/**
 * The state of a form or a button that calls the server: client checks, the request, its
 * problem or success note, and focus on the first error. Every form and button of the SPA
 * uses these, so they all behave alike (forms.tsx shows them).
 */
import { useEffect, useRef, useState, type RefObject } from 'react';
import { fieldErrorsOf } from './api';
import { dropDraft, useKeptState } from './drafts';

/**
 * After a failed submit, moves focus to the first invalid input of `form`, else to its
 * error alert. `attempt` changes on every failed submit.
 */
function useFocusFirstError(form: RefObject<HTMLElement | null>, attempt: number): void {
  useEffect(() => {
    if (attempt === 0) return;
    const root = form.current;
    const target =
      root?.querySelector<HTMLElement>('[aria-invalid="true"]') ??
      root?.querySelector<HTMLElement>('[role="alert"]');
    target?.focus();
  }, [form, attempt]);
}

type Problems = Record<string, string | undefined>;

export interface Submission {
  formRef: RefObject<HTMLFormElement | null>;
  busy: boolean;
  /** The last failed request, if any. */
  error: unknown;
  /** What the last successful run reported, if anything. */
  note: string | null;
  /**
   * The problem to show beside a field: the client check's, else the server's under `name` or
   * one of its `aliases` (schema failures name a field `body.<name>`, handler checks plainly).
   */
  fieldError: (name: string, ...aliases: string[]) => string | undefined;
  /**
   * Client checks before sending: keeps the problems (undefined = fine) for `fieldError`;
   * when there is one, focus moves to the first invalid input and the answer is false.
   */
  validate: (problems: Problems) => boolean;
  /** Runs `action`; a string it answers becomes `note`, a thrown error `error` (focused). */
  run: (action: () => Promise<string | void>) => Promise<void>;
  reset: () => void;
}

export function useSubmission(): Submission {
  const formRef = useRef<HTMLFormElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problems>({});
  const [attempt, setAttempt] = useState(0);
  useFocusFirstError(formRef, attempt);

  const serverErrors = fieldErrorsOf(error);
  const fieldError = (name: string, ...aliases: string[]) => {
    if (problems[name]) return problems[name];
    for (const server of [name, ...aliases]) {
      const message = serverErrors[server] ?? serverErrors[`body.${server}`];
      if (message) return message;
    }
    return undefined;
  };

  const validate = (found: Problems) => {
    setProblems(found);
    setNote(null);
    if (Object.values(found).every((problem) => problem === undefined)) return true;
    setError(null);
    setAttempt((n) => n + 1);
    return false;
  };

  const run = async (action: () => Promise<string | void>) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      setNote((await action()) ?? null);
    } catch (err) {
      setError(err);
      setAttempt((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  const reset = () => {
    setError(null);
    setNote(null);
    setProblems({});
  };
  return { formRef, busy, error, note, fieldError, validate, run, reset };
}

type FormValues = Record<string, string | boolean>;

/** What an input needs from its form: value, change handler and problem. */
export interface BoundInput<T> {
  value: T;
  onValueChange: (value: T) => void;
  error: string | undefined;
}
/** The keys of V whose values are of type T. */
type KeysOf<V, T> = { [K in keyof V]: V[K] extends T ? K : never }[keyof V] & string;

/** A submission that also holds the values of its inputs. */
export interface Form<V extends FormValues> extends Submission {
  values: V;
  /** The form came back with unsaved values kept under its `keep` key (see drafts.ts). */
  restored: boolean;
  /** Forgets the kept values (the person cancelled, or the form closes after saving). */
  forget: () => void;
  /** Puts the named inputs back to their first values (e.g. after a successful send). */
  clear: (...names: Array<keyof V>) => void;
  /** What a text input or a select needs: its value, its change handler and its problem. */
  bind: <K extends KeysOf<V, string>>(name: K, ...aliases: string[]) => BoundInput<V[K]>;
  /** What a checkbox needs. */
  bindCheckbox: (name: KeysOf<V, boolean>) => {
    checked: boolean;
    onCheckedChange: (checked: boolean) => void;
  };
}

/**
 * `keep` names the form's values in the tab's draft memory (drafts.ts): a form whose words
 * would be lost by switching away or by the session ending comes back with them. Values put
 * back to their first state (`clear` after a save) are no longer kept.
 */
export function useForm<V extends FormValues>(
  initial: V,
  options: { keep?: string | null } = {},
): Form<V> {
  const submission = useSubmission();
  const [first] = useState(initial);
  const [values, setValues, restored] = useKeptState(options.keep ?? null, first);
  const set = <K extends keyof V>(name: K, value: V[K]) =>
    setValues((current) => ({ ...current, [name]: value }));
  return {
    ...submission,
    values,
    restored,
    forget: () => {
      if (options.keep) dropDraft(options.keep);
    },
    clear: (...names) =>
      setValues((current) => {
        const next = { ...current };
        for (const name of names) next[name] = first[name];
        return next;
      }),
    bind: (name, ...aliases) => ({
      value: values[name],
      onValueChange: (value) => set(name, value),
      error: submission.fieldError(name, ...aliases),
    }),
    bindCheckbox: (name) => ({
      checked: values[name] === true,
      // `set` cannot prove that a boolean fits V[name]; the key type says it does.
      onCheckedChange: (checked) => setValues((current) => ({ ...current, [name]: checked })),
    }),
  };
}

export interface Action {
  busy: boolean;
  /** The key given to the running `act`, e.g. the id of the row whose button was pressed. */
  busyKey: string | null;
  error: unknown;
  note: string | null;
  /** Runs `action`; a string it answers becomes `note`, then `onDone` lets the page reload. */
  act: (action: () => Promise<string | void>, key?: string) => Promise<void>;
}

/** A button's request: busy while it runs, then a success note or the problem. */
export function useAction(onDone?: () => void): Action {
  const [busyKey, setBusyKey] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const act = async (action: () => Promise<string | void>, key = 'action') => {
    setBusyKey(key);
    setError(null);
    setNote(null);
    try {
      setNote((await action()) ?? null);
      onDone?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusyKey(null);
    }
  };
  return { busy: busyKey !== null, busyKey, error, note, act };
}
