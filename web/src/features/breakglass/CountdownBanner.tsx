import { useEffect, useState } from 'react';
import { formatDateTime } from '../../shared/dates';
import { grantPatientName, type Grant } from './breakGlassApi';

interface Props {
  grant: Grant;
  onExpired: () => void;
  onLeave: () => void;
}

/**
 * The always-visible break-glass banner. The seconds tick in a timer (not announced); a
 * status line announces the minutes left, so screen readers hear it once a minute, not every
 * second. A browser clock ahead of the server's never shows more time than the grant lasts.
 */
export function CountdownBanner({ grant, onExpired, onLeave }: Props) {
  const [deadline] = useState(() => {
    const expiresAt = Date.parse(grant.expiresAt);
    const lasts = expiresAt - Date.parse(grant.createdAt);
    return Math.min(expiresAt, Date.now() + lasts);
  });
  const [now, setNow] = useState(() => Date.now());
  const remainingMs = Math.max(0, deadline - now);

  useEffect(() => {
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(tick);
  }, []);

  useEffect(() => {
    if (remainingMs === 0) onExpired();
  }, [remainingMs, onExpired]);

  const seconds = Math.ceil(remainingMs / 1000);
  const minutesLeft = Math.ceil(seconds / 60);
  const clock = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  const announcement =
    seconds === 0
      ? 'Break-glass access has expired.'
      : `Break-glass access ends in ${minutesLeft === 1 ? 'less than a minute' : `${minutesLeft} minutes`}.`;

  return (
    <section
      className="breakglass-banner"
      aria-labelledby="bg-banner-title"
      data-testid="break-glass-banner"
    >
      <h2 id="bg-banner-title">Emergency access · read-only</h2>
      <p role="status" aria-live="polite" aria-atomic="true">
        {announcement}
      </p>
      <p className="countdown">
        Time left:{' '}
        <span role="timer" aria-live="off">
          {clock}
        </span>
      </p>
      <p>
        Patient: {grantPatientName(grant)}, MRN {grant.patientMrn}, {grant.organizationName}
      </p>
      <p>Reason: {grant.reason}</p>
      <p>
        Granted {formatDateTime(grant.createdAt)}, until {formatDateTime(grant.expiresAt)}. Every
        view is recorded and shown to the patient.
      </p>
      <button type="button" className="button secondary" onClick={onLeave}>
        Leave the record
      </button>
    </section>
  );
}
