import { useState, type FormEvent } from 'react';
import { Page } from '../../app/Page';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, useSubmission } from '../../shared/forms';
import { takeHashToken } from '../../shared/router';
import { NewPasswordField, newPasswordProblem } from '../password/NewPasswordField';
import { userInputsFor } from '../password/usePasswordStrength';
import { EnrolThenShowCodes } from './EnrolThenShowCodes';
import { decodeOnboardingAnswer } from './onboardingApi';

interface SetupErrors {
  email?: string;
  displayName?: string;
  password?: string;
}

/** First start: the one-time setup link creates the first admin, who then enrols MFA. */
export function SetupPage() {
  const [token] = useState(takeHashToken);
  const [enrolling, setEnrolling] = useState(false);

  return (
    <Page title="Set up Haven">
      {!token ? (
        <p className="error" role="alert">
          This page needs the one-time setup link printed by the server at first start.
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
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<SetupErrors>({});
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: SetupErrors = {};
    if (!email.includes('@')) found.email = 'Enter your email address.';
    if (displayName.trim() === '') found.displayName = 'Enter your name.';
    const passwordProblem = newPasswordProblem(password);
    if (passwordProblem) found.password = passwordProblem;
    setErrors(found);
    if (Object.keys(found).length > 0) return submission.invalid();
    void submission.run(async () => {
      const answer = await sessionStore.credentialCall(
        '/api/onboarding/setup',
        decodeOnboardingAnswer,
        {
          token,
          email: email.trim(),
          displayName: displayName.trim(),
          password,
        },
      );
      if (answer.status === 'signed_in') sessionStore.adopt(answer.signedIn);
      onEnrolmentRequired();
    });
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <p>Create the first administrator account.</p>
      <Field
        label="Email"
        type="email"
        autoComplete="email"
        required
        value={email}
        onValueChange={setEmail}
        error={errors.email ?? serverErrors['email']}
      />
      <Field
        label="Your name"
        autoComplete="name"
        required
        maxLength={100}
        value={displayName}
        onValueChange={setDisplayName}
        error={errors.displayName ?? serverErrors['displayName']}
      />
      <NewPasswordField
        label="Password"
        value={password}
        onValueChange={setPassword}
        error={errors.password ?? serverErrors['password']}
        userInputs={userInputsFor(email, displayName)}
      />
      <ProblemAlert error={submission.error} />
      <SubmitButton busy={submission.busy}>Create administrator</SubmitButton>
    </form>
  );
}
