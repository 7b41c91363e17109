import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { Field, SelectField } from '../../shared/fields';
import { FormFooter, SubmissionForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { DEFAULT_ROLE, ROLE_CHOICES, decodeInvited } from './adminApi';
import { emailProblem } from '../../shared/patterns';

/** A11: invite someone by email; the link in the mail lets them set a password. */
export function InviteForm({ onInvited }: { onInvited: () => void }) {
  const form = useForm({ email: '', displayName: '', role: DEFAULT_ROLE });

  const submit = () => {
    const { email, displayName, role } = form.values;
    const problem = emailProblem(email, 'Enter the email address to invite.');
    if (!form.validate({ email: problem })) return;
    void form.run(async () => {
      const invited = email.trim();
      const expiresAt = await sessionStore.api('POST', '/api/admin/invitations', decodeInvited, {
        email: invited,
        role,
        ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
      });
      form.clear('email', 'displayName');
      onInvited();
      return `Invitation sent to ${invited}. The link works until ${formatDateTime(expiresAt)}.`;
    });
  };

  return (
    <section className="panel" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite a user</h2>
      <SubmissionForm submission={form} onSubmit={submit}>
        <Field label="Email" type="email" autoComplete="off" required {...form.bind('email')} />
        <Field
          label="Name (optional)"
          autoComplete="off"
          maxLength={100}
          {...form.bind('displayName')}
        />
        <SelectField label="Role" choices={ROLE_CHOICES} {...form.bind('role')} />
        <FormFooter submission={form}>Send invitation</FormFooter>
      </SubmissionForm>
    </section>
  );
}
