import { instantFromLocalInput } from '../../shared/dates';
import { Field, SelectField } from '../../shared/fields';
import { SearchForm } from '../../shared/forms';
import { UUID_PATTERN } from '../../shared/patterns';
import { useForm } from '../../shared/submission';
import { OUTCOMES, type AuditFilters } from './auditApi';

const OUTCOME_CHOICES = [
  { value: '', label: 'Any outcome' },
  ...OUTCOMES.map((value) => ({ value, label: value.charAt(0).toUpperCase() + value.slice(1) })),
];

/** The free-text filters: the API name of each, its label, its longest value and a hint. */
const TEXT_FILTERS = [
  { key: 'actorId', label: 'Actor id', max: 36 },
  { key: 'targetType', label: 'Target type', max: 64, hint: 'e.g. patient, user, organization' },
  { key: 'targetId', label: 'Target id', max: 128 },
  {
    key: 'action',
    label: 'Action',
    max: 100,
    hint: 'Exact, or a prefix ending in a dot: patient.',
  },
] as const;

/** Filters; times are entered in the browser's time zone and sent as UTC instants. */
export function AuditFilterForm({ onSearch }: { onSearch: (filters: AuditFilters) => void }) {
  const form = useForm({
    actorId: '',
    targetType: '',
    targetId: '',
    action: '',
    outcome: '',
    from: '',
    to: '',
  });

  const search = () => {
    const { values } = form;
    const actorId = values.actorId.trim().toLowerCase();
    const from = instantFromLocalInput(values.from);
    const to = instantFromLocalInput(values.to);
    const problems = {
      actorId: actorId && !UUID_PATTERN.test(actorId) ? 'An actor id is a UUID.' : undefined,
      to: from && to && from > to ? '"To" must be after "From".' : undefined,
    };
    if (!form.validate(problems)) return;
    // Empty filters are left out of the query (see auditSearchPath).
    onSearch({
      actorId,
      targetType: values.targetType.trim(),
      targetId: values.targetId.trim(),
      action: values.action.trim(),
      outcome: OUTCOMES.find((o) => o === values.outcome),
      from: from ?? undefined,
      to: to ?? undefined,
    });
  };

  return (
    <SearchForm label="Audit events" onSearch={search}>
      {TEXT_FILTERS.map(({ key, label, max, ...rest }) => (
        <Field
          key={key}
          label={label}
          autoComplete="off"
          maxLength={max}
          hint={'hint' in rest ? rest.hint : undefined}
          {...form.bind(key)}
        />
      ))}
      <SelectField label="Outcome" choices={OUTCOME_CHOICES} {...form.bind('outcome')} />
      <Field label="From" type="datetime-local" {...form.bind('from')} />
      <Field label="To" type="datetime-local" {...form.bind('to')} />
    </SearchForm>
  );
}
