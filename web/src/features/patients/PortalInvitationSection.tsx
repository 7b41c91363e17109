import { sessionStore } from '../../auth/sessionStore';
import { Field } from '../../shared/fields';
import { ProblemAlert, SubmissionForm, SubmitButton } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { emailProblem } from '../../shared/patterns';
import { showToast } from '../../shared/Toast';
import { decodePortalInvitation, patientPath, type Patient } from './patientsApi';

interface Props {
  patient: Patient;
  canWrite: boolean;
  onChanged: () => void;
}

/**
 * Invites the patient to the portal: a new account, or the existing account of the address, which
 * sees the record once its owner accepts. Staff are told the same either way (A11).
 */
export function PortalInvitationSection({ patient, canWrite, onChanged }: Props) {
  const form = useForm({ email: '' });

  const submit = () => {
    const email = form.values.email.trim();
    const problem = emailProblem(email, "Enter the patient's email address.");
    if (!form.validate({ email: problem })) return;
    void form.run(async () => {
      const status = await sessionStore.api(
        'POST',
        patientPath(patient.id, '/portal-invitation'),
        decodePortalInvitation,
        { email },
      );
      form.clear('email');
      onChanged();
      // Always 'invited': whoever has the address sees the record once they accept (A11).
      if (status === 'invited') showToast('An invitation to the patient portal was sent.');
    });
  };

  return (
    <section className="panel stack" aria-labelledby="portal-title">
      <h2 id="portal-title">Patient portal</h2>
      {patient.portalLinked ? (
        <p>The patient was invited to the portal, or their account is linked to this record.</p>
      ) : !canWrite ? (
        <p>No portal account is linked. Restore the patient to send an invitation.</p>
      ) : (
        <SubmissionForm submission={form} onSubmit={submit}>
          <p>No portal account is linked to this record yet.</p>
          <Field
            label="Patient's email"
            type="email"
            autoComplete="off"
            maxLength={254}
            {...form.bind('email')}
          />
          <ProblemAlert error={form.error} />
          <SubmitButton busy={form.busy}>Invite to the portal</SubmitButton>
        </SubmissionForm>
      )}
    </section>
  );
}
