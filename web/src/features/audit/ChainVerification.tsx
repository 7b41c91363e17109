import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ActionButton, ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { decodeChainStatus, type ChainStatus } from './auditApi';

/** Re-computes every hash of the audit chain on the server and shows the verdict. */
export function ChainVerification() {
  const [status, setStatus] = useState<ChainStatus | null>(null);
  const verification = useAction();

  const verify = () => {
    setStatus(null);
    void verification.act(async () => {
      setStatus(
        await sessionStore.api('POST', '/api/admin/audit-log/verify', decodeChainStatus, {}),
      );
    });
  };

  return (
    <section className="panel stack" aria-labelledby="chain-title">
      <h2 id="chain-title">Chain integrity</h2>
      <p className="note">
        Every event is hashed together with the one before it. Verifying re-computes the whole chain
        on the server and shows the first event that was changed or removed, if any.
      </p>
      <div aria-live="polite">
        {status &&
          (status.ok ? (
            <p className="gate gate-ok" data-testid="chain-status">
              The chain is intact: {status.checked} events checked.
              {status.lastHash && (
                <>
                  {' '}
                  Last hash <code className="mono">{status.lastHash}</code>.
                </>
              )}
            </p>
          ) : (
            <div className="gate gate-missing" data-testid="chain-status">
              <p>
                The chain is broken
                {status.firstBadSeq && <> at event #{status.firstBadSeq}</>}
                {status.problem && <> ({status.problem})</>}. {status.checked} events checked.
              </p>
              {status.message && <p>{status.message}</p>}
            </div>
          ))}
      </div>
      <ProblemAlert error={verification.error} />
      <ActionButton busy={verification.busy} onClick={verify} className="button start">
        Verify chain
      </ActionButton>
    </section>
  );
}
