import { useEffect, useState } from 'react';
import { ModalDialog } from '../shared/ModalDialog';
import { sessionStore } from './sessionStore';
import { useAuth } from './useAuth';

const WARN_BEFORE_MS = 2 * 60_000;

/** Warns ~2 minutes before the idle timeout; "Stay signed in" refreshes, expiry signs out (all tabs). */
export function IdleWarning() {
  const auth = useAuth();
  const idleExpiresAt = auth.status === 'signed_in' ? auth.session.idleExpiresAt : null;
  const [warning, setWarning] = useState(false);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    setWarning(false);
    if (idleExpiresAt === null) return;
    const remaining = idleExpiresAt - Date.now();
    // ~2 minutes ahead; with a very short idle timeout, half-way through it.
    const untilWarning = remaining - Math.min(WARN_BEFORE_MS, remaining / 2);
    const warnTimer = window.setTimeout(() => setWarning(true), Math.max(0, untilWarning));
    const expireTimer = window.setTimeout(
      () => void sessionStore.signOut('idle'),
      Math.max(0, idleExpiresAt - Date.now()),
    );
    return () => {
      window.clearTimeout(warnTimer);
      window.clearTimeout(expireTimer);
    };
  }, [idleExpiresAt]);

  useEffect(() => {
    if (!warning) return;
    setNow(Date.now());
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(tick);
  }, [warning]);

  const secondsLeft =
    idleExpiresAt === null ? 0 : Math.max(0, Math.round((idleExpiresAt - now) / 1000));
  const staySignedIn = () => {
    setWarning(false);
    sessionStore
      .refresh()
      .then((result) => {
        if (!result) sessionStore.endLocally('expired');
      })
      .catch(() => setWarning(true)); // the server could not be reached: keep warning
  };

  return (
    <ModalDialog
      open={warning}
      title="Are you still there?"
      onCancel={staySignedIn}
      role="alertdialog"
    >
      <p>
        For your security you will be signed out in {Math.floor(secondsLeft / 60)} min{' '}
        {secondsLeft % 60} s because of inactivity.
      </p>
      <div className="actions">
        <button type="button" className="button" onClick={staySignedIn}>
          Stay signed in
        </button>
        <button
          type="button"
          className="button secondary"
          onClick={() => void sessionStore.signOut()}
        >
          Sign out
        </button>
      </div>
    </ModalDialog>
  );
}
