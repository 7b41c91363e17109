import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/decoding';
import { ActionOutcome, ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import { MfaEnrollment, RecoveryCodes, decodeRecoveryCodes } from '../mfa';
import { decodeMfaStatus } from './accountApi';

type View = { kind: 'status' } | { kind: 'enrolling' } | { kind: 'codes'; codes: string[] };

/** A9: MFA status, enrolment (when optional), new recovery codes and turning MFA off (step-up). */
export function MfaSection() {
  const mfa = useResource('mfa', () =>
    sessionStore.api('GET', '/api/account/mfa', decodeMfaStatus),
  );
  const [view, setView] = useState<View>({ kind: 'status' });
  const action = useAction();
  const status = mfa.data;

  const regenerate = () =>
    void action.act(async () => {
      const codes = await sessionStore.api(
        'POST',
        '/api/account/mfa/recovery-codes',
        decodeRecoveryCodes,
        {},
      );
      setView({ kind: 'codes', codes });
    });

  const turnOff = () =>
    void action.act(async () => {
      await sessionStore.api('DELETE', '/api/account/mfa', ignoreBody);
      mfa.reload();
      return 'Two-factor authentication is off.';
    });

  const backToStatus = () => {
    setView({ kind: 'status' });
    mfa.reload();
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
              <button type="button" className="button" disabled={action.busy} onClick={regenerate}>
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
              <button
                type="button"
                className="button secondary"
                disabled={action.busy}
                onClick={turnOff}
              >
                Turn off two-factor authentication
              </button>
            )}
          </div>
        </>
      )}
      {view.kind === 'status' && !status && !mfa.error && <p role="status">Loading…</p>}
      <ActionOutcome action={action} />
      <ProblemAlert error={mfa.error} />
    </section>
  );
}
