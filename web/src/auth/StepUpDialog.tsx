import { useEffect, useRef, useState } from 'react';
import { CodeField, codeProblem } from '../shared/fields';
import { FormFooter, SubmissionForm } from '../shared/forms';
import { useForm } from '../shared/submission';
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
  const form = useForm({ code: '' });

  useEffect(() => {
    sessionStore.setStepUpPrompt(
      () =>
        new Promise<void>((resolve, reject) => {
          pending.current?.reject(new StepUpCancelled());
          pending.current = { resolve, reject };
          form.clear('code');
          form.reset();
          setOpen(true);
        }),
    );
    return () => sessionStore.setStepUpPrompt(null);
    // Registered once; the form's clear and reset only set state.
  }, []);

  const cancel = () => {
    setOpen(false);
    pending.current?.reject(new StepUpCancelled());
    pending.current = null;
  };

  const submit = () => {
    const { code } = form.values;
    if (!form.validate({ code: codeProblem(code) })) return;
    void form.run(async () => {
      await sessionStore.stepUp(code);
      setOpen(false);
      pending.current?.resolve();
      pending.current = null;
    });
  };

  return (
    <ModalDialog open={open} title="Confirm it is you" onCancel={cancel}>
      <SubmissionForm submission={form} onSubmit={submit}>
        <p>This action needs a fresh code from your authenticator app.</p>
        <CodeField {...form.bind('code')} />
        <FormFooter submission={form} onCancel={cancel}>
          Confirm
        </FormFooter>
      </SubmissionForm>
    </ModalDialog>
  );
}
