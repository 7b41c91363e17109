import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ProblemAlert } from '../../shared/forms';
import { Page } from '../../shared/Page';
import { PageNav, useCursorPages } from '../../shared/paging';
import { useResource } from '../../shared/useResource';
import { AuditFilterForm } from './AuditFilterForm';
import { ChainVerification } from './ChainVerification';
import { auditSearchPath, decodeAuditPage, type AuditEntry, type AuditFilters } from './auditApi';

/** Administrators: search the audit log, page to older events, and verify the hash chain. */
export function AuditLogPage() {
  const [filters, setFilters] = useState<AuditFilters>({});
  const pages = useCursorPages();
  const path = auditSearchPath(filters, pages.cursor);
  const page = useResource(path, () => sessionStore.api('GET', path, decodeAuditPage));

  return (
    <Page title="Audit log">
      <ChainVerification />
      <section className="panel stack" aria-labelledby="audit-search-title">
        <h2 id="audit-search-title">Search events</h2>
        <AuditFilterForm
          onSearch={(next) => {
            pages.first();
            setFilters(next);
          }}
        />
        <ProblemAlert error={page.error} />
        {page.data === null ? (
          !page.error && <p role="status">Loading events…</p>
        ) : page.data.events.length === 0 ? (
          <p>{pages.depth > 0 ? 'No older events.' : 'No events match these filters.'}</p>
        ) : (
          <AuditTable events={page.data.events} />
        )}
        <PageNav
          label="Pages of events"
          pages={pages}
          nextCursor={page.data?.nextBefore}
          firstLabel="Newest"
          previousLabel="Newer"
          nextLabel="Older"
        />
      </section>
    </Page>
  );
}

function AuditTable({ events }: { events: AuditEntry[] }) {
  return (
    <div className="table-wrap" tabIndex={0} role="region" aria-label="Audit events">
      <table className="table stacked">
        <caption className="visually-hidden">Audit events, newest first</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={e.id}>
              <td data-label="#" className="mono">
                {e.seq}
              </td>
              <td data-label="When">{formatDateTime(e.occurredAt)}</td>
              <td data-label="Actor">
                {e.actorDisplayName ?? e.actorType}
                {e.actorId && <span className="mono subtle id"> {e.actorId}</span>}
              </td>
              <td data-label="Action" className="mono nowrap">
                {e.action}
              </td>
              <td data-label="Target">
                {e.targetType ?? '—'}
                {e.targetId && <span className="mono subtle id"> {e.targetId}</span>}
              </td>
              <td data-label="Outcome" data-outcome={e.outcome}>
                {e.outcome}
              </td>
              <td data-label="Details">
                <DetailList details={e.details} requestId={e.requestId} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DetailList({
  details,
  requestId,
}: {
  details: AuditEntry['details'];
  requestId: string | null;
}) {
  const entries: Array<[string, unknown]> = Object.entries(details);
  if (entries.length === 0 && !requestId) return <>—</>;
  return (
    <dl className="facts compact">
      {entries.map(([key, value]) => (
        <div key={key} className="fact">
          <dt>{key}</dt>
          <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
        </div>
      ))}
      {requestId && (
        <div className="fact">
          <dt>request</dt>
          <dd className="mono">{requestId}</dd>
        </div>
      )}
    </dl>
  );
}
