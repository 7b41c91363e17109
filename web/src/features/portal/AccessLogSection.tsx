import { useCallback, useEffect, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDate, formatTime } from '../../shared/dates';
import { CheckboxField } from '../../shared/fields';
import { ActionButton, ProblemAlert } from '../../shared/forms';
import {
  accessLogPath,
  decodeAccessPage,
  describeAction,
  groupByDayAndPerson,
  type AccessEntry,
} from './portalApi';

const ACTOR_LABELS: Record<AccessEntry['actor']['kind'], string> = {
  you: 'You',
  staff: 'Care team',
  break_glass: 'Emergency access',
  system: 'System',
};

/**
 * Who accessed my record: what others did, newest day first, one card per person and day with
 * what they did and when; older pages on demand.
 */
export function AccessLogSection() {
  const [entries, setEntries] = useState<AccessEntry[] | null>(null);
  const [nextBefore, setNextBefore] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [emergencyOnly, setEmergencyOnly] = useState(false);

  const load = useCallback(async (before: string | null, onlyEmergency: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const page = await sessionStore.api(
        'GET',
        accessLogPath(before, onlyEmergency),
        decodeAccessPage,
      );
      setEntries((current) => (before && current ? [...current, ...page.entries] : page.entries));
      setNextBefore(page.nextBefore);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }, []);

  useEffect(() => {
    void load(null, emergencyOnly);
  }, [load, emergencyOnly]);

  return (
    <section className="panel stack" aria-labelledby="access-title">
      <h2 id="access-title">Who accessed my record</h2>
      <CheckboxField
        label="Only emergency (break-glass) access"
        checked={emergencyOnly}
        disabled={busy}
        onCheckedChange={setEmergencyOnly}
      />
      {entries === null ? (
        !error && <p role="status">Loading the access list…</p>
      ) : entries.length === 0 ? (
        <p>
          {emergencyOnly
            ? 'Nobody has opened your record through emergency access.'
            : 'Nobody has accessed your record yet.'}
        </p>
      ) : (
        <div className="stack">
          {groupByDayAndPerson(entries).map((day) => (
            <section key={day.day} className="stack" aria-labelledby={`access-day-${day.day}`}>
              <h3 id={`access-day-${day.day}`}>{formatDate(day.day)}</h3>
              <ul className="cards" aria-label={`Accesses on ${formatDate(day.day)}`}>
                {day.people.map((person) => (
                  <li
                    key={person.key}
                    className={person.kind === 'break_glass' ? 'card card-alert' : 'card'}
                  >
                    <p className="card-title">
                      {person.displayName}
                      {person.displayName !== ACTOR_LABELS[person.kind] && (
                        <span className="badge badge-muted">{ACTOR_LABELS[person.kind]}</span>
                      )}
                    </p>
                    <ul className="plain-list">
                      {person.actions.map((action) => (
                        <li key={action.action}>
                          {describeAction(action.action)}{' '}
                          <span className="note">
                            {action.times.length === 1
                              ? `at ${formatTime(action.times[0]!)}`
                              : `${action.times.length} times, ${formatTime(action.times.at(-1)!)} to ${formatTime(action.times[0]!)}`}
                          </span>
                        </li>
                      ))}
                    </ul>
                    {person.reasons.length > 0 && (
                      <dl className="facts">
                        <dt>Reason given</dt>
                        {person.reasons.map((reason) => (
                          <dd key={reason}>{reason}</dd>
                        ))}
                      </dl>
                    )}
                  </li>
                ))}
              </ul>
            </section>
          ))}
        </div>
      )}
      <ProblemAlert error={error} />
      {nextBefore && (
        <ActionButton
          busy={busy}
          onClick={() => void load(nextBefore, emergencyOnly)}
          className="button secondary"
        >
          Show older entries
        </ActionButton>
      )}
    </section>
  );
}
