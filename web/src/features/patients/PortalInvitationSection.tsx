import { useState, type FormEvent } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, SuccessNote, useSubmission } from '../../shared/forms';
import { serverFieldError } from '../../shared/fields';
import { decodePortalInvitation, patientPath, type Patient } from './patientsApi';

interface Props {
  patient: Patient;
  canWrite: boolean;
  onChanged: () => void;
}

/** Invites the patient to the portal (or links an existing patient account). */
export function PortalInvitationSection({ patient, canWrite, onChanged }: Props) {
  const [email, setEmail] = useState('');
  const [emailError, setEmailError] = useState<string | undefined>();
  const [result, setResult] = useState<string | null>(null);
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setResult(null);
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) {
      setEmailError("Enter the patient's email address.");
      return submission.invalid();
    }
    setEmailError(undefined);
    void submission.run(async () => {
      const status = await sessionStore.api(
        'POST',
        patientPath(patient.id, '/portal-invitation'),
        decodePortalInvitation,
        { email: email.trim() },
      );
      setResult(
        status === 'linked'
          ? 'The existing patient account was linked to this record.'
          : 'An invitation to the patient portal was sent.',
      );
      setEmail('');
      onChanged();
    });
  };

  return (
    <section className="panel stack" aria-labelledby="portal-title">
      <h2 id="portal-title">Patient portal</h2>
      {result && <SuccessNote>{result}</SuccessNote>}
      {patient.portalLinked ? (
        <p>A portal account is linked to this record.</p>
      ) : !canWrite ? (
        <p>No portal account is linked. Restore the patient to send an invitation.</p>
      ) : (
        <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
          <p>No portal account is linked to this record yet.</p>
          <Field
            label="Patient's email"
            type="email"
            autoComplete="off"
            maxLength={254}
            value={email}
            onValueChange={setEmail}
            error={emailError ?? serverFieldError(serverErrors, 'email')}
          />
          <ProblemAlert error={submission.error} />
          <SubmitButton busy={submission.busy}>Invite to the portal</SubmitButton>
        </form>
      )}
    </section>
  );
}
