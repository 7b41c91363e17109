import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/decoding';
import { Field } from '../../shared/fields';
import { FormFooter, SubmissionForm, SuccessNote } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { Page } from '../../shared/Page';
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
          This page needs the whole reset link from your email (copy the complete address if your
          email program split it), or <Link to="/forgot-password">ask for a new link</Link>.
        </p>
      ) : done ? (
        <SuccessNote takeFocus>
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
  const form = useForm({ newPassword: '', confirmation: '' });

  const submit = () => {
    const { newPassword, confirmation } = form.values;
    const problems = {
      newPassword: newPasswordProblem(newPassword),
      confirmation: confirmation === newPassword ? undefined : 'The two passwords differ.',
    };
    if (!form.validate(problems)) return;
    void form.run(async () => {
      await sessionStore.credentialCall('/api/auth/password-reset/complete', ignoreBody, {
        token,
        newPassword,
      });
      if (sessionStore.getState().status === 'signed_in') sessionStore.endLocally('expired');
      onDone();
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <NewPasswordField {...form.bind('newPassword', 'password')} userInputs={[]} />
      <Field
        label="Repeat the new password"
        type="password"
        autoComplete="new-password"
        required
        {...form.bind('confirmation')}
      />
      <FormFooter submission={form}>Change password</FormFooter>
    </SubmissionForm>
  );
}
