import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert } from '../../shared/forms';
import { decodeChainStatus, type ChainStatus } from './auditApi';

/** Re-computes every hash of the audit chain on the server and shows the verdict. */
export function ChainVerification() {
  const [status, setStatus] = useState<ChainStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const verify = async () => {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      setStatus(
        await sessionStore.api('POST', '/api/admin/audit-log/verify', decodeChainStatus, {}),
      );
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
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
      <ProblemAlert error={error} />
      <button
        type="button"
        className="button start"
        disabled={busy}
        aria-busy={busy}
        onClick={() => void verify()}
      >
        Verify chain
      </button>
    </section>
  );
}
