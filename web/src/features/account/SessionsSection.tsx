import { useCallback, useEffect, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ignoreBody } from '../../shared/api';
import { ProblemAlert, SuccessNote } from '../../shared/forms';
import { decodeRevokedCount, decodeSessions, type SessionSummary } from './accountApi';
import { SessionList } from './SessionList';

/** A7: the user's sessions, with "sign out" for one or for all the others. */
export function SessionsSection() {
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setSessions(await sessionStore.api('GET', '/api/account/sessions', decodeSessions));
    } catch (err) {
      setError(err);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const act = async (busy: string, action: () => Promise<string>) => {
    setBusyId(busy);
    setError(null);
    setNote(null);
    try {
      setNote(await action());
      await load();
    } catch (err) {
      setError(err);
    } finally {
      setBusyId(null);
    }
  };

  const revokeOne = (session: SessionSummary) =>
    void act(session.id, async () => {
      await sessionStore.api(
        'DELETE',
        `/api/account/sessions/${encodeURIComponent(session.id)}`,
        ignoreBody,
      );
      return 'The session was signed out.';
    });

  const revokeOthers = () =>
    void act('others', async () => {
      const revoked = await sessionStore.api(
        'DELETE',
        '/api/account/sessions',
        decodeRevokedCount('revoked'),
      );
      return `${revoked} other ${revoked === 1 ? 'session was' : 'sessions were'} signed out.`;
    });

  return (
    <section className="panel stack" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      {note && <SuccessNote>{note}</SuccessNote>}
      <ProblemAlert error={error} />
      {sessions === null ? (
        !error && <p role="status">Loading sessions…</p>
      ) : (
        <SessionList sessions={sessions} onRevoke={revokeOne} busyId={busyId} />
      )}
      {sessions !== null && sessions.some((s) => !s.current) && (
        <button
          type="button"
          className="button secondary"
          disabled={busyId === 'others'}
          onClick={revokeOthers}
        >
          Sign out all other sessions
        </button>
      )}
    </section>
  );
}
