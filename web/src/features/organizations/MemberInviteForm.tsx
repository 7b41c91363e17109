import { sessionStore } from '../../auth/sessionStore';
import { Field, SelectField } from '../../shared/fields';
import { FormFooter, SubmissionForm } from '../../shared/forms';
import { emailProblem } from '../../shared/patterns';
import { useForm } from '../../shared/submission';
import {
  DEFAULT_ORGANIZATION_ROLE,
  ORGANIZATION_ROLE_CHOICES,
  decodeMemberAnswer,
} from './organizationsApi';

interface Props {
  /** POST target: the admin route or the organization's own members route. */
  path: string;
  submitLabel: string;
  onAdded: () => void;
}

/**
 * Adds a member by email: an unknown email gets an identity invitation; someone with an account
 * is added at once by a platform administrator, invited to accept by an org admin (the server
 * decides, mails them, and tells an org admin nothing about the account).
 */
export function MemberInviteForm({ path, submitLabel, onAdded }: Props) {
  const form = useForm({ email: '', displayName: '', role: DEFAULT_ORGANIZATION_ROLE });

  const submit = () => {
    const email = form.values.email.trim();
    const displayName = form.values.displayName.trim();
    const problem = emailProblem(email, 'Enter the email address of the person to add.');
    if (!form.validate({ email: problem })) return;
    void form.run(async () => {
      const member = await sessionStore.api('POST', path, decodeMemberAnswer, {
        email,
        role: form.values.role,
        ...(displayName ? { displayName } : {}),
      });
      form.clear('email', 'displayName');
      onAdded();
      return member.status === 'invited'
        ? `${member.email} was invited; they become a member once they accept.`
        : `${member.email} is now a member.`;
    });
  };

  return (
    <SubmissionForm submission={form} onSubmit={submit}>
      <div className="form-grid">
        <Field
          label="Email"
          type="email"
          autoComplete="off"
          maxLength={254}
          required
          {...form.bind('email')}
        />
        <Field
          label="Name (optional)"
          autoComplete="off"
          maxLength={100}
          {...form.bind('displayName')}
        />
        <SelectField
          label="Organization role"
          choices={ORGANIZATION_ROLE_CHOICES}
          {...form.bind('role')}
        />
      </div>
      <FormFooter submission={form}>{submitLabel}</FormFooter>
    </SubmissionForm>
  );
}
