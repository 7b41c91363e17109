import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/decoding';
import { Field } from '../../shared/fields';
import { FormFooter, SubmissionForm, SuccessNote } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { Page } from '../../shared/Page';
import { Link } from '../../shared/router';
import { emailProblem } from '../../shared/patterns';

/** A10: ask for a reset link. The answer is the same whether or not the account exists. */
export function ForgotPasswordPage() {
  const form = useForm({ email: '' });
  const [sent, setSent] = useState(false);

  const submit = () => {
    const { email } = form.values;
    const problem = emailProblem(email, 'Enter your email address.');
    if (!form.validate({ email: problem })) return;
    void form.run(async () => {
      await sessionStore.credentialCall('/api/auth/password-reset', ignoreBody, {
        email: email.trim(),
      });
      setSent(true);
    });
  };

  return (
    <Page title="Reset your password">
      {sent ? (
        <SuccessNote takeFocus>
          <p>
            If an account uses that email, we have sent it a link to choose a new password. The link
            works for 30 minutes.
          </p>
        </SuccessNote>
      ) : (
        <SubmissionForm submission={form} onSubmit={submit}>
          <Field label="Email" type="email" autoComplete="email" required {...form.bind('email')} />
          <FormFooter submission={form}>Send reset link</FormFooter>
        </SubmissionForm>
      )}
      <p>
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
}
