import { CheckboxField, Field } from '../../shared/fields';
import { SearchForm } from '../../shared/forms';
import { MRN_PATTERN } from '../../shared/patterns';
import { useForm } from '../../shared/submission';
import type { PatientSearch } from './patientsApi';

/** Name prefix, exact MRN, exact birth date, archived or not: every given filter must match. */
export function PatientSearchForm({ onSearch }: { onSearch: (search: PatientSearch) => void }) {
  const form = useForm({ name: '', mrn: '', birthDate: '', includeArchived: false });

  const search = () => {
    const { birthDate, includeArchived } = form.values;
    const name = form.values.name.trim();
    const mrn = form.values.mrn.trim();
    const mrnProblem =
      mrn && !MRN_PATTERN.test(mrn)
        ? 'An MRN has letters, digits and dashes only (up to 32).'
        : undefined;
    if (!form.validate({ mrn: mrnProblem })) return;
    onSearch({
      ...(name ? { name } : {}),
      ...(mrn ? { mrn } : {}),
      ...(birthDate ? { birthDate } : {}),
      ...(includeArchived ? { includeArchived: true } : {}),
    });
  };

  return (
    <SearchForm label="Patients" onSearch={search}>
      <Field
        label="Name starts with"
        type="search"
        autoComplete="off"
        maxLength={100}
        {...form.bind('name')}
      />
      <Field label="MRN" autoComplete="off" maxLength={32} {...form.bind('mrn')} />
      <Field label="Birth date" type="date" min="1900-01-01" {...form.bind('birthDate')} />
      <CheckboxField label="Include archived" {...form.bindCheckbox('includeArchived')} />
    </SearchForm>
  );
}
