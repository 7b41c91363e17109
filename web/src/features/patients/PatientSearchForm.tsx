import { useState, type FormEvent } from 'react';
import { Field } from '../../shared/forms';
import { CheckboxField } from '../../shared/fields';
import type { PatientSearch } from './patientsApi';

const MRN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/;

/** Name prefix, exact MRN, exact birth date, archived or not: every given filter must match. */
export function PatientSearchForm({ onSearch }: { onSearch: (search: PatientSearch) => void }) {
  const [name, setName] = useState('');
  const [mrn, setMrn] = useState('');
  const [birthDate, setBirthDate] = useState('');
  const [includeArchived, setIncludeArchived] = useState(false);
  const [mrnError, setMrnError] = useState<string | undefined>();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmedMrn = mrn.trim();
    if (trimmedMrn && !MRN_PATTERN.test(trimmedMrn)) {
      setMrnError('An MRN has letters, digits and dashes only (up to 32).');
      return;
    }
    setMrnError(undefined);
    onSearch({
      ...(name.trim() ? { name: name.trim() } : {}),
      ...(trimmedMrn ? { mrn: trimmedMrn } : {}),
      ...(birthDate ? { birthDate } : {}),
      ...(includeArchived ? { includeArchived: true } : {}),
    });
  };

  return (
    <form onSubmit={submit} className="search" role="search" aria-label="Patients" noValidate>
      <Field
        label="Name starts with"
        type="search"
        autoComplete="off"
        maxLength={100}
        value={name}
        onValueChange={setName}
      />
      <Field
        label="MRN"
        autoComplete="off"
        maxLength={32}
        value={mrn}
        onValueChange={setMrn}
        error={mrnError}
      />
      <Field
        label="Birth date"
        type="date"
        min="1900-01-01"
        value={birthDate}
        onValueChange={setBirthDate}
      />
      <CheckboxField
        label="Include archived"
        checked={includeArchived}
        onCheckedChange={setIncludeArchived}
      />
      <button type="submit" className="button">
        Search
      </button>
    </form>
  );
}
