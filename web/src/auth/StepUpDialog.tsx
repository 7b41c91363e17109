import { useEffect, useRef, useState, type FormEvent } from 'react';
import { CodeField, ProblemAlert, SubmitButton, useSubmission } from '../shared/forms';
import { ModalDialog } from '../shared/ModalDialog';
import { StepUpCancelled, sessionStore } from './sessionStore';

interface Pending {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Answers 403 STEP_UP_REQUIRED (A9/Z5): asks for a fresh authenticator code, calls
 * POST /api/auth/step-up, and lets the original request be retried.
 */
export function StepUpDialog() {
  const pending = useRef<Pending | null>(null);
  const [open, setOpen] = useState(false);
  const [code, setCode] = useState('');
  const [codeError, setCodeError] = useState<string | undefined>();
  const submission = useSubmission();

  useEffect(() => {
    sessionStore.setStepUpPrompt(
      () =>
        new Promise<void>((resolve, reject) => {
          pending.current?.reject(new StepUpCancelled());
          pending.current = { resolve, reject };
          setCode('');
          setCodeError(undefined);
          submission.reset();
          setOpen(true);
        }),
    );
    return () => sessionStore.setStepUpPrompt(null);
    // Registered once; submission.reset only clears state.
  }, []);

  const cancel = () => {
    setOpen(false);
    pending.current?.reject(new StepUpCancelled());
    pending.current = null;
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!/^\d{6}$/.test(code)) {
      setCodeError('Enter the 6-digit code from your authenticator app.');
      return submission.invalid();
    }
    setCodeError(undefined);
    void submission.run(async () => {
      await sessionStore.stepUp(code);
      setOpen(false);
      pending.current?.resolve();
      pending.current = null;
    });
  };

  return (
    <ModalDialog open={open} title="Confirm it is you" onCancel={cancel}>
      <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
        <p>This action needs a fresh code from your authenticator app.</p>
        <CodeField value={code} onValueChange={setCode} error={codeError} />
        <ProblemAlert error={submission.error} />
        <div className="actions">
          <SubmitButton busy={submission.busy}>Confirm</SubmitButton>
          <button type="button" className="button secondary" onClick={cancel}>
            Cancel
          </button>
        </div>
      </form>
    </ModalDialog>
  );
}
