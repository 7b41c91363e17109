import { useState, type FormEvent } from 'react';
import type { SessionUser } from '../../auth/authTypes';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { NewPasswordField, newPasswordProblem } from '../password/NewPasswordField';
import { userInputsFor } from '../password/usePasswordStrength';
import { decodeRevokedCount } from './accountApi';

/** Password change; the server signs out every other session (A7). */
export function ChangePasswordSection({ user }: { user: SessionUser }) {
  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [errors, setErrors] = useState<{ current?: string; next?: string }>({});
  const [note, setNote] = useState<string | null>(null);
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setNote(null);
    const found: typeof errors = {};
    if (currentPassword === '') found.current = 'Enter your current password.';
    const problem = newPasswordProblem(newPassword);
    if (problem) found.next = problem;
    setErrors(found);
    if (found.current || found.next) return submission.invalid();
    void submission.run(async () => {
      const revoked = await sessionStore.api(
        'POST',
        '/api/account/password',
        decodeRevokedCount('revokedSessions'),
        {
          currentPassword,
          newPassword,
        },
      );
      setCurrentPassword('');
      setNewPassword('');
      setNote(
        `Your password was changed. ${revoked} other ${revoked === 1 ? 'session was' : 'sessions were'} signed out.`,
      );
    });
  };

  return (
    <section className="panel" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
        <Field
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          value={currentPassword}
          onValueChange={setCurrentPassword}
          error={errors.current ?? serverErrors['currentPassword']}
        />
        <NewPasswordField
          value={newPassword}
          onValueChange={setNewPassword}
          error={errors.next ?? serverErrors['newPassword'] ?? serverErrors['password']}
          userInputs={userInputsFor(user.email, user.displayName)}
        />
        <ProblemAlert error={submission.error} />
        {note && <SuccessNote>{note}</SuccessNote>}
        <SubmitButton busy={submission.busy}>Change password</SubmitButton>
      </form>
    </section>
  );
}
