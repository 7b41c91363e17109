import { sessionStore } from '../../auth/sessionStore';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { ActionOutcome, ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { useResource } from '../../shared/useResource';
import { ConsentGateStatus, ConsentRecordList, decodeConsentAnswer, kindLabel } from '../patients';
import { decodePortalConsents } from './portalApi';

/** The current consent documents: read, give or withdraw consent; the earlier records below. */
export function PortalConsentsSection() {
  const consents = useResource('consents', () =>
    sessionStore.api('GET', '/api/portal/consents', decodePortalConsents),
  );
  const action = useAction(consents.reload);
  const busy = action.busy;

  /** Gives or withdraws a consent, then says so. */
  const record = (path: string, body: unknown, done: string) =>
    void action.act(async () => {
      await sessionStore.api('POST', path, decodeConsentAnswer, body);
      return done;
    });

  const data = consents.data;
  return (
    <section className="panel stack" aria-labelledby="portal-consents-title">
      <h2 id="portal-consents-title">My consents</h2>
      <ProblemAlert error={consents.error} />
      <ActionOutcome action={action} />
      {data === null ? (
        !consents.error && <p role="status">Loading consents…</p>
      ) : (
        <>
          <ConsentGateStatus gate={data.gate} audience="patient" />
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
                      {d.required ? ' · required by your care team' : ' · optional'}
                    </p>
                    <details>
                      <summary>Read the document</summary>
                      <p className="note-body">{d.body}</p>
                    </details>
                    {live ? (
                      <ConfirmAction
                        label="Withdraw consent"
                        // The name begins with the words on the button (WCAG 2.5.3, label in name).
                        ariaLabel={`Withdraw consent to ${d.title}`}
                        consequence={
                          d.required
                            ? `Withdraw your consent to ${d.title}? Your care team requires this consent, so they will ask you for it again. You can consent again here at any time.`
                            : `Withdraw your consent to ${d.title}? You can consent again here at any time.`
                        }
                        confirmLabel="Yes, withdraw my consent"
                        busy={busy}
                        onConfirm={() =>
                          record(
                            `/api/portal/consents/${encodeURIComponent(live.id)}/withdraw`,
                            {},
                            `Your consent to ${d.title} was withdrawn.`,
                          )
                        }
                      />
                    ) : (
                      <button
                        type="button"
                        className="button"
                        disabled={busy}
                        aria-label={`I consent to ${d.title}`}
                        onClick={() =>
                          record(
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
          <h3>History of my consents</h3>
          <ConsentRecordList consents={data.consents} />
        </>
      )}
    </section>
  );
}
