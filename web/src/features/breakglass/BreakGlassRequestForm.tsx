import { useId, useState, type FormEvent } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, useSubmission } from '../../shared/forms';
import { SelectField, TextAreaField, serverFieldError } from '../../shared/fields';
import { navigate } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { decodeOrganizationPage } from '../organizations/organizationsApi';
import { MAX_REASON, MIN_REASON, decodeGrantAnswer, grantPagePath } from './breakGlassApi';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MRN = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;

type Lookup = 'patient' | 'mrn';
interface Problems {
  patientId?: string;
  organizationId?: string;
  mrn?: string;
  reason?: string;
}

/**
 * Asks for a time-limited, read-only grant on one record. The server answers
 * STEP_UP_REQUIRED when the last MFA is not fresh; the API client then shows the MFA prompt
 * and retries, and the new grant's record opens.
 */
export function BreakGlassRequestForm() {
  const lookupName = useId();
  const [lookup, setLookup] = useState<Lookup>('patient');
  const [patientId, setPatientId] = useState('');
  const [organizationId, setOrganizationId] = useState('');
  const [mrn, setMrn] = useState('');
  const [reason, setReason] = useState('');
  const [problems, setProblems] = useState<Problems>({});
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);
  const organizations = useResource(lookup === 'mrn' ? 'organizations' : null, () =>
    sessionStore.api('GET', '/api/admin/organizations?limit=100', decodeOrganizationPage),
  );
  const orgChoices = [
    { value: '', label: 'Choose…' },
    ...(organizations.data?.organizations ?? []).map((o) => ({ value: o.id, label: o.name })),
  ];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {};
    if (lookup === 'patient' && !UUID.test(patientId.trim())) {
      found.patientId = 'Enter the patient id (a UUID).';
    }
    if (lookup === 'mrn' && !organizationId) found.organizationId = 'Choose the organization.';
    if (lookup === 'mrn' && !MRN.test(mrn.trim())) found.mrn = 'Enter the MRN.';
    const r = reason.trim();
    if (r.length < MIN_REASON || r.length > MAX_REASON) {
      found.reason = `Give a reason of ${MIN_REASON} to ${MAX_REASON} characters.`;
    }
    setProblems(found);
    if (Object.keys(found).length > 0) return submission.invalid();
    void submission.run(async () => {
      const target =
        lookup === 'patient'
          ? { patientId: patientId.trim().toLowerCase() }
          : { organizationId, mrn: mrn.trim() };
      const grant = await sessionStore.api('POST', '/api/break-glass/grants', decodeGrantAnswer, {
        ...target,
        reason: r,
      });
      navigate(grantPagePath(grant.id));
    });
  };

  const serverError = (name: keyof Problems) =>
    problems[name] ?? serverFieldError(serverErrors, name);

  return (
    <section className="panel stack" aria-labelledby="bg-request-title">
      <h2 id="bg-request-title">Request emergency access</h2>
      <p>
        Break-glass opens one patient&apos;s record, read-only, for a limited time. You will be
        asked for a fresh authenticator code. The request, your reason and every view are recorded
        and shown to the patient.
      </p>
      <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
        <fieldset>
          <legend>Find the patient by</legend>
          {(
            [
              ['patient', 'Its id'],
              ['mrn', 'Its organization and MRN'],
            ] as const
          ).map(([value, label]) => (
            <div key={value} className="checkbox">
              <input
                id={`${lookupName}-${value}`}
                type="radio"
                name={lookupName}
                checked={lookup === value}
                onChange={() => setLookup(value)}
              />
              <label htmlFor={`${lookupName}-${value}`}>{label}</label>
            </div>
          ))}
        </fieldset>
        {lookup === 'patient' ? (
          <Field
            label="Patient id"
            autoComplete="off"
            maxLength={36}
            value={patientId}
            onValueChange={setPatientId}
            error={serverError('patientId')}
          />
        ) : (
          <div className="form-grid">
            {organizations.error ? (
              <ProblemAlert error={organizations.error} />
            ) : (
              <SelectField
                label="Organization"
                value={organizationId}
                choices={orgChoices}
                onValueChange={setOrganizationId}
                error={serverError('organizationId')}
              />
            )}
            <Field
              label="MRN"
              autoComplete="off"
              maxLength={32}
              value={mrn}
              onValueChange={setMrn}
              error={serverError('mrn')}
            />
          </div>
        )}
        <TextAreaField
          label="Reason"
          rows={3}
          minLength={MIN_REASON}
          maxLength={MAX_REASON}
          value={reason}
          onValueChange={setReason}
          error={serverError('reason')}
          hint={`Why you need this record now (${MIN_REASON}–${MAX_REASON} characters).`}
        />
        <ProblemAlert error={submission.error} />
        <SubmitButton busy={submission.busy}>Request access</SubmitButton>
      </form>
    </section>
  );
}
