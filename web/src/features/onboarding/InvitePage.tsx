import { useEffect, useState, type FormEvent } from 'react';
import { Page } from '../../app/Page';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf, hasCode } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, useSubmission } from '../../shared/forms';
import { navigate, takeHashToken } from '../../shared/router';
import { NewPasswordField, newPasswordProblem } from '../password/NewPasswordField';
import { userInputsFor } from '../password/usePasswordStrength';
import { EnrolThenShowCodes } from './EnrolThenShowCodes';
import { decodeInvitation, decodeOnboardingAnswer, type Invitation } from './onboardingApi';

type InviteState =
  | { kind: 'loading' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'open'; invitation: Invitation }
  | { kind: 'enrolling' };

/** A11: accept an invitation (the link proves the email), choose a password, enrol MFA. */
export function InvitePage() {
  const [token] = useState(takeHashToken);
  const [state, setState] = useState<InviteState>({ kind: 'loading' });

  useEffect(() => {
    if (!token) return;
    let active = true;
    sessionStore
      .credentialCall('/api/onboarding/invitations/inspect', decodeInvitation, { token })
      .then((invitation) => active && setState({ kind: 'open', invitation }))
      .catch((error: unknown) => active && setState({ kind: 'failed', error }));
    return () => {
      active = false;
    };
  }, [token]);

  let content;
  if (!token) {
    content = (
      <p className="error" role="alert">
        Open this page from the invitation link in your email.
      </p>
    );
  } else if (state.kind === 'loading') {
    content = <p role="status">Checking your invitation…</p>;
  } else if (state.kind === 'failed') {
    content = hasCode(state.error, 'NOT_FOUND') ? (
      <p className="error" role="alert">
        This invitation link is unknown, already used or expired. Ask your administrator to send a
        new one.
      </p>
    ) : (
      <ProblemAlert error={state.error} />
    );
  } else if (state.kind === 'open') {
    content = (
      <AcceptForm
        token={token}
        invitation={state.invitation}
        onEnrolmentRequired={() => setState({ kind: 'enrolling' })}
      />
    );
  } else {
    content = <EnrolThenShowCodes />;
  }
  return <Page title="Accept your invitation">{content}</Page>;
}

interface AcceptFormProps {
  token: string;
  invitation: Invitation;
  onEnrolmentRequired: () => void;
}

function AcceptForm({ token, invitation, onEnrolmentRequired }: AcceptFormProps) {
  const [displayName, setDisplayName] = useState(invitation.displayName ?? '');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ displayName?: string; password?: string }>({});
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: typeof errors = {};
    if (displayName.trim() === '') found.displayName = 'Enter your name.';
    const passwordProblem = newPasswordProblem(password);
    if (passwordProblem) found.password = passwordProblem;
    setErrors(found);
    if (found.displayName || found.password) return submission.invalid();
    void submission.run(async () => {
      const answer = await sessionStore.credentialCall(
        '/api/onboarding/invitations/accept',
        decodeOnboardingAnswer,
        {
          token,
          displayName: displayName.trim(),
          password,
        },
      );
      if (answer.status === 'signed_in') {
        sessionStore.adopt(answer.signedIn);
        navigate('/', { replace: true });
      } else {
        onEnrolmentRequired();
      }
    });
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <p>
        You were invited to Haven as <strong>{invitation.role}</strong> with the email{' '}
        <strong>{invitation.email}</strong>.
      </p>
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
        label="Choose a password"
        value={password}
        onValueChange={setPassword}
        error={errors.password ?? serverErrors['password']}
        userInputs={userInputsFor(invitation.email, displayName)}
      />
      <ProblemAlert error={submission.error} />
      <SubmitButton busy={submission.busy}>Accept invitation</SubmitButton>
    </form>
  );
}
