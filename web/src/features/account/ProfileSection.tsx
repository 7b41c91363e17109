import type { SessionUser } from '../../auth/authTypes';
import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/decoding';
import { Field } from '../../shared/fields';
import { FormFooter, SubmissionForm } from '../../shared/forms';
import { roleLabel } from '../../shared/roles';
import { useForm } from '../../shared/submission';
import { useActiveRole } from '../organizations';
import { decodeUserAnswer } from './accountApi';
import { emailProblem } from '../../shared/patterns';

/** Display name (and the read-only email, with a change-email form). */
export function ProfileSection({ user }: { user: SessionUser }) {
  const organizationRole = useActiveRole();
  const form = useForm({ displayName: user.displayName });

  const submit = () => {
    const name = form.values.displayName.trim();
    if (!form.validate({ displayName: name === '' ? 'Enter your name.' : undefined })) return;
    void form.run(async () => {
      const updated = await sessionStore.api('PATCH', '/api/account/profile', decodeUserAnswer, {
        displayName: name,
      });
      sessionStore.updateUser(updated);
      return 'Your name was saved.';
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
        <dt>Role</dt>
        <dd data-testid="profile-role">{roleLabel({ roles: user.roles, organizationRole })}</dd>
      </dl>
      <SubmissionForm submission={form} onSubmit={submit}>
        <Field
          label="Display name"
          autoComplete="name"
          required
          maxLength={100}
          {...form.bind('displayName')}
        />
        <FormFooter submission={form}>Save name</FormFooter>
      </SubmissionForm>
      <ChangeEmailForm />
    </section>
  );
}

function ChangeEmailForm() {
  const form = useForm({ newEmail: '' });

  const submit = () => {
    const { newEmail } = form.values;
    const problem = emailProblem(newEmail, 'Enter the new email address.');
    if (!form.validate({ newEmail: problem })) return;
    void form.run(async () => {
      await sessionStore.api('POST', '/api/account/email', ignoreBody, {
        newEmail: newEmail.trim(),
      });
      return 'We sent a confirmation link to the new address.';
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <Field
        label="New email address"
        type="email"
        autoComplete="email"
        {...form.bind('newEmail')}
      />
      <FormFooter submission={form}>Change email</FormFooter>
    </SubmissionForm>
  );
}
