import { formatDateTime } from '../../shared/dates';
import { deviceName } from '../../shared/devices';
import type { SessionSummary } from './accountApi';

interface SessionListProps {
  sessions: SessionSummary[];
  /** When given, every session but the current one gets a "Sign out" button. */
  onRevoke?: (session: SessionSummary) => void;
  busyId?: string | null;
}

/** Sessions as a list of cards (fits 320 px). Everything from the server is rendered as text. */
export function SessionList({ sessions, onRevoke, busyId = null }: SessionListProps) {
  if (sessions.length === 0) return <p>No active sessions.</p>;
  return (
    <ul className="cards">
      {sessions.map((session) => (
        <li key={session.id} className="card">
          <p className="card-title">
            {deviceName(session.userAgent)}
            {session.current && <span className="badge">This session</span>}
          </p>
          <dl className="facts">
            <dt>Signed in</dt>
            <dd>{formatDateTime(session.createdAt)}</dd>
            <dt>Last active</dt>
            <dd>{formatDateTime(session.lastSeenAt)}</dd>
            <dt>Address</dt>
            <dd>{session.clientAddress ?? 'unknown'}</dd>
          </dl>
          {onRevoke && !session.current && (
            <button
              type="button"
              className="button secondary"
              disabled={busyId === session.id}
              onClick={() => onRevoke(session)}
              // Begins with the button's own words (WCAG 2.5.3, label in name).
              aria-label={`Sign out this session: ${deviceName(session.userAgent)}, signed in ${formatDateTime(session.createdAt)}`}
            >
              Sign out this session
            </button>
          )}
        </li>
      ))}
    </ul>
  );
}
