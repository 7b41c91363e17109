import { useState, type FormEvent } from 'react';
import { Page } from '../../app/Page';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf, ignoreBody } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { Link, takeHashToken } from '../../shared/router';
import { NewPasswordField, newPasswordProblem } from './NewPasswordField';

/** A10: the emailed link (single use, 30 minutes) sets a new password; every session ends. */
export function ResetPasswordPage() {
  const [token] = useState(takeHashToken);
  const [done, setDone] = useState(false);
  return (
    <Page title="Choose a new password">
      {!token ? (
        <p className="error" role="alert">
          Open this page from the reset link in your email, or{' '}
          <Link to="/forgot-password">ask for a new link</Link>.
        </p>
      ) : done ? (
        <SuccessNote>
          <p>
            Your password has been changed and every session was signed out.{' '}
            <Link to="/sign-in">Sign in</Link> with your new password.
          </p>
        </SuccessNote>
      ) : (
        <ResetForm token={token} onDone={() => setDone(true)} />
      )}
    </Page>
  );
}

function ResetForm({ token, onDone }: { token: string; onDone: () => void }) {
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [errors, setErrors] = useState<{ password?: string; confirmation?: string }>({});
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: typeof errors = {};
    const problem = newPasswordProblem(password);
    if (problem) found.password = problem;
    if (confirmation !== password) found.confirmation = 'The two passwords differ.';
    setErrors(found);
    if (found.password || found.confirmation) return submission.invalid();
    void submission.run(async () => {
      await sessionStore.credentialCall('/api/auth/password-reset/complete', ignoreBody, {
        token,
        newPassword: password,
      });
      if (sessionStore.getState().status === 'signed_in') sessionStore.endLocally('expired');
      onDone();
    });
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <NewPasswordField
        value={password}
        onValueChange={setPassword}
        error={errors.password ?? serverErrors['newPassword'] ?? serverErrors['password']}
        userInputs={[]}
      />
      <Field
        label="Repeat the new password"
        type="password"
        autoComplete="new-password"
        required
        value={confirmation}
        onValueChange={setConfirmation}
        error={errors.confirmation}
      />
      <ProblemAlert error={submission.error} />
      <SubmitButton busy={submission.busy}>Change password</SubmitButton>
    </form>
  );
}
