import { useState, type FormEvent } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { SelectField, serverFieldError } from '../../shared/fields';
import {
  ORGANIZATION_ROLE_CHOICES,
  decodeMemberAnswer,
  type OrganizationRole,
} from './organizationsApi';

interface Props {
  /** POST target: the admin route or the organization's own members route. */
  path: string;
  submitLabel: string;
  onAdded: () => void;
}

/**
 * Adds a member by email: an unknown email gets an identity invitation, an existing clinician
 * is added at once (the server decides and mails them).
 */
export function MemberInviteForm({ path, submitLabel, onAdded }: Props) {
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<OrganizationRole>('clinician');
  const [emailError, setEmailError] = useState<string | undefined>();
  const [note, setNote] = useState<string | null>(null);
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setNote(null);
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) {
      setEmailError('Enter the email address of the person to add.');
      return submission.invalid();
    }
    setEmailError(undefined);
    void submission.run(async () => {
      const member = await sessionStore.api('POST', path, decodeMemberAnswer, {
        email: email.trim(),
        role,
        ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
      });
      setEmail('');
      setDisplayName('');
      setNote(
        member.status === 'invited'
          ? `${member.email} was invited; the membership starts with their account.`
          : `${member.email} is now a member.`,
      );
      onAdded();
    });
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <div className="form-grid">
        <Field
          label="Email"
          type="email"
          autoComplete="off"
          maxLength={254}
          required
          value={email}
          onValueChange={setEmail}
          error={emailError ?? serverFieldError(serverErrors, 'email')}
        />
        <Field
          label="Name (optional)"
          autoComplete="off"
          maxLength={100}
          value={displayName}
          onValueChange={setDisplayName}
          error={serverFieldError(serverErrors, 'displayName')}
        />
        <SelectField
          label="Organization role"
          value={role}
          choices={ORGANIZATION_ROLE_CHOICES}
          onValueChange={setRole}
        />
      </div>
      <ProblemAlert error={submission.error} />
      {note && <SuccessNote>{note}</SuccessNote>}
      <SubmitButton busy={submission.busy}>{submitLabel}</SubmitButton>
    </form>
  );
}
