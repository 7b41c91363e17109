/**
 * Files of one place: my own uploads (the "My files" page) or a patient record's (the
 * "Documents" section of the patient page). Storage used, the uploader, and the files with
 * their malware-check status, download and delete.
 */
import { useEffect, useState } from 'react';
import type { ActiveSession } from '../../auth/sessionStore';
import { hasScope } from '../../auth/useAuth';
import { formatBytes } from '../../shared/bytes';
import { sessionStore } from '../../auth/sessionStore';
import { ConfirmAction } from '../../shared/ConfirmAction';
import { formatDateTime } from '../../shared/dates';
import { ActionOutcome, ProblemAlert } from '../../shared/forms';
import { useAction } from '../../shared/submission';
import { SelectField } from '../../shared/fields';
import { showToast } from '../../shared/Toast';
import { useResource } from '../../shared/useResource';
import { BUCKETS_PATH, decodeBuckets } from '../buckets';
import { FileUploader } from './FileUploader';
import {
  decodeDownloadLink,
  decodeFiles,
  decodeOpenUploads,
  decodeUsage,
  describeDownloadProblem,
  filePath,
  filesPath,
  ignoreBody,
  type FilesUsage,
  type StoredFile,
} from './filesApi';

/** While a scanner checks new files, the list is read again this often. */
const SCAN_POLL_MS = 5000;
/** The bucket choice that means "no owned bucket": the system default storage. */
const DEFAULT_STORAGE = 'default';

interface FilesSectionProps {
  session: ActiveSession;
  /** A patient's record; absent: the signed-in person's own uploads. */
  patientId?: string | undefined;
  /** False when the record is read-only (archived): the list without the uploader. */
  canUpload?: boolean;
  /** The section heading ("Documents" on the patient page). */
  title: string;
}

export function FilesSection({ session, patientId, canUpload = true, title }: FilesSectionProps) {
  const titleId = `files-${patientId ?? 'own'}-title`;
  const key = patientId ?? 'own';
  const files = useResource(key, () => sessionStore.api('GET', filesPath(patientId), decodeFiles));
  const usage = useResource('usage', () =>
    sessionStore.api('GET', '/api/files/usage', decodeUsage),
  );
  const writable = canUpload && hasScope(session, 'files:write');
  const open = useResource(writable ? `uploads:${key}` : null, () =>
    sessionStore.api('GET', '/api/files/uploads', decodeOpenUploads),
  );
  const refresh = () => {
    files.reload();
    usage.reload();
    open.reload();
  };

  const scanning =
    usage.data?.scanner === 'configured' && files.data?.some((f) => f.status === 'scanning');
  const reloadFiles = files.reload;
  useEffect(() => {
    if (!scanning) return;
    // A6: polling alone must not keep an idle session alive (a reload after the access token
    // expired would refresh the session, again and again while a file stays in the scan). Once
    // the token is about to expire, only the person's own next action renews it, and the poll
    // goes on from there.
    const timer = setInterval(() => {
      const state = sessionStore.getState();
      const accessExpiresAt = state.status === 'signed_in' ? state.session.accessExpiresAt : null;
      if ((accessExpiresAt ?? 0) > Date.now() + SCAN_POLL_MS) reloadFiles();
    }, SCAN_POLL_MS);
    return () => clearInterval(timer);
  }, [scanning, reloadFiles]);

  // Owned buckets the person may upload into; without any, the choice is not offered.
  const buckets = useResource(writable ? 'buckets' : null, () =>
    sessionStore.api('GET', BUCKETS_PATH, decodeBuckets),
  );
  const usable = (buckets.data ?? []).filter((b) => b.canUse && !b.isDefault);
  const [bucketChoice, setBucketChoice] = useState(DEFAULT_STORAGE);
  const bucket = usable.find((b) => b.id === bucketChoice);

  const unfinished = (open.data ?? []).filter((u) => u.patientId === (patientId ?? null));
  return (
    <section className="panel stack" aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      <ProblemAlert error={usage.error} />
      {usage.data && <UsageSummary usage={usage.data} />}
      {writable && usable.length > 0 && (
        <SelectField
          label="Store new uploads in"
          choices={[
            { value: DEFAULT_STORAGE, label: 'Default storage' },
            ...usable.map((b) => ({ value: b.id, label: b.name ?? 'Unnamed bucket' })),
          ]}
          value={bucket?.id ?? DEFAULT_STORAGE}
          onValueChange={setBucketChoice}
          error={undefined}
        />
      )}
      {writable && usage.data && (
        <FileUploader
          bucket={bucket}
          userId={session.user.id}
          patientId={patientId}
          usage={usage.data}
          unfinished={unfinished}
          onChanged={refresh}
        />
      )}
      <ProblemAlert error={files.error} />
      {files.data === null ? (
        !files.error && <p role="status">Loading files…</p>
      ) : (
        <FileHistory files={files.data} showPatient={patientId === undefined} onChanged={refresh} />
      )}
    </section>
  );
}

function UsageSummary({ usage }: { usage: FilesUsage }) {
  return (
    <>
      <p data-testid="files-usage">
        {formatBytes(usage.usedBytes)} of {formatBytes(usage.quotaBytes)} used.
      </p>
      {usage.scanner === 'not_configured' && (
        <p className="banner" role="note">
          No malware scanner is configured: uploads are kept, but nobody can download them until an
          administrator sets one up and they have been checked.
        </p>
      )}
    </>
  );
}

function FileHistory({
  files,
  showPatient,
  onChanged,
}: {
  files: readonly StoredFile[];
  showPatient: boolean;
  onChanged: () => void;
}) {
  if (files.length === 0) return <p>No files yet.</p>;
  return (
    <ul className="cards" aria-label="Files">
      {files.map((file) => (
        <FileItem key={file.id} file={file} showPatient={showPatient} onChanged={onChanged} />
      ))}
    </ul>
  );
}

function FileItem({
  file,
  showPatient,
  onChanged,
}: {
  file: StoredFile;
  showPatient: boolean;
  onChanged: () => void;
}) {
  const [downloadProblem, setDownloadProblem] = useState<string | null>(null);
  const action = useAction();
  const remove = useAction(onChanged);

  const download = () =>
    action.act(async () => {
      setDownloadProblem(null);
      try {
        const link = await sessionStore.api(
          'POST',
          filePath(file.id, '/download-link'),
          decodeDownloadLink,
          {},
        );
        // Only this origin's content route: the answer is data, not a place to send people.
        const target = new URL(link.url, window.location.origin);
        if (
          target.origin !== window.location.origin ||
          !target.pathname.startsWith('/api/files/')
        ) {
          throw new Error('unexpected download link');
        }
        window.location.assign(target.href);
      } catch (err) {
        const notReady = describeDownloadProblem(err);
        if (notReady === null) throw err;
        setDownloadProblem(notReady);
      }
    });

  const statusLabel =
    file.status === 'clean'
      ? 'Checked: no malware found'
      : file.status === 'scanning'
        ? 'Not checked yet'
        : 'Quarantined';
  return (
    <li className="card" data-testid="file">
      <p className="card-title">
        {file.name}
        <span className={file.status === 'clean' ? 'badge' : 'badge badge-muted'}>
          {statusLabel}
        </span>
      </p>
      <p className="meta">
        {file.typeLabel} · {formatBytes(file.size)} · uploaded by {file.uploadedBy.name} on{' '}
        {formatDateTime(file.createdAt)}
        {showPatient && file.patient && <> · record of {file.patient.name}</>}
      </p>
      {file.statusText && <p data-testid="file-status">{file.statusText}</p>}
      {downloadProblem && (
        <p className="error" role="alert">
          {downloadProblem}
        </p>
      )}
      <ActionOutcome action={action} />
      <ActionOutcome action={remove} />
      <div className="actions">
        {file.downloadable && (
          <button
            type="button"
            className="button"
            aria-label={`Download ${file.name}`}
            disabled={action.busy}
            aria-busy={action.busy}
            onClick={() => void download()}
          >
            Download
          </button>
        )}
        {file.canDelete && (
          <ConfirmAction
            label="Delete"
            ariaLabel={`Delete ${file.name}`}
            consequence={`Delete "${file.name}"? Nobody will be able to download it any more.`}
            confirmLabel="Yes, delete"
            busy={remove.busy}
            onConfirm={() =>
              void remove.act(async () => {
                await sessionStore.api('DELETE', filePath(file.id), ignoreBody);
                // Said in the page's toast region: this card, and any note in it, goes away.
                showToast(`"${file.name}" was deleted.`);
              })
            }
          />
        )}
      </div>
    </li>
  );
}
