/** The administrator's home widget from break-glass (issue 14): emergency access still open. */
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { HomePanel } from '../../shared/HomePanel';
import { Link } from '../../shared/router';
import { useResource } from '../../shared/useResource';
import { decodeGrants, grantListPath, grantPagePath, grantPatientName } from './breakGlassApi';

/** Active grants (the caller's and other administrators'), each by patient, until when. */
export function OpenGrantsHome() {
  const grants = useResource('home:open-grants', () =>
    sessionStore.api('GET', grantListPath('active'), decodeGrants),
  );
  const list = grants.data ?? [];
  return (
    <HomePanel
      title="Open emergency access"
      testId="open-grants"
      loading={grants.data === null}
      loadingText="Loading emergency access…"
      error={grants.error}
      empty={grants.data && list.length === 0 ? 'No emergency access is open.' : null}
      more={{ to: '/break-glass', label: 'Request or review emergency access' }}
    >
      <ul className="plain-list" aria-label="Open emergency access">
        {list.map((g) => (
          <li key={g.id}>
            <Link to={grantPagePath(g.id)}>{grantPatientName(g)}</Link>{' '}
            <span className="subtle">
              MRN {g.patientMrn}, {g.organizationName} · {g.adminDisplayName} · until{' '}
              {formatDateTime(g.expiresAt)}
            </span>
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}
