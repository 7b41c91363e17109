import { useState, type FormEvent } from 'react';
import { fieldErrorsOf } from '../../shared/api';
import { Field, ProblemAlert, SubmitButton, useSubmission } from '../../shared/forms';
import { CheckboxField, SelectField, serverFieldError } from '../../shared/fields';
import {
  MAX_CONTACTS,
  checkDraft,
  inputOf,
  newContactKey,
  todayIso,
  type ContactDraft,
  type PatientDraft,
} from './patientDraft';
import { CONTACT_TYPES, SEX_CHOICES, type PatientInput } from './patientsApi';

interface PatientFormProps {
  initial: PatientDraft;
  submitLabel: string;
  /** Sends the input; a thrown problem is shown on the form, field errors beside their fields. */
  onSubmit: (input: PatientInput) => Promise<void>;
  onCancel: () => void;
}

const CONTACT_CHOICES = CONTACT_TYPES.map((value) => ({
  value,
  label: value === 'phone' ? 'Phone' : 'Email',
}));

/** Demographics, an optional address and up to ten contact methods (create and edit). */
export function PatientForm({ initial, submitLabel, onSubmit, onCancel }: PatientFormProps) {
  const [draft, setDraft] = useState<PatientDraft>(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submission = useSubmission();
  const serverErrors = fieldErrorsOf(submission.error);
  const errorOf = (key: string) => errors[key] ?? serverFieldError(serverErrors, key);
  const set =
    <K extends keyof PatientDraft>(key: K) =>
    (value: PatientDraft[K]) =>
      setDraft((d) => ({ ...d, [key]: value }));
  const setContact = (index: number, change: Partial<ContactDraft>) =>
    setDraft((d) => ({
      ...d,
      contacts: d.contacts.map((c, i) => (i === index ? { ...c, ...change } : c)),
    }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const problems = checkDraft(draft);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return submission.invalid();
    void submission.run(() => onSubmit(inputOf(draft)));
  };

  return (
    <form ref={submission.formRef} onSubmit={submit} noValidate className="stack">
      <div className="form-grid">
        <Field
          label="MRN"
          autoComplete="off"
          required
          maxLength={32}
          value={draft.mrn}
          onValueChange={set('mrn')}
          error={errorOf('mrn')}
        />
        <Field
          label="Given name"
          autoComplete="off"
          required
          maxLength={100}
          value={draft.givenName}
          onValueChange={set('givenName')}
          error={errorOf('givenName')}
        />
        <Field
          label="Family name"
          autoComplete="off"
          required
          maxLength={100}
          value={draft.familyName}
          onValueChange={set('familyName')}
          error={errorOf('familyName')}
        />
        <Field
          label="Birth date"
          type="date"
          required
          min="1900-01-01"
          max={todayIso()}
          value={draft.birthDate}
          onValueChange={set('birthDate')}
          error={errorOf('birthDate')}
        />
        <SelectField
          label="Sex"
          value={draft.sex}
          choices={SEX_CHOICES}
          onValueChange={set('sex')}
          error={errorOf('sex')}
        />
      </div>
      <fieldset className="stack">
        <legend>Address</legend>
        <CheckboxField
          label="Record an address"
          checked={draft.hasAddress}
          onCheckedChange={set('hasAddress')}
        />
        {draft.hasAddress && (
          <div className="form-grid">
            <Field
              label="Address line 1"
              autoComplete="off"
              maxLength={200}
              value={draft.line1}
              onValueChange={set('line1')}
              error={errorOf('address.line1')}
            />
            <Field
              label="Address line 2 (optional)"
              autoComplete="off"
              maxLength={200}
              value={draft.line2}
              onValueChange={set('line2')}
              error={errorOf('address.line2')}
            />
            <Field
              label="City"
              autoComplete="off"
              maxLength={100}
              value={draft.city}
              onValueChange={set('city')}
              error={errorOf('address.city')}
            />
            <Field
              label="Region (optional)"
              autoComplete="off"
              maxLength={100}
              value={draft.region}
              onValueChange={set('region')}
              error={errorOf('address.region')}
            />
            <Field
              label="Postal code"
              autoComplete="off"
              maxLength={20}
              value={draft.postalCode}
              onValueChange={set('postalCode')}
              error={errorOf('address.postalCode')}
            />
            <Field
              label="Country code"
              autoComplete="off"
              maxLength={2}
              value={draft.country}
              onValueChange={(v) => set('country')(v.toUpperCase())}
              error={errorOf('address.country')}
              hint="Two letters, e.g. US or GB."
            />
          </div>
        )}
      </fieldset>
      <fieldset className="stack">
        <legend>Contact methods</legend>
        {draft.contacts.length === 0 && <p className="note">No contact methods.</p>}
        {draft.contacts.map((contact, index) => (
          <div key={contact.key} className="contact-row">
            <SelectField
              label={`Contact ${index + 1} type`}
              value={contact.type}
              choices={CONTACT_CHOICES}
              onValueChange={(type) => setContact(index, { type })}
            />
            <Field
              label={`Contact ${index + 1} ${contact.type === 'phone' ? 'phone number' : 'email'}`}
              type={contact.type === 'phone' ? 'tel' : 'email'}
              autoComplete="off"
              maxLength={254}
              value={contact.value}
              onValueChange={(value) => setContact(index, { value })}
              error={errorOf(`contactMethods.${index}.value`)}
            />
            <CheckboxField
              label="Verified"
              checked={contact.verified}
              onCheckedChange={(verified) => setContact(index, { verified })}
            />
            <button
              type="button"
              className="button secondary"
              aria-label={`Remove contact ${index + 1}`}
              onClick={() =>
                setDraft((d) => ({ ...d, contacts: d.contacts.filter((_, i) => i !== index) }))
              }
            >
              Remove
            </button>
          </div>
        ))}
        {draft.contacts.length < MAX_CONTACTS && (
          <button
            type="button"
            className="button secondary"
            onClick={() =>
              setDraft((d) => ({
                ...d,
                contacts: [
                  ...d.contacts,
                  { key: newContactKey(), type: 'phone', value: '', verified: false },
                ],
              }))
            }
          >
            Add a contact method
          </button>
        )}
      </fieldset>
      <ProblemAlert error={submission.error} />
      <div className="actions">
        <SubmitButton busy={submission.busy}>{submitLabel}</SubmitButton>
        <button type="button" className="button secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
