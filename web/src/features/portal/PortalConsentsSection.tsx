import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { ProblemAlert, SuccessNote } from '../../shared/forms';
import { useResource } from '../../shared/useResource';
import { decodeConsentAnswer, kindLabel } from '../patients/consentsApi';
import { ConsentGateStatus, ConsentRecordList } from '../patients/ConsentViews';
import { decodePortalConsents } from './portalApi';

/** The current consent documents: read, give or withdraw consent; the earlier records below. */
export function PortalConsentsSection() {
  const consents = useResource('consents', () =>
    sessionStore.api('GET', '/api/portal/consents', decodePortalConsents),
  );
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [note, setNote] = useState<string | null>(null);

  const act = async (busy: string, path: string, body: unknown, done: string) => {
    setBusyId(busy);
    setError(null);
    setNote(null);
    try {
      await sessionStore.api('POST', path, decodeConsentAnswer, body);
      setNote(done);
      consents.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusyId(null);
    }
  };

  const data = consents.data;
  return (
    <section className="panel stack" aria-labelledby="portal-consents-title">
      <h2 id="portal-consents-title">My consents</h2>
      <ProblemAlert error={consents.error} />
      {note && <SuccessNote>{note}</SuccessNote>}
      <ProblemAlert error={error} />
      {data === null ? (
        !consents.error && <p role="status">Loading consents…</p>
      ) : (
        <>
          <ConsentGateStatus gate={data.gate} />
          {data.documents.length === 0 ? (
            <p>There are no consent documents to review.</p>
          ) : (
            <ul className="cards" aria-label="Consent documents">
              {data.documents.map((d) => {
                const live = data.consents.find((c) => c.documentId === d.id && !c.withdrawnAt);
                return (
                  <li key={d.id} className="card">
                    <p className="card-title">
                      {d.title}
                      {live ? (
                        <span className="badge">Consent given</span>
                      ) : (
                        <span className="badge badge-muted">No consent</span>
                      )}
                    </p>
                    <p className="note">
                      {kindLabel(d.kind)}, version {d.version}
                      {d.required ? ' · required' : ' · optional'}
                    </p>
                    <details>
                      <summary>Read the document</summary>
                      <p className="note-body">{d.body}</p>
                    </details>
                    {live ? (
                      <button
                        type="button"
                        className="button danger"
                        disabled={busyId !== null}
                        aria-label={`Withdraw my consent to ${d.title}`}
                        onClick={() =>
                          void act(
                            live.id,
                            `/api/portal/consents/${encodeURIComponent(live.id)}/withdraw`,
                            {},
                            `Your consent to ${d.title} was withdrawn.`,
                          )
                        }
                      >
                        Withdraw consent
                      </button>
                    ) : (
                      <button
                        type="button"
                        className="button"
                        disabled={busyId !== null}
                        aria-label={`I consent to ${d.title}`}
                        onClick={() =>
                          void act(
                            d.id,
                            '/api/portal/consents',
                            { documentId: d.id },
                            `You consented to ${d.title}.`,
                          )
                        }
                      >
                        I consent
                      </button>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
          <h3>History</h3>
          <ConsentRecordList consents={data.consents} />
        </>
      )}
    </section>
  );
}
