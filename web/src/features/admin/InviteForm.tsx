import { useId, useState, type FormEvent } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { expectRecord, expectString, fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { formatDateTime } from '../account/accountApi';
import { ROLES, type Role } from './adminApi';

/** A11: invite someone by email; the link in the mail lets them set a password. */
export function InviteForm({ onInvited }: { onInvited: () => void }) {
  const roleId = useId();
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [role, setRole] = useState<Role>('clinician');
  const [emailError, setEmailError] = useState<string | undefined>();
  const [note, setNote] = useState<string | null>(null);
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setNote(null);
    if (!email.includes('@')) {
      setEmailError('Enter the email address to invite.');
      return submission.invalid();
    }
    setEmailError(undefined);
    void submission.run(async () => {
      const invited = email.trim();
      const expiresAt = await sessionStore.api(
        'POST',
        '/api/admin/invitations',
        (body) => expectString(expectRecord(body, 'answer'), 'expiresAt'),
        {
          email: invited,
          role,
          ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
        },
      );
      setEmail('');
      setDisplayName('');
      setNote(`Invitation sent to ${invited}. The link works until ${formatDateTime(expiresAt)}.`);
      onInvited();
    });
  };

  return (
    <section className="panel" aria-labelledby="invite-title">
      <h2 id="invite-title">Invite a user</h2>
      <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
        <Field
          label="Email"
          type="email"
          autoComplete="off"
          required
          value={email}
          onValueChange={setEmail}
          error={emailError ?? serverErrors['email']}
        />
        <Field
          label="Name (optional)"
          autoComplete="off"
          maxLength={100}
          value={displayName}
          onValueChange={setDisplayName}
        />
        <div className="field">
          <label htmlFor={roleId}>Role</label>
          <select
            id={roleId}
            value={role}
            onChange={(e) => setRole(ROLES.find((r) => r === e.target.value) ?? 'clinician')}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <ProblemAlert error={submission.error} />
        {note && <SuccessNote>{note}</SuccessNote>}
        <SubmitButton busy={submission.busy}>Send invitation</SubmitButton>
      </form>
    </section>
  );
}
