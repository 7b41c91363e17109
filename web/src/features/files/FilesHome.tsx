/** The files feature's home widget (issue 14): uploads the server holds unfinished. */
import { sessionStore } from '../../auth/sessionStore';
import { formatBytes } from '../../shared/bytes';
import { formatDateTime } from '../../shared/dates';
import { HomePanel } from '../../shared/HomePanel';
import { useResource } from '../../shared/useResource';
import { decodeOpenUploads } from './filesApi';

/** The caller's unfinished uploads: where they stopped and until when they are kept. */
export function UnfinishedUploadsHome() {
  const open = useResource('home:uploads', () =>
    sessionStore.api('GET', '/api/files/uploads', decodeOpenUploads),
  );
  const uploads = open.data ?? [];
  return (
    <HomePanel
      title="Unfinished uploads"
      testId="unfinished-uploads"
      loading={open.data === null}
      loadingText="Loading your uploads…"
      error={open.error}
      empty={open.data && uploads.length === 0 ? 'No uploads are waiting to be finished.' : null}
      more={{ to: '/files', label: 'Files and uploads' }}
    >
      <ul className="plain-list" aria-label="Unfinished uploads">
        {uploads.map((u) => (
          <li key={u.id}>
            {u.name}{' '}
            <span className="subtle">
              {formatBytes(u.receivedBytes)} of {formatBytes(u.size)} received; kept until{' '}
              {formatDateTime(u.expiresAt)}
            </span>
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}
