import { saveBlob } from '../../shared/download';
import { useState } from 'react';
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { ActionButton, ActionOutcome, ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { Page } from '../../shared/Page';
import { PageNav, useCursorPages } from '../../shared/paging';
import { useResource } from '../../shared/useResource';
import { AuditFilterForm } from './AuditFilterForm';
import { ChainVerification } from './ChainVerification';
import {
  EXPORT_ROW_CAP,
  auditExportPath,
  auditSearchPath,
  decodeAuditPage,
  targetKind,
  type AuditEntry,
  type AuditFilters,
} from './auditApi';

/** Administrators: search the audit log, page to older events, and verify the hash chain. */
export function AuditLogPage() {
  const [formFilters, setFormFilters] = useState<AuditFilters>({});
  // "Events about this" on a row pins its target: searched by id, shown by name.
  const [about, setAbout] = useState<PinnedTarget | null>(null);
  const pages = useCursorPages();
  const filters: AuditFilters = about
    ? { ...formFilters, targetType: about.type, targetId: about.id }
    : formFilters;
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
            setFormFilters(next);
          }}
        />
        {about && (
          <p className="pinned-filter" role="status">
            Showing events about <strong>{about.name}</strong> ({targetKind(about.type)}).{' '}
            <button
              type="button"
              className="link-button"
              onClick={() => {
                pages.first();
                setAbout(null);
              }}
            >
              Show all targets
            </button>
          </p>
        )}
        <ProblemAlert error={page.error} />
        <CsvDownload filters={filters} />
        {page.data === null ? (
          !page.error && <p role="status">Loading events…</p>
        ) : page.data.events.length === 0 ? (
          <p>{pages.depth > 0 ? 'No older events.' : 'No events match these filters.'}</p>
        ) : (
          <AuditTable
            events={page.data.events}
            pinned={about}
            onPin={(target) => {
              pages.first();
              setAbout(target);
            }}
          />
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

/**
 * "Download CSV" of the filters in force: fetched with the session's cookies (after a
 * round-trip through sessionStore.api, which refreshes an expired access token) and saved
 * through a Blob and an object URL, as the account export does. The export is audited.
 */
function CsvDownload({ filters }: { filters: AuditFilters }) {
  const action = useAction();
  const download = () =>
    void action.act(async () => {
      await sessionStore.recheck();
      const res = await fetch(auditExportPath(filters), { credentials: 'same-origin' });
      if (!res.ok) throw new Error(`The export failed (HTTP ${res.status}). Try again.`);
      const truncated = res.headers.get('haven-export-truncated') === 'true';
      const rows = res.headers.get('haven-export-rows') ?? '0';
      saveBlob(await res.blob(), fileNameOf(res.headers.get('content-disposition')));
      return truncated
        ? `Downloaded the newest ${rows} events; older matches were left out. Narrow the filters for the rest.`
        : `Downloaded ${rows} events.`;
    });
  return (
    <div className="stack">
      <p className="note">
        The CSV holds the events matching the filters above, newest first, at most{' '}
        {EXPORT_ROW_CAP.toLocaleString()}. Downloading it is recorded in the audit log.
      </p>
      <ActionOutcome action={action} />
      <ActionButton busy={action.busy} onClick={download} className="button start">
        Download CSV
      </ActionButton>
    </div>
  );
}

function fileNameOf(disposition: string | null): string {
  const name = /filename="([^"]+)"/.exec(disposition ?? '')?.[1];
  return name ?? 'haven-audit.csv';
}

/** A target chosen from a row: its id goes to the server, its name to the person. */
interface PinnedTarget {
  readonly type: string;
  readonly id: string;
  readonly name: string;
}

function AuditTable({
  events,
  pinned,
  onPin,
}: {
  events: AuditEntry[];
  pinned: PinnedTarget | null;
  onPin: (target: PinnedTarget) => void;
}) {
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
              <td data-label="Actor">{actorName(e)}</td>
              <td data-label="Action" className="mono nowrap">
                {e.action}
              </td>
              <td data-label="Target">
                <TargetCell entry={e} pinned={pinned} onPin={onPin} />
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

/** Who acted, in words: a person's name, or what kind of actor it was. */
function actorName(e: AuditEntry): string {
  if (e.actorDisplayName) return e.actorDisplayName;
  if (e.actorType === 'system') return 'Haven (automatic)';
  if (e.actorType === 'client') return 'API client';
  if (e.actorType === 'user') return 'A deleted account';
  return e.actorType;
}

/**
 * What the event is about: the name the server gave for this reader (a patient's name only to
 * whoever may open the record), or the kind of thing; the stored id is kept for a "details"
 * disclosure, for whoever must match it against another system.
 */
function TargetCell({
  entry,
  pinned,
  onPin,
}: {
  entry: AuditEntry;
  pinned: PinnedTarget | null;
  onPin: (target: PinnedTarget) => void;
}) {
  const { targetType: type, targetId: id } = entry;
  if (type === null) return <>—</>;
  const kind = targetKind(type);
  const name = entry.targetName ?? null;
  const isPinned = pinned !== null && pinned.type === type && pinned.id === id;
  return (
    <div className="stack tight">
      <span>
        {name ?? kind}
        {name && <span className="subtle"> · {kind}</span>}
      </span>
      {id !== null && !isPinned && (
        <button
          type="button"
          className="link-button"
          onClick={() => onPin({ type, id, name: name ?? kind })}
        >
          Events about this {kind.toLowerCase()}
          <span className="visually-hidden">: {name ?? id}</span>
        </button>
      )}
      {id !== null && (
        <details>
          <summary>Stored id</summary>
          <span className="mono subtle id">{id}</span>
        </details>
      )}
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
  // A detail with no value (`since: null`) says nothing: it is left out.
  const entries = Object.entries(details as Record<string, unknown>).filter(
    ([, value]) => value !== null && value !== undefined,
  );
  if (entries.length === 0 && !requestId) return <>—</>;
  return (
    <dl className="facts compact">
      {entries.map(([key, value]) => (
        <div key={key} className="fact">
          <dt>{detailName(key)}</dt>
          <dd>{detailValue(value)}</dd>
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

/** A detail's key in words: `studyId` → "study id", `status_class` → "status class". */
const detailName = (key: string): string =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();

function detailValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return JSON.stringify(value);
}
