import type { SessionUser } from '../../auth/authTypes';
import { sessionStore } from '../../auth/sessionStore';
import { Field } from '../../shared/fields';
import { FormFooter, SubmissionForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { NewPasswordField, newPasswordProblem, userInputsFor } from '../password';
import { decodePasswordChanged, sessionsSignedOut } from './accountApi';

/** Password change; the server signs out every other session (A7). */
export function ChangePasswordSection({ user }: { user: SessionUser }) {
  const form = useForm({ currentPassword: '', newPassword: '' });

  const submit = () => {
    const { currentPassword, newPassword } = form.values;
    const problems = {
      currentPassword: currentPassword === '' ? 'Enter your current password.' : undefined,
      newPassword: newPasswordProblem(newPassword),
    };
    if (!form.validate(problems)) return;
    void form.run(async () => {
      const revoked = await sessionStore.api(
        'POST',
        '/api/account/password',
        decodePasswordChanged,
        { currentPassword, newPassword },
      );
      form.clear('currentPassword', 'newPassword');
      return `Your password was changed. ${sessionsSignedOut(revoked, 'other')}`;
    });
  };

  return (
    <section className="panel" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <SubmissionForm submission={form} onSubmit={submit}>
        <Field
          label="Current password"
          type="password"
          autoComplete="current-password"
          required
          {...form.bind('currentPassword')}
        />
        <NewPasswordField
          {...form.bind('newPassword', 'password')}
          userInputs={userInputsFor(user.email, user.displayName)}
        />
        <FormFooter submission={form}>Change password</FormFooter>
      </SubmissionForm>
    </section>
  );
}
