import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/decoding';
import { ActionOutcome, ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import {
  decodeRevoked,
  decodeSessions,
  sessionsSignedOut,
  type SessionSummary,
} from './accountApi';
import { SessionList } from './SessionList';

/** A7: the user's sessions, with "sign out" for one or for all the others. */
export function SessionsSection() {
  const sessions = useResource('sessions', () =>
    sessionStore.api('GET', '/api/account/sessions', decodeSessions),
  );
  const action = useAction(sessions.reload);

  const revokeOne = (session: SessionSummary) =>
    void action.act(async () => {
      await sessionStore.api(
        'DELETE',
        `/api/account/sessions/${encodeURIComponent(session.id)}`,
        ignoreBody,
      );
      return 'The session was signed out.';
    }, session.id);

  const revokeOthers = () =>
    void action.act(async () => {
      const revoked = await sessionStore.api('DELETE', '/api/account/sessions', decodeRevoked);
      return sessionsSignedOut(revoked, 'other');
    }, 'others');

  return (
    <section className="panel stack" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <ActionOutcome action={action} />
      <ProblemAlert error={sessions.error} />
      {sessions.data === null ? (
        !sessions.error && <p role="status">Loading sessions…</p>
      ) : (
        <SessionList sessions={sessions.data} onRevoke={revokeOne} busyId={action.busyKey} />
      )}
      {sessions.data?.some((s) => !s.current) && (
        <button
          type="button"
          className="button secondary"
          disabled={action.busyKey === 'others'}
          onClick={revokeOthers}
        >
          Sign out all other sessions
        </button>
      )}
    </section>
  );
}
