import { sessionStore } from '../../auth/sessionStore';
import { ActionOutcome, ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import { SessionList, sessionsSignedOut } from '../account';
import { decodeAdminRevoked, decodeUserSessions, userPath } from './adminApi';

/** A user's sessions, for an administrator, with "sign out everywhere". */
export function UserSessions({ userId }: { userId: string }) {
  const sessions = useResource(userId, () =>
    sessionStore.api('GET', userPath(userId, 'sessions'), decodeUserSessions),
  );
  const action = useAction(sessions.reload);

  const revokeAll = () =>
    void action.act(async () => {
      const revoked = await sessionStore.api(
        'DELETE',
        userPath(userId, 'sessions'),
        decodeAdminRevoked,
      );
      return sessionsSignedOut(revoked);
    });

  return (
    <div className="stack">
      <h3>Sessions</h3>
      {sessions.data === null ? (
        !sessions.error && <p role="status">Loading sessions…</p>
      ) : (
        <SessionList sessions={sessions.data} />
      )}
      <ActionOutcome action={action} />
      <ProblemAlert error={sessions.error} />
      {sessions.data !== null && sessions.data.length > 0 && (
        <button type="button" className="button danger" disabled={action.busy} onClick={revokeAll}>
          Sign out all sessions of this user
        </button>
      )}
    </div>
  );
}
