import { useId, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { Field, SelectField, TextAreaField } from '../../shared/fields';
import { FormFooter, ProblemAlert, SubmissionForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { MRN_PATTERN, UUID_PATTERN } from '../../shared/patterns';
import { navigate } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { decodeOrganizationPage } from '../organizations';
import { MAX_REASON, MIN_REASON, decodeGrantAnswer, grantPagePath } from './breakGlassApi';

type Lookup = 'patient' | 'mrn';

/**
 * Asks for a time-limited, read-only grant on one record. The server answers
 * STEP_UP_REQUIRED when the last MFA is not fresh; the API client then shows the MFA prompt
 * and retries, and the new grant's record opens.
 */
export function BreakGlassRequestForm() {
  const lookupName = useId();
  const [lookup, setLookup] = useState<Lookup>('patient');
  const form = useForm({ patientId: '', organizationId: '', mrn: '', reason: '' });
  const organizations = useResource(lookup === 'mrn' ? 'organizations' : null, () =>
    sessionStore.api('GET', '/api/admin/organizations?limit=100', decodeOrganizationPage),
  );
  const orgChoices = [
    { value: '', label: 'Choose…' },
    ...(organizations.data?.organizations ?? []).map((o) => ({ value: o.id, label: o.name })),
  ];

  const submit = () => {
    const { patientId, organizationId, mrn } = form.values;
    const reason = form.values.reason.trim();
    const problems = {
      patientId:
        lookup === 'patient' && !UUID_PATTERN.test(patientId.trim())
          ? 'Enter the patient id (a UUID).'
          : undefined,
      organizationId: lookup === 'mrn' && !organizationId ? 'Choose the organization.' : undefined,
      mrn: lookup === 'mrn' && !MRN_PATTERN.test(mrn.trim()) ? 'Enter the MRN.' : undefined,
      reason:
        reason.length < MIN_REASON || reason.length > MAX_REASON
          ? `Give a reason of ${MIN_REASON} to ${MAX_REASON} characters.`
          : undefined,
    };
    if (!form.validate(problems)) return;
    void form.run(async () => {
      const target =
        lookup === 'patient'
          ? { patientId: patientId.trim().toLowerCase() }
          : { organizationId, mrn: mrn.trim() };
      const grant = await sessionStore.api('POST', '/api/break-glass/grants', decodeGrantAnswer, {
        ...target,
        reason,
      });
      navigate(grantPagePath(grant.id));
    });
  };

  return (
    <section className="panel stack" aria-labelledby="bg-request-title">
      <h2 id="bg-request-title">Request emergency access</h2>
      <p>
        Break-glass opens one patient&apos;s record, read-only, for a limited time. You will be
        asked for a fresh authenticator code. The request, your reason and every view are recorded
        and shown to the patient.
      </p>
      <SubmissionForm submission={form} onSubmit={submit}>
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
          <Field label="Patient id" autoComplete="off" maxLength={36} {...form.bind('patientId')} />
        ) : (
          <div className="form-grid">
            {organizations.error ? (
              <ProblemAlert error={organizations.error} />
            ) : (
              <SelectField
                label="Organization"
                choices={orgChoices}
                {...form.bind('organizationId')}
              />
            )}
            <Field label="MRN" autoComplete="off" maxLength={32} {...form.bind('mrn')} />
          </div>
        )}
        <TextAreaField
          label="Reason"
          rows={3}
          minLength={MIN_REASON}
          maxLength={MAX_REASON}
          {...form.bind('reason')}
          hint={`Why you need this record now (${MIN_REASON}–${MAX_REASON} characters).`}
        />
        <FormFooter submission={form}>Request access</FormFooter>
      </SubmissionForm>
    </section>
  );
}
