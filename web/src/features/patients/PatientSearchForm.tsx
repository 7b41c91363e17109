import { CheckboxField, Field } from '../../shared/fields';
import { SearchForm } from '../../shared/forms';
import { MRN_PATTERN } from '../../shared/patterns';
import { useForm } from '../../shared/submission';
import type { PatientSearch } from './patientsApi';

/** Fewer characters than this must be a whole MRN (server: MRN_PREFIX_MIN in search-rule.ts). */
const MRN_PREFIX_MIN = 3;

/**
 * Name words, MRN or its start, exact birth date, archived or not: every given filter must match.
 * The hints state the server's rule (server/src/modules/patients/records/search-rule.ts).
 */
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
        label="Name"
        hint="Any part of the given or family name; with several words, each must match. Capitals and accents do not matter."
        type="search"
        autoComplete="off"
        maxLength={100}
        {...form.bind('name')}
      />
      <Field
        label="MRN"
        hint={`The whole MRN, or its first ${MRN_PREFIX_MIN} or more characters.`}
        autoComplete="off"
        maxLength={32}
        {...form.bind('mrn')}
      />
      <Field label="Birth date" type="date" min="1900-01-01" {...form.bind('birthDate')} />
      <CheckboxField label="Include archived" {...form.bindCheckbox('includeArchived')} />
    </SearchForm>
  );
}
