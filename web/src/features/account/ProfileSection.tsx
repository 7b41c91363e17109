import { useState, type FormEvent } from 'react';
import type { SessionUser } from '../../auth/authTypes';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { decodeUserAnswer } from './accountApi';

/** Display name (and the read-only email, with a change-email form). */
export function ProfileSection({ user }: { user: SessionUser }) {
  const [displayName, setDisplayName] = useState(user.displayName);
  const [nameError, setNameError] = useState<string | undefined>();
  const [saved, setSaved] = useState(false);
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    if (displayName.trim() === '') {
      setNameError('Enter your name.');
      return submission.invalid();
    }
    setNameError(undefined);
    void submission.run(async () => {
      const updated = await sessionStore.api('PATCH', '/api/account/profile', decodeUserAnswer, {
        displayName: displayName.trim(),
      });
      sessionStore.updateUser(updated);
      setSaved(true);
    });
  };

  return (
    <section className="panel stack" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <dl className="facts">
        <dt>Name</dt>
        <dd data-testid="profile-display-name">{user.displayName}</dd>
        <dt>Email</dt>
        <dd>{user.email}</dd>
        <dt>Roles</dt>
        <dd>{user.roles.join(', ') || 'none'}</dd>
      </dl>
      <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
        <Field
          label="Display name"
          autoComplete="name"
          required
          maxLength={100}
          value={displayName}
          onValueChange={setDisplayName}
          error={nameError ?? serverErrors['displayName']}
        />
        <ProblemAlert error={submission.error} />
        {saved && <SuccessNote>Your name was saved.</SuccessNote>}
        <SubmitButton busy={submission.busy}>Save name</SubmitButton>
      </form>
      <ChangeEmailForm />
    </section>
  );
}

function ChangeEmailForm() {
  const [newEmail, setNewEmail] = useState('');
  const [emailError, setEmailError] = useState<string | undefined>();
  const [sent, setSent] = useState(false);
  const submission = useSubmission();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSent(false);
    if (!newEmail.includes('@')) {
      setEmailError('Enter the new email address.');
      return submission.invalid();
    }
    setEmailError(undefined);
    void submission.run(async () => {
      await sessionStore.api('POST', '/api/account/email', () => null, {
        newEmail: newEmail.trim(),
      });
      setSent(true);
    });
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <Field
        label="New email address"
        type="email"
        autoComplete="email"
        value={newEmail}
        onValueChange={setNewEmail}
        error={emailError}
      />
      <ProblemAlert error={submission.error} />
      {sent && <SuccessNote>We sent a confirmation link to the new address.</SuccessNote>}
      <SubmitButton busy={submission.busy}>Change email</SubmitButton>
    </form>
  );
}
