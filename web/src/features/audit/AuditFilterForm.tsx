import { useState, type FormEvent } from 'react';
import { Field } from '../../shared/forms';
import { SelectField } from '../../shared/fields';
import { OUTCOMES, type AuditFilters, type Outcome } from './auditApi';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const OUTCOME_CHOICES = [
  { value: '', label: 'Any outcome' },
  ...OUTCOMES.map((value) => ({ value, label: value.charAt(0).toUpperCase() + value.slice(1) })),
] as const;

interface Problems {
  actorId?: string;
  to?: string;
}

/** Filters; times are entered in the browser's time zone and sent as UTC instants. */
export function AuditFilterForm({ onSearch }: { onSearch: (filters: AuditFilters) => void }) {
  const [actorId, setActorId] = useState('');
  const [targetType, setTargetType] = useState('');
  const [targetId, setTargetId] = useState('');
  const [action, setAction] = useState('');
  const [outcome, setOutcome] = useState<Outcome | ''>('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [problems, setProblems] = useState<Problems>({});

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {};
    if (actorId.trim() && !UUID.test(actorId.trim())) found.actorId = 'An actor id is a UUID.';
    const fromIso = toInstant(from);
    const toIso = toInstant(to);
    if (fromIso && toIso && fromIso > toIso) found.to = '"To" must be after "From".';
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    const filters: AuditFilters = {};
    if (actorId.trim()) filters.actorId = actorId.trim().toLowerCase();
    if (targetType.trim()) filters.targetType = targetType.trim();
    if (targetId.trim()) filters.targetId = targetId.trim();
    if (action.trim()) filters.action = action.trim();
    if (outcome) filters.outcome = outcome;
    if (fromIso) filters.from = fromIso;
    if (toIso) filters.to = toIso;
    onSearch(filters);
  };

  return (
    <form onSubmit={submit} className="search" role="search" aria-label="Audit events" noValidate>
      <Field
        label="Actor id"
        autoComplete="off"
        maxLength={36}
        value={actorId}
        onValueChange={setActorId}
        error={problems.actorId}
      />
      <Field
        label="Target type"
        autoComplete="off"
        maxLength={64}
        value={targetType}
        onValueChange={setTargetType}
        hint="e.g. patient, user, organization"
      />
      <Field
        label="Target id"
        autoComplete="off"
        maxLength={128}
        value={targetId}
        onValueChange={setTargetId}
      />
      <Field
        label="Action"
        autoComplete="off"
        maxLength={100}
        value={action}
        onValueChange={setAction}
        hint="Exact, or a prefix ending in a dot: patient."
      />
      <SelectField
        label="Outcome"
        value={outcome}
        choices={OUTCOME_CHOICES}
        onValueChange={setOutcome}
      />
      <Field label="From" type="datetime-local" value={from} onValueChange={setFrom} />
      <Field
        label="To"
        type="datetime-local"
        value={to}
        onValueChange={setTo}
        error={problems.to}
      />
      <button type="submit" className="button">
        Search
      </button>
    </form>
  );
}

function toInstant(local: string): string | null {
  if (!local) return null;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
