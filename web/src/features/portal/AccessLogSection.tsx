import { useCallback, useEffect, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { CheckboxField } from '../../shared/fields';
import { ActionButton, ProblemAlert } from '../../shared/forms';
import { accessLogPath, decodeAccessPage, describeAction, type AccessEntry } from './portalApi';

const ACTOR_LABELS: Record<AccessEntry['actor']['kind'], string> = {
  you: 'You',
  staff: 'Care team',
  break_glass: 'Emergency access',
  system: 'System',
};

/** Who accessed my record: every audited access, newest first, older pages on demand. */
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
        <ul className="cards" aria-label="Accesses">
          {entries.map((e, i) => (
            <li key={i} className={e.actor.kind === 'break_glass' ? 'card card-alert' : 'card'}>
              <p className="card-title">
                {e.actor.displayName} · {describeAction(e.action)}
              </p>
              <dl className="facts">
                <dt>When</dt>
                <dd>{formatDateTime(e.at)}</dd>
                <dt>Who</dt>
                <dd>{ACTOR_LABELS[e.actor.kind]}</dd>
                {e.reason !== null && (
                  <>
                    <dt>Reason given</dt>
                    <dd>{e.reason}</dd>
                  </>
                )}
              </dl>
            </li>
          ))}
        </ul>
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
