import { useEffect, useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { hasCode } from '../../shared/api';
import { ProblemAlert } from '../../shared/forms';
import { Page } from '../../shared/Page';
import { Link, navigate } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { ConsentRecordList, RecordView, SharedNoteList, fullName } from '../patients';
import { CountdownBanner } from './CountdownBanner';
import { decodeGrantRecord, grantRecordPath } from './breakGlassApi';

/**
 * The record opened by a break-glass grant: what the patient sees in the portal, read-only (no
 * forms, no actions), under a banner that counts down the grant. At expiry the record leaves
 * the screen. Loaded once: every load is a patient.read event the patient sees.
 */
export function BreakGlassRecordPage({ grantId }: { grantId: string }) {
  const loaded = useResource(grantId, () =>
    sessionStore.api('GET', grantRecordPath(grantId), decodeGrantRecord),
  );
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    if (expired) navigate('/break-glass?ended=expired', { replace: true });
  }, [expired]);

  const data = expired ? null : loaded.data;
  if (!data) {
    const inactive = hasCode(loaded.error, 'BREAK_GLASS_INACTIVE');
    const missing = hasCode(loaded.error, 'NOT_FOUND');
    return (
      <Page title="Break-glass record">
        {loaded.error !== null && (
          <>
            <ProblemAlert error={loaded.error} />
            <p>
              {inactive
                ? 'This grant has ended. '
                : missing
                  ? 'There is no such grant of yours. '
                  : ''}
              <Link to="/break-glass">Request new access</Link>
            </p>
          </>
        )}
        {loaded.error === null && !expired && <p role="status">Opening the record…</p>}
      </Page>
    );
  }

  const { grant, record, consents, notes } = data;
  return (
    <Page title={`Break-glass: ${fullName(record.patient)}`}>
      <CountdownBanner
        grant={grant}
        onExpired={() => setExpired(true)}
        onLeave={() => navigate('/break-glass?ended=left', { replace: true })}
      />
      <div className="read-only stack" data-testid="break-glass-record">
        <RecordView record={record} titleId="bg-record-title" />
        <section className="panel stack" aria-labelledby="bg-consents-title">
          <h2 id="bg-consents-title">Consents</h2>
          <ConsentRecordList consents={consents} />
        </section>
        <section className="panel stack" aria-labelledby="bg-notes-title">
          <h2 id="bg-notes-title">Shared notes</h2>
          <SharedNoteList notes={notes} />
        </section>
      </div>
    </Page>
  );
}
