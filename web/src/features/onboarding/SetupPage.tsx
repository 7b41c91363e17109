import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { Field } from '../../shared/fields';
import { FormFooter, SubmissionForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { Page } from '../../shared/Page';
import { takeHashToken } from '../../shared/router';
import { EnrolThenShowCodes } from './EnrolThenShowCodes';
import { NewAccountFields, newAccountProblems } from './NewAccountFields';
import { decodeSetupAnswer } from './onboardingApi';
import { emailProblem } from '../../shared/patterns';

/** First start: the one-time setup link creates the first admin, who then enrols MFA. */
export function SetupPage() {
  const [token] = useState(takeHashToken);
  const [enrolling, setEnrolling] = useState(false);

  return (
    <Page title="Set up Haven">
      {!token ? (
        <p className="error" role="alert">
          This page needs the whole one-time setup link the server printed at first start (or the
          one <code>npx haven setup-link</code> prints). Copy the complete address.
        </p>
      ) : enrolling ? (
        <EnrolThenShowCodes />
      ) : (
        <SetupForm token={token} onEnrolmentRequired={() => setEnrolling(true)} />
      )}
    </Page>
  );
}

function SetupForm({
  token,
  onEnrolmentRequired,
}: {
  token: string;
  onEnrolmentRequired: () => void;
}) {
  const form = useForm({ email: '', displayName: '', password: '' });

  const submit = () => {
    const { email, displayName, password } = form.values;
    const problems = {
      email: emailProblem(email, 'Enter your email address.'),
      ...newAccountProblems(displayName, password),
    };
    if (!form.validate(problems)) return;
    void form.run(async () => {
      await sessionStore.credentialCall('/api/onboarding/setup', decodeSetupAnswer, {
        token,
        email: email.trim(),
        displayName: displayName.trim(),
        password,
      });
      onEnrolmentRequired();
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <p>Create the first administrator account.</p>
      <Field label="Email" type="email" autoComplete="email" required {...form.bind('email')} />
      <NewAccountFields
        email={form.values.email}
        displayName={form.bind('displayName')}
        password={form.bind('password')}
        passwordLabel="Password"
      />
      <FormFooter submission={form}>Create administrator</FormFooter>
    </SubmissionForm>
  );
}
