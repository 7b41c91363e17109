/** The administrator's home widget from organizations (issue 14): the organizations and their size. */
import { sessionStore } from '../../auth/sessionStore';
import { HomePanel } from '../../shared/HomePanel';
import { useResource } from '../../shared/useResource';
import { decodeOrganizationPage, organizationListPath } from './organizationsApi';

const SHOWN = 5;

export function OrganizationsHome() {
  const page = useResource('home:organizations', () =>
    sessionStore.api('GET', organizationListPath('', null), decodeOrganizationPage),
  );
  const list = page.data?.organizations ?? [];
  return (
    <HomePanel
      title="Organizations"
      testId="organizations"
      loading={page.data === null}
      loadingText="Loading organizations…"
      error={page.error}
      empty={page.data && list.length === 0 ? 'No organizations yet.' : null}
      more={{ to: '/admin/organizations', label: 'See every organization' }}
    >
      <ul className="plain-list" aria-label="Organizations">
        {list.slice(0, SHOWN).map((o) => (
          <li key={o.id}>
            {o.name}{' '}
            <span className="subtle">
              {o.memberCount === 1 ? '1 member' : `${o.memberCount} members`}
            </span>
          </li>
        ))}
      </ul>
    </HomePanel>
  );
}
