import { useId, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDate } from '../../shared/dates';
import { Field, TextAreaField } from '../../shared/fields';
import { FormFooter, SubmissionForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { navigate } from '../../shared/router';
import {
  MAX_MATCHES,
  MAX_QUERY,
  MAX_REASON,
  MIN_QUERY,
  MIN_REASON,
  PATIENT_SEARCH_PATH,
  decodeGrantAnswer,
  decodePatientMatches,
  grantPagePath,
  type PatientMatch,
} from './breakGlassApi';

/** How a patient reads in the picker: enough to tell two namesakes apart, nothing more. */
function matchLabel(p: PatientMatch): string {
  return `${p.familyName}, ${p.givenName} — born ${formatDate(p.birthDate)} — MRN ${p.mrn} — ${p.organizationName}`;
}

/** What the last search found, announced once. */
function foundNote(count: number): string {
  if (count === 0) return 'No patient matches; check the spelling or search by MRN.';
  if (count === 1) return '1 patient found.';
  if (count < MAX_MATCHES) return `${count} patients found.`;
  return `The first ${count} patients found; add to the search to narrow it.`;
}

/**
 * Asks for a time-limited, read-only grant on one record. The admin finds the patient by name or
 * MRN (each search is audited as a listing of the patients it shows, so it runs on Search, not on
 * every keystroke) and picks one from the radio list. The server answers STEP_UP_REQUIRED when
 * the last MFA is not fresh; the API client then shows the MFA prompt and retries, and the new
 * grant's record opens.
 */
export function BreakGlassRequestForm() {
  const pickerName = useId();
  const search = useForm({ query: '' });
  const form = useForm({ patientId: '', reason: '' });
  /** The last search's answer; null before the first. */
  const [matches, setMatches] = useState<PatientMatch[] | null>(null);

  const find = () => {
    const query = search.values.query.trim();
    const problems = {
      query:
        Array.from(query).length < MIN_QUERY
          ? `Enter at least ${MIN_QUERY} characters of a name or the MRN.`
          : undefined,
    };
    if (!search.validate(problems)) return;
    void search.run(async () => {
      const found = await sessionStore.api('POST', PATIENT_SEARCH_PATH, decodePatientMatches, {
        query,
      });
      setMatches(found);
      // A single match is the likely one; the admin still sees whom they are about to open.
      form.bind('patientId').onValueChange(found.length === 1 && found[0] ? found[0].id : '');
    });
  };

  const submit = () => {
    const { patientId } = form.values;
    const reason = form.values.reason.trim();
    const problems = {
      patientId: patientId ? undefined : 'Find the patient, then choose them from the list.',
      reason:
        reason.length < MIN_REASON || reason.length > MAX_REASON
          ? `Give a reason of ${MIN_REASON} to ${MAX_REASON} characters.`
          : undefined,
    };
    if (!form.validate(problems)) return;
    void form.run(async () => {
      const grant = await sessionStore.api('POST', '/api/break-glass/grants', decodeGrantAnswer, {
        patientId,
        reason,
      });
      navigate(grantPagePath(grant.id));
    });
  };

  const pickError = form.fieldError('patientId');
  return (
    <section className="panel stack" aria-labelledby="bg-request-title">
      <h2 id="bg-request-title">Request emergency access</h2>
      <p>
        Break-glass opens one patient&apos;s record, read-only, for a limited time. You will be
        asked for a fresh authenticator code. The request, your reason and every view are recorded
        and shown to the patient; so is every search, to each patient it finds.
      </p>
      <div role="search" aria-label="Find the patient">
        <SubmissionForm submission={search} onSubmit={find}>
          <Field
            label="Patient name or MRN"
            autoComplete="off"
            maxLength={MAX_QUERY}
            {...search.bind('query')}
            hint={`Family or given name (or both, e.g. "Quill, Jordan"), or the exact MRN; at least ${MIN_QUERY} characters. Shows up to ${MAX_MATCHES} patients of any organization.`}
          />
          <FormFooter submission={search}>Search</FormFooter>
        </SubmissionForm>
      </div>
      <SubmissionForm submission={form} onSubmit={submit}>
        {matches !== null && <p role="status">{foundNote(matches.length)}</p>}
        {matches !== null && matches.length > 0 && (
          <fieldset aria-describedby={pickError ? `${pickerName}-error` : undefined}>
            <legend>Patient</legend>
            {matches.map((match) => (
              <div key={match.id} className="checkbox">
                <input
                  id={`${pickerName}-${match.id}`}
                  type="radio"
                  name={pickerName}
                  value={match.id}
                  checked={form.values.patientId === match.id}
                  aria-invalid={pickError ? true : undefined}
                  onChange={() => form.bind('patientId').onValueChange(match.id)}
                />
                <label htmlFor={`${pickerName}-${match.id}`}>{matchLabel(match)}</label>
              </div>
            ))}
          </fieldset>
        )}
        {pickError && (
          <p id={`${pickerName}-error`} className="field-error" role="alert" tabIndex={-1}>
            {pickError}
          </p>
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
