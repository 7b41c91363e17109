import { useState, type FormEvent } from 'react';
import { Page } from '../../app/Page';
import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { Link } from '../../shared/router';

/** A10: ask for a reset link. The answer is the same whether or not the account exists. */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [emailError, setEmailError] = useState<string | undefined>();
  const [sent, setSent] = useState(false);
  const submission = useSubmission();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!email.includes('@')) {
      setEmailError('Enter your email address.');
      return submission.invalid();
    }
    setEmailError(undefined);
    void submission.run(async () => {
      await sessionStore.credentialCall('/api/auth/password-reset', ignoreBody, {
        email: email.trim(),
      });
      setSent(true);
    });
  };

  return (
    <Page title="Reset your password">
      {sent ? (
        <SuccessNote>
          <p>
            If an account uses that email, we have sent it a link to choose a new password. The link
            works for 30 minutes.
          </p>
        </SuccessNote>
      ) : (
        <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
          <Field
            label="Email"
            type="email"
            autoComplete="email"
            required
            value={email}
            onValueChange={setEmail}
            error={emailError}
          />
          <ProblemAlert error={submission.error} />
          <SubmitButton busy={submission.busy}>Send reset link</SubmitButton>
        </form>
      )}
      <p>
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
}
