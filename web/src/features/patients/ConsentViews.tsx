import { formatDateTime } from '../account/accountApi';
import { channelLabel, kindLabel, type ConsentGate, type ConsentRecord } from './consentsApi';

/** Whether every required current document has a live consent, and which are missing. */
export function ConsentGateStatus({ gate }: { gate: ConsentGate }) {
  if (gate.satisfied) {
    return (
      <p className="gate gate-ok" data-testid="consent-gate">
        Consent gate: satisfied — every required document has a live consent.
      </p>
    );
  }
  return (
    <div className="gate gate-missing" data-testid="consent-gate">
      <p>Consent gate: not satisfied. Missing consents:</p>
      <ul>
        {gate.missing.map((m) => (
          <li key={m.documentId}>
            {m.title} ({kindLabel(m.kind)}, version {m.version})
          </li>
        ))}
      </ul>
    </div>
  );
}

interface ListProps {
  consents: ConsentRecord[];
  /** When given, live consents get a "Withdraw" button. */
  onWithdraw?: ((consentId: string) => void) | undefined;
  busyId?: string | null;
}

export function ConsentRecordList({ consents, onWithdraw, busyId = null }: ListProps) {
  if (consents.length === 0) return <p>No consents recorded.</p>;
  return (
    <ul className="cards" aria-label="Consent records">
      {consents.map((c) => (
        <li key={c.id} className="card">
          <p className="card-title">
            {c.title}
            {c.withdrawnAt === null ? (
              <span className="badge">Live</span>
            ) : (
              <span className="badge badge-muted">Withdrawn</span>
            )}
          </p>
          <dl className="facts">
            <dt>Kind</dt>
            <dd>
              {kindLabel(c.kind)}, version {c.version}
              {c.current ? ' (current)' : ' (superseded)'}
            </dd>
            <dt>Given</dt>
            <dd>
              {formatDateTime(c.givenAt)} · {channelLabel(c.channel)}
            </dd>
            {c.withdrawnAt && (
              <>
                <dt>Withdrawn</dt>
                <dd>{formatDateTime(c.withdrawnAt)}</dd>
              </>
            )}
          </dl>
          {onWithdraw && c.withdrawnAt === null && (
            <button
              type="button"
              className="button danger"
              disabled={busyId === c.id}
              aria-label={`Withdraw consent to ${c.title}, version ${c.version}`}
              onClick={() => onWithdraw(c.id)}
            >
              Withdraw
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
