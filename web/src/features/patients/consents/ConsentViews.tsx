import { ConfirmAction } from '../../../shared/ConfirmAction';
import { formatDateTime } from '../../../shared/dates';
import { channelLabel, kindLabel, type ConsentGate, type ConsentRecord } from './consentsApi';

/** Whether every required current document has a live consent, and which are missing. */
export function ConsentGateStatus({
  gate,
  audience = 'staff',
}: {
  gate: ConsentGate;
  /** The patient reads it in the portal: no staff jargon. */
  audience?: 'staff' | 'patient';
}) {
  if (gate.satisfied) {
    return (
      <p className="gate gate-ok" data-testid="consent-gate">
        {audience === 'patient'
          ? 'You have given every consent your care team requires.'
          : 'All required consents are in place.'}
      </p>
    );
  }
  return (
    <div className="gate gate-missing" data-testid="consent-gate">
      <p>
        {audience === 'patient'
          ? 'Your care team needs your consent to:'
          : 'Required consents are missing:'}
      </p>
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
            <ConfirmAction
              label="Withdraw"
              ariaLabel={`Withdraw consent to ${c.title}, version ${c.version}`}
              consequence={`Record that the patient withdrew consent to ${c.title}? The consent stays in the history as withdrawn; a new consent must be recorded to restore it.`}
              confirmLabel="Yes, withdraw"
              busy={busyId === c.id}
              onConfirm={() => onWithdraw(c.id)}
            />
          )}
        </li>
      ))}
    </ul>
  );
}
