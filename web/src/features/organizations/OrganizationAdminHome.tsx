/**
 * The organization administrator's home widget (issue 14): the active organization's members
 * and the invitations not yet accepted.
 */
import { sessionStore } from '../../auth/sessionStore';
import { formatDateTime } from '../../shared/dates';
import { HomePanel } from '../../shared/HomePanel';
import { useResource } from '../../shared/useResource';
import { roleLabel } from '../../shared/roles';
import { useOrganizations } from './organizationStore';
import { decodeMembers, membersPath } from './organizationsApi';

const SHOWN = 5;

export function OrganizationAdminHome() {
  const organizations = useOrganizations();
  const active = organizations.status === 'ready' ? organizations.active : null;
  const members = useResource(active && `${active.id}:home-members`, () =>
    sessionStore.api('GET', membersPath(active?.id ?? ''), decodeMembers),
  );
  const list = members.data ?? [];
  const current = list.filter((m) => m.status === 'active');
  const invited = list.filter((m) => m.status === 'invited');
  const loading = members.data === null;
  return (
    <>
      <HomePanel
        title={active ? `Members of ${active.name}` : 'Members'}
        testId="members"
        loading={loading}
        loadingText="Loading members…"
        error={members.error}
        more={{ to: '/organization/members', label: 'See everyone in the organization' }}
      >
        <p>
          {current.length === 1 ? '1 active member' : `${current.length} active members`}
          {list.length > current.length + invited.length
            ? `, ${list.length - current.length - invited.length} disabled`
            : ''}
          .
        </p>
      </HomePanel>
      <HomePanel
        title="Pending invitations"
        testId="pending-invitations"
        loading={loading}
        loadingText="Loading invitations…"
        error={members.error}
        empty={!loading && invited.length === 0 ? 'No invitations are waiting.' : null}
        more={{
          to: '/organization/members',
          label: invited.length > SHOWN ? `All ${invited.length} invitations` : 'Invite someone',
        }}
      >
        <ul className="plain-list" aria-label="Pending invitations">
          {invited.slice(0, SHOWN).map((m) => (
            <li key={m.userId}>
              {m.displayName}{' '}
              <span className="subtle">
                {m.email} · {roleLabel({ roles: [], organizationRole: m.role })} · invited{' '}
                {formatDateTime(m.addedAt)}
              </span>
            </li>
          ))}
        </ul>
      </HomePanel>
    </>
  );
}
