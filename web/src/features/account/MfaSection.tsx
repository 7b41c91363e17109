import { useCallback, useEffect, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/api';
import { ProblemAlert, SuccessNote } from '../../shared/forms';
import { MfaEnrollment } from '../mfa/MfaEnrollment';
import { decodeRecoveryCodes } from '../mfa/mfaApi';
import { RecoveryCodes } from '../mfa/RecoveryCodes';
import { decodeMfaStatus, type MfaStatus } from './accountApi';

type View = { kind: 'status' } | { kind: 'enrolling' } | { kind: 'codes'; codes: string[] };

/** A9: MFA status, enrolment (when optional), new recovery codes and turning MFA off (step-up). */
export function MfaSection() {
  const [status, setStatus] = useState<MfaStatus | null>(null);
  const [view, setView] = useState<View>({ kind: 'status' });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setStatus(await sessionStore.api('GET', '/api/account/mfa', decodeMfaStatus));
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const act = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const regenerate = () =>
    void act(async () => {
      const codes = await sessionStore.api(
        'POST',
        '/api/account/mfa/recovery-codes',
        decodeRecoveryCodes,
        {},
      );
      setView({ kind: 'codes', codes });
    });

  const turnOff = () =>
    void act(async () => {
      await sessionStore.api('DELETE', '/api/account/mfa', ignoreBody);
      setNote('Two-factor authentication is off.');
      await load();
    });

  const backToStatus = () => {
    setView({ kind: 'status' });
    void load();
  };

  return (
    <section className="panel stack" aria-labelledby="mfa-title">
      <h2 id="mfa-title">Two-factor authentication</h2>
      {view.kind === 'enrolling' && (
        <MfaEnrollment
          mode="signed-in"
          onConfirmed={({ recoveryCodes }) => setView({ kind: 'codes', codes: recoveryCodes })}
        />
      )}
      {view.kind === 'codes' && (
        <RecoveryCodes codes={view.codes} onDone={backToStatus} doneLabel="Done" />
      )}
      {view.kind === 'status' && status && (
        <>
          <p>
            {status.enrolled
              ? `On. ${status.recoveryCodesRemaining} recovery ${status.recoveryCodesRemaining === 1 ? 'code' : 'codes'} left.`
              : 'Off.'}{' '}
            {status.required && 'Your role requires it.'}
          </p>
          <div className="actions">
            {status.enrolled ? (
              <button type="button" className="button" disabled={busy} onClick={regenerate}>
                Generate new recovery codes
              </button>
            ) : (
              <button
                type="button"
                className="button"
                onClick={() => setView({ kind: 'enrolling' })}
              >
                Set up two-factor authentication
              </button>
            )}
            {status.enrolled && !status.required && (
              <button type="button" className="button secondary" disabled={busy} onClick={turnOff}>
                Turn off two-factor authentication
              </button>
            )}
          </div>
        </>
      )}
      {view.kind === 'status' && !status && !error && <p role="status">Loading…</p>}
      {note && <SuccessNote>{note}</SuccessNote>}
      <ProblemAlert error={error} />
    </section>
  );
}
