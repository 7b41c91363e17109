import { useCallback, useEffect, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert, SuccessNote } from '../../shared/forms';
import { decodeRevokedCount, decodeSessions, type SessionSummary } from '../account/accountApi';
import { SessionList } from '../account/SessionList';
import { userPath } from './adminApi';

/** A user's sessions, for an administrator, with "sign out everywhere". */
export function UserSessions({ userId }: { userId: string }) {
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setSessions(await sessionStore.api('GET', userPath(userId, 'sessions'), decodeSessions));
    } catch (err) {
      setError(err);
    }
  }, [userId]);

  useEffect(() => {
    void load();
  }, [load]);

  const revokeAll = async () => {
    setBusy(true);
    setError(null);
    try {
      const revoked = await sessionStore.api(
        'DELETE',
        userPath(userId, 'sessions'),
        decodeRevokedCount('revoked'),
      );
      setNote(`${revoked} ${revoked === 1 ? 'session was' : 'sessions were'} signed out.`);
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="stack">
      <h3>Sessions</h3>
      {sessions === null ? (
        !error && <p role="status">Loading sessions…</p>
      ) : (
        <SessionList sessions={sessions} />
      )}
      {note && <SuccessNote>{note}</SuccessNote>}
      <ProblemAlert error={error} />
      {sessions !== null && sessions.length > 0 && (
        <button
          type="button"
          className="button danger"
          disabled={busy}
          onClick={() => void revokeAll()}
        >
          Sign out all sessions of this user
        </button>
      )}
    </div>
  );
}
