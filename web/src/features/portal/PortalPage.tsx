import { sessionStore } from '../../auth/sessionStore';
import { hasCode } from '../../shared/api';
import { ProblemAlert } from '../../shared/forms';
import { Page } from '../../shared/Page';
import { useResource } from '../../shared/useResource';
import { DataExportSection } from '../account';
import { RecordView, SharedNoteList } from '../patients';
import { AccessLogSection } from './AccessLogSection';
import { PortalConsentsSection } from './PortalConsentsSection';
import { decodePortalNotes, decodePortalRecord, describeAction } from './portalApi';

/** The patient's own record: demographics, consents, shared notes, who accessed it, and an export. */
export function PortalPage() {
  const record = useResource('record', () =>
    sessionStore.api('GET', '/api/portal/record', decodePortalRecord),
  );

  if (hasCode(record.error, 'NOT_FOUND')) {
    return (
      <Page title="My record">
        <p>
          No patient record is linked to your account yet. Your care team can send you a portal
          invitation.
        </p>
        <DataExportSection describeAccess={describeAction} />
      </Page>
    );
  }

  return (
    <Page title="My record">
      <ProblemAlert error={record.error} />
      {record.data === null ? (
        !record.error && <p role="status">Loading your record…</p>
      ) : (
        <>
          <RecordView record={record.data} titleId="portal-record-title" />
          <PortalConsentsSection />
          <SharedNotesSection />
          <AccessLogSection />
        </>
      )}
      <DataExportSection describeAccess={describeAction} />
    </Page>
  );
}

function SharedNotesSection() {
  const notes = useResource('notes', () =>
    sessionStore.api('GET', '/api/portal/notes', decodePortalNotes),
  );
  return (
    <section className="panel stack" aria-labelledby="portal-notes-title">
      <h2 id="portal-notes-title">Notes from your care team</h2>
      <ProblemAlert error={notes.error} />
      {notes.data === null ? (
        !notes.error && <p role="status">Loading notes…</p>
      ) : (
        <SharedNoteList notes={notes.data} />
      )}
    </section>
  );
}
