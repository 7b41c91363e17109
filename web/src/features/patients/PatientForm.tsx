import { addressPartOrder, type AddressPart } from '../../shared/address';
import { countryChoices } from '../../shared/countries';
import { localDay } from '../../shared/dates';
import { phoneExample } from '../../shared/phone';
import { dropDraft, useKeptState } from '../../shared/drafts';
import { CheckboxField, Field, SelectField } from '../../shared/fields';
import { FormFooter, SubmissionForm } from '../../shared/forms';
import { useSubmission } from '../../shared/submission';
import {
  MAX_CONTACTS,
  checkDraft,
  inputOf,
  newContactKey,
  type ContactDraft,
  type PatientDraft,
} from './patientDraft';
import { CONTACT_TYPES, SEX_CHOICES, type PatientInput } from './patientsApi';

interface PatientFormProps {
  initial: PatientDraft;
  /** The organization's country: phone numbers are typed in its national form. */
  country: string;
  submitLabel: string;
  /** Sends the input; a thrown problem is shown on the form, field errors beside their fields. */
  onSubmit: (input: PatientInput) => Promise<void>;
  onCancel: () => void;
  /** Names the unsaved form in the tab's draft memory (drafts.ts); Cancel and a save forget it. */
  keep?: string | null;
}

/** What a form that came back with never-saved values says above them. */
export const UNSAVED_FORM_NOTE =
  'Not saved yet: these are the details you had entered before you left the form.';

interface TextInput {
  key: 'mrn' | 'givenName' | 'familyName' | 'line1' | 'line2' | 'city' | 'region' | 'postalCode';
  label: string;
  max: number;
}

/** The plain text inputs, in order (the server names their errors by the same keys). */
const NAME_FIELDS: readonly TextInput[] = [
  { key: 'mrn', label: 'MRN', max: 32 },
  { key: 'givenName', label: 'Given name', max: 100 },
  { key: 'familyName', label: 'Family name', max: 100 },
];
/** The address inputs of each part; the form shows the parts in the country's own order. */
const ADDRESS_FIELDS: Record<AddressPart, readonly TextInput[]> = {
  lines: [
    { key: 'line1', label: 'Address line 1', max: 200 },
    { key: 'line2', label: 'Address line 2 (optional)', max: 200 },
  ],
  city: [{ key: 'city', label: 'City', max: 100 }],
  region: [{ key: 'region', label: 'Region (optional)', max: 100 }],
  postalCode: [{ key: 'postalCode', label: 'Postal code', max: 20 }],
};

const CONTACT_CHOICES = CONTACT_TYPES.map((value) => ({
  value,
  label: value === 'phone' ? 'Phone' : 'Email',
}));

/** Demographics, an optional address and up to ten contact methods (create and edit). */
export function PatientForm({
  initial,
  country,
  submitLabel,
  onSubmit,
  onCancel,
  keep = null,
}: PatientFormProps) {
  const [draft, setDraft, restored] = useKeptState<PatientDraft>(keep, initial);
  const submission = useSubmission();
  const set =
    <K extends keyof PatientDraft>(key: K) =>
    (value: PatientDraft[K]) =>
      setDraft((d) => ({ ...d, [key]: value }));
  const setContacts = (change: (contacts: ContactDraft[]) => ContactDraft[]) =>
    setDraft((d) => ({ ...d, contacts: change(d.contacts) }));
  const setContact = (index: number, change: Partial<ContactDraft>) =>
    setContacts((contacts) => contacts.map((c, i) => (i === index ? { ...c, ...change } : c)));

  const submit = () => {
    if (!submission.validate(checkDraft(draft, country))) return;
    void submission.run(async () => {
      await onSubmit(inputOf(draft, country));
      if (keep) dropDraft(keep);
    });
  };

  return (
    <SubmissionForm submission={submission} onSubmit={submit}>
      {restored && <p className="note">{UNSAVED_FORM_NOTE}</p>}
      <div className="form-grid">
        {NAME_FIELDS.map(({ key, label, max }) => (
          <Field
            key={key}
            label={label}
            autoComplete="off"
            required
            maxLength={max}
            value={draft[key]}
            onValueChange={set(key)}
            error={submission.fieldError(key)}
          />
        ))}
        <Field
          label="Birth date"
          type="date"
          required
          min="1900-01-01"
          max={localDay()}
          value={draft.birthDate}
          onValueChange={set('birthDate')}
          error={submission.fieldError('birthDate')}
        />
        <SelectField
          label="Sex"
          value={draft.sex}
          choices={SEX_CHOICES}
          onValueChange={set('sex')}
          error={submission.fieldError('sex')}
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
            {/* The country first: it decides the order of the parts after it. */}
            <SelectField
              label="Country"
              value={draft.country}
              choices={countryChoices(draft.country)}
              onValueChange={set('country')}
              error={submission.fieldError('address.country')}
            />
            {addressPartOrder(draft.country)
              .flatMap((part) => ADDRESS_FIELDS[part])
              .map(({ key, label, max }) => (
                <Field
                  key={key}
                  label={label}
                  autoComplete="off"
                  maxLength={max}
                  value={draft[key]}
                  onValueChange={set(key)}
                  error={submission.fieldError(`address.${key}`)}
                />
              ))}
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
              hint={
                contact.type === 'phone'
                  ? `As you would dial it here, e.g. ${phoneExample(country)}; abroad, start with +.`
                  : undefined
              }
              value={contact.value}
              onValueChange={(value) => setContact(index, { value })}
              error={submission.fieldError(`contactMethods.${index}.value`)}
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
              onClick={() => setContacts((contacts) => contacts.filter((_, i) => i !== index))}
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
              setContacts((contacts) => [
                ...contacts,
                { key: newContactKey(), type: 'phone', value: '', verified: false },
              ])
            }
          >
            Add a contact method
          </button>
        )}
      </fieldset>
      <FormFooter
        submission={submission}
        onCancel={() => {
          if (keep) dropDraft(keep);
          onCancel();
        }}
      >
        {submitLabel}
      </FormFooter>
    </SubmissionForm>
  );
}
