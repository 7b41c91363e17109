import { useEffect, useId, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { instantFromLocalInput } from '../../shared/dates';
import { Field, SelectField } from '../../shared/fields';
import { SearchForm } from '../../shared/forms';
import { useForm } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import {
  ACTION_CATALOGUE_PATH,
  OUTCOMES,
  TARGET_KINDS,
  actorSearchPath,
  decodeActionCatalogue,
  decodeActorCandidates,
  type AuditFilters,
} from './auditApi';

const OUTCOME_CHOICES = [
  { value: '', label: 'Any outcome' },
  ...OUTCOMES.map((value) => ({ value, label: value.charAt(0).toUpperCase() + value.slice(1) })),
];

/** Target kinds in words, for the "About" filter; one target is picked from a result row. */
const TARGET_CHOICES = [
  { value: '', label: 'Anything' },
  ...Object.entries(TARGET_KINDS)
    .filter(([type]) => type !== 'account')
    .map(([value, label]) => ({ value, label }))
    .sort((a, b) => a.label.localeCompare(b.label)),
];

/** Shorter names find too many people to be useful; the list asks for two characters. */
const ACTOR_QUERY_MIN = 2;
/** Waits for a pause in typing before asking the server. */
const ACTOR_QUERY_DELAY_MS = 300;

function useDebounced(value: string, delayMs: number): string {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), delayMs);
    return () => window.clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/**
 * Filters. The action comes from a list of families and known actions (or is typed); the actor
 * is found by name or email and sent as its id; times are entered in the browser's time zone
 * and sent as UTC instants.
 */
export function AuditFilterForm({ onSearch }: { onSearch: (filters: AuditFilters) => void }) {
  const form = useForm({
    actorQuery: '',
    actorId: '',
    targetType: '',
    action: '',
    outcome: '',
    from: '',
    to: '',
  });
  const actionListId = useId();

  const catalogue = useResource(ACTION_CATALOGUE_PATH, () =>
    sessionStore.api('GET', ACTION_CATALOGUE_PATH, decodeActionCatalogue),
  );

  const actorQuery = useDebounced(form.values.actorQuery.trim(), ACTOR_QUERY_DELAY_MS);
  const actorPath = actorQuery.length >= ACTOR_QUERY_MIN ? actorSearchPath(actorQuery) : null;
  // useResource loads nothing while the key is null (fewer than two characters typed).
  const candidates = useResource(actorPath, () =>
    sessionStore.api('GET', actorPath ?? '', decodeActorCandidates),
  );
  const people = actorPath ? (candidates.data?.users ?? []) : [];
  const actorChoices = [
    {
      value: '',
      label:
        actorPath === null
          ? 'Anyone'
          : candidates.data === null
            ? 'Searching…'
            : `Anyone (${people.length} found)`,
    },
    ...people.map((user) => ({ value: user.id, label: `${user.displayName} <${user.email}>` })),
  ];
  // A picked person who left the list (the name was edited) is no longer the filter.
  const actorId = people.some((user) => user.id === form.values.actorId) ? form.values.actorId : '';

  const search = () => {
    const { values } = form;
    const from = instantFromLocalInput(values.from);
    const to = instantFromLocalInput(values.to);
    const problems = {
      to: from && to && from > to ? '"To" must be after "From".' : undefined,
    };
    if (!form.validate(problems)) return;
    // Empty filters are left out of the query (see auditSearchPath).
    onSearch({
      actorId,
      targetType: values.targetType,
      action: values.action.trim(),
      outcome: OUTCOMES.find((o) => o === values.outcome),
      from: from ?? undefined,
      to: to ?? undefined,
    });
  };

  return (
    <SearchForm label="Audit events" onSearch={search}>
      <Field
        label="Action"
        autoComplete="off"
        maxLength={100}
        list={actionListId}
        hint="Pick from the list: a family such as breakglass finds all its actions; auth. or patient.note* is a prefix."
        {...form.bind('action')}
      />
      <datalist id={actionListId}>
        {catalogue.data?.families.map((family) => (
          <option key={`family:${family}`} value={family} label={`All ${family} actions`} />
        ))}
        {catalogue.data?.actions.map((action) => (
          <option key={action} value={action} />
        ))}
      </datalist>
      <Field
        label="Actor"
        type="search"
        autoComplete="off"
        maxLength={254}
        hint="Type a name or email, then pick the person below."
        {...form.bind('actorQuery')}
      />
      <SelectField
        label="Matching actor"
        choices={actorChoices}
        disabled={people.length === 0}
        {...form.bind('actorId')}
        value={actorId}
      />
      <SelectField
        label="About"
        choices={TARGET_CHOICES}
        hint="A kind of record. For one patient, person or file, use “Events about this” on a result."
        {...form.bind('targetType')}
      />
      <SelectField label="Outcome" choices={OUTCOME_CHOICES} {...form.bind('outcome')} />
      <Field label="From" type="datetime-local" hint="Your local time" {...form.bind('from')} />
      <Field label="To" type="datetime-local" hint="Your local time" {...form.bind('to')} />
    </SearchForm>
  );
}
